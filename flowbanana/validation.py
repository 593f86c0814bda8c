"""Check a workflow against the catalogue: every problem at once, each naming the node and what to do."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from .catalogue import Catalogue
from .errors import Problem, WorkflowInvalid
from .graph import build_graph, cycles
from .node_api import NodeType, resolve_path, within
from .porttypes import compatible
from .subgraph import Flat, Subgraphs
from .sweep import problems as sweep_problems
from .templates import TemplateError, template_fields
from .words import CLI, Words
from .workflow import Node, Workflow


def validate(workflow: Workflow, catalogue: Catalogue, read_roots: tuple[Path, ...] = (), *,
             warnings: bool = False, words: Words = CLI) -> list[Problem]:
    """Every problem with `workflow`, its subgraphs included (their nodes named by path, `sub/inner`).

    Subgraph files are read only inside the workflow's folder and `read_roots`, as a run reads. With
    `warnings`, the list also holds what node checks warn about (severity "warning"), which does not make
    the workflow invalid. Problems name what to set in the front end's `words`."""
    return _expand_and_validate(workflow, catalogue, read_roots, warnings, words)[1]


def check(workflow: Workflow, catalogue: Catalogue, read_roots: tuple[Path, ...] = (), words: Words = CLI) -> Flat:
    """The workflow expanded, ready to run; or WorkflowInvalid listing every problem."""
    flat, problems = _expand_and_validate(workflow, catalogue, read_roots, False, words)
    if problems:
        raise WorkflowInvalid(problems)
    return flat


def _expand_and_validate(workflow: Workflow, catalogue: Catalogue, read_roots: tuple[Path, ...],
                         warnings: bool, words: Words) -> tuple[Flat, list[Problem]]:
    flat, problems = Subgraphs(catalogue, read_roots, words).expand(workflow)
    nodes = flat.workflow
    missing_packs = _check_requires(nodes, catalogue, problems)
    for node_id, node in nodes.nodes.items():
        node_type = catalogue.get(node.type)
        if node_type is None:
            problems.append(_unknown_type(node_id, node.type, catalogue, missing_packs))
            continue
        if _check_params(node_id, node, node_type, problems):
            problems.extend(p for p in _node_check(node_id, node, node_type) if warnings or p.severity == "error")
            _check_files(node_id, node, node_type, node.base_dir or nodes.base_dir, read_roots, workflow, problems)
            _check_fields(node_id, node, node_type, problems)
        _check_inputs(node_id, node, node_type, nodes, catalogue, problems)
    for group in cycles(build_graph(nodes)):
        problems.append(Problem("cycle", f"nodes {' -> '.join(group + group[:1])} depend on each other in a cycle.",
                                node=group[0], hint="Remove one of the links between them."))
    if all(p.severity != "error" for p in problems):  # a sweep reads its params once they are known to make sense
        problems += sweep_problems(nodes, catalogue)
    if nodes.nodes and not any((t := catalogue.get(n.type)) and t.output and not n.disabled
                               for n in nodes.nodes.values()):
        problems.append(Problem("no_output", "no node produces a result, so running would make nothing to keep.",
                                hint="Add an image.save or image.preview node and link an image into it."))
    if not workflow.nodes:
        problems.append(Problem("empty", "the workflow has no nodes.", hint="Add nodes in the editor or the file."))
    return flat, problems


def resolved_params(node: Node, node_type: NodeType) -> dict[str, Any]:
    """Every param's value, defaults filled in and coerced; call only on a validated node."""
    return {p.name: p.check(node.params[p.name]) if p.name in node.params else p.default for p in node_type.params}


def _check_requires(workflow: Workflow, catalogue: Catalogue, problems: list[Problem]) -> dict[str, str]:
    installed = catalogue.distributions()
    missing: dict[str, str] = {}
    for dist, spec_text in workflow.requires.items():
        try:
            spec = SpecifierSet(spec_text)
        except InvalidSpecifier:
            problems.append(Problem("requires", f"requires {dist!r}: {spec_text!r} is not a version range.",
                                    hint="Write ranges like \">=0.1\" or \">=1.2,<2\"."))
            continue
        have = installed.get(dist)
        if have is None:
            missing[dist] = spec_text
            problems.append(Problem("pack_missing", f"this workflow needs the node pack {dist!r} ({spec_text}), "
                                    "which is not installed.", hint=f"Install it: pip install '{dist}{spec_text}'."))
        elif not _satisfies(have, spec):
            problems.append(Problem("pack_version", f"this workflow needs {dist} {spec_text}; {have} is installed.",
                                    hint=f"Upgrade it: pip install -U '{dist}{spec_text}'."))
    return missing


def _satisfies(version: str, spec: SpecifierSet) -> bool:
    try:
        return spec.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False


def _unknown_type(node_id: str, type_id: str, catalogue: Catalogue, missing: dict[str, str]) -> Problem:
    if missing:
        packs = ", ".join(f"{d}{s}" for d, s in missing.items())
        hint = f"It probably comes from {packs}, named in the file's \"requires\": pip install " + \
               " ".join(f"'{d}{s}'" for d, s in missing.items()) + "."
    else:
        prefix = type_id.split(".")[0]
        near = sorted(t for t in catalogue.types if t.split(".")[0] == prefix)
        hint = f"Known {prefix} nodes: {', '.join(near)}." if near else \
            "Install the node pack that provides it, or see `flowbanana nodes` for the installed types."
    return Problem("unknown_type", f"node {node_id!r} has unknown type {type_id!r}.", node=node_id, hint=hint)


def _choices_hint(node_type: NodeType) -> str:
    names = [p.name for p in node_type.params]
    return f"{node_type.id} has params: {', '.join(names)}." if names else f"{node_type.id} has no params."


def _check_params(node_id: str, node: Node, node_type: NodeType, problems: list[Problem]) -> bool:
    """Adds what is wrong with the node's params; True when they are all usable."""
    before = len(problems)
    for name, value in node.params.items():
        param = node_type.param(name)
        if param is None:
            problems.append(Problem("unknown_param", f"node {node_id!r} ({node_type.id}) has no param {name!r}.",
                                    node=node_id, port=name, hint=_choices_hint(node_type)))
            continue
        if name in node.inputs:
            continue  # a link feeds it; the literal is only a fallback shown in the editor
        try:
            param.check(value)
        except ValueError as exc:
            problems.append(Problem("bad_value", f"node {node_id!r} ({node_type.id}), param {name!r}: {exc}.",
                                    node=node_id, port=name, hint=getattr(exc, "hint", "") or _param_hint(param)))
    for param in node_type.params:
        if param.default is None and not param.optional and param.name not in node.params \
                and param.name not in node.inputs:
            problems.append(Problem("missing_param", f"node {node_id!r} ({node_type.id}) needs a value for "
                                    f"param {param.name!r}.", node=node_id, port=param.name,
                                    hint="Set it in the node, or link a value into it."))
    return len(problems) == before


def _node_check(node_id: str, node: Node, node_type: NodeType) -> list[Problem]:
    """The node type's own check of its literal params (a pack's `check=`), as problems naming the node."""
    if node_type.check is None:
        return []
    literal = {k: v for k, v in resolved_params(node, node_type).items() if k not in node.inputs}
    try:
        issues = list(node_type.check(literal))
    except Exception as exc:  # a pack's bug must not hide the other problems
        return [Problem("check_failed", f"node {node_id!r} ({node_type.id}): its check failed "
                        f"({type(exc).__name__}: {exc}).", node=node_id,
                        hint=f"Report it to the {node_type.pack.name if node_type.pack else 'node'} pack's authors.",
                        severity="warning")]
    where = f"node {node_id!r} ({node_type.id})"
    return [Problem("node_warning" if issue.warning else "node_check",
                    f"{where}, param {issue.param!r}: {issue.message}" if issue.param else f"{where}: {issue.message}",
                    node=node_id, port=issue.param, hint=issue.hint,
                    severity="warning" if issue.warning else "error") for issue in issues]


def _check_files(node_id: str, node: Node, node_type: NodeType, base_dir: Path, read_roots: tuple[Path, ...],
                 workflow: Workflow, problems: list[Problem]) -> None:
    """The files and folders a node's params name must be there before anything runs (the run stops at them).

    Only where the run may read: whether a file exists elsewhere is not for a workflow (or an HTTP client) to
    learn; the run refuses such a path anyway."""
    for param in node_type.params:
        value = node.params.get(param.name)
        if not param.is_path or not value or not isinstance(value, str) or param.name in node.inputs:
            continue
        where = f"node {node_id!r} ({node_type.id}), param {param.name!r}"
        try:
            path = resolve_path(value, base_dir)
            if not within(path, (base_dir, *read_roots)):
                continue
            found = path.exists()
        except (OSError, ValueError) as exc:
            problems.append(Problem("bad_path", f"{where}: {value!r} is not a usable path: {exc}.", node=node_id,
                                    port=param.name, hint="Give a path relative to the workflow's folder."))
            continue
        if not found:
            name = workflow.input_for(node_id, param.name)
            other = f"the workflow input {name!r}" if name else f"{node_id}.{param.name}"
            problems.append(Problem("missing_file", f"{where}: there is no file or folder {value!r} (relative to the "
                                    "workflow's folder).", node=node_id, port=param.name,
                                    hint=f"Put it there, or set {other} to a file that exists."))


def _param_hint(param) -> str:
    if param.choices:
        return f"Choose one of: {', '.join(param.choices)}."
    if param.range_text:
        return f"Allowed range: {param.range_text}"  # no full stop: "0..." would read as an ellipsis
    return ""


def _check_fields(node_id: str, node: Node, node_type: NodeType, problems: list[Problem]) -> None:
    """A template param filled from links named like its fields (a node taking extra inputs): each field it uses
    needs a link of that name, or the run would stop at the node."""
    if not node_type.extra_inputs:
        return
    for param in node_type.params:
        if param.template is not True or param.name in node.inputs:
            continue
        try:
            fields = template_fields(str(resolved_params(node, node_type)[param.name] or ""))
        except TemplateError:
            continue  # reported as a bad value
        for name in dict.fromkeys(f for f in fields if not node.inputs.get(f)):
            problems.append(Problem("unlinked_field", f"node {node_id!r} ({node_type.id}), param {param.name!r}: "
                                    f"the field {{{name}}} has no link feeding it.", node=node_id, port=param.name,
                                    hint=f"Link a {node_type.extra_inputs} output into an input named {name!r}, or "
                                         "remove the field."))


def _check_inputs(node_id: str, node: Node, node_type: NodeType, workflow: Workflow, catalogue: Catalogue,
                  problems: list[Problem]) -> None:
    for port_name, links in node.inputs.items():
        port = node_type.port(port_name)
        if port is None:
            ports = [i.name for i in node_type.inputs] + [p.name for p in node_type.params]
            problems.append(Problem("unknown_input", f"node {node_id!r} ({node_type.id}) has no input {port_name!r}.",
                                    node=node_id, port=port_name,
                                    hint=f"Inputs and params: {', '.join(ports) or 'none'}."))
            continue
        takes_list = getattr(port, "list", False)
        if len(links) > 1 and not takes_list:
            problems.append(Problem("many_links", f"node {node_id!r}, input {port_name!r} takes one link but has "
                                    f"{len(links)}: {', '.join(map(str, links))}.", node=node_id, port=port_name,
                                    hint="Keep one link, or merge the values first."))
        for link in links:
            source = workflow.nodes.get(link.node)
            if source is None:
                problems.append(Problem("missing_node", f"node {node_id!r}, input {port_name!r} links to node "
                                        f"{link.node!r}, which does not exist.", node=node_id, port=port_name,
                                        hint="Link to an existing node, or remove the link."))
                continue
            source_type = catalogue.get(source.type)
            if source_type is None:
                continue  # already reported as an unknown type
            output = source_type.output_port(link.output)
            if output is None:
                outs = ", ".join(o.name for o in source_type.outputs) or "none"
                problems.append(Problem("missing_output", f"node {node_id!r}, input {port_name!r} links to "
                                        f"{link}, but {source_type.id} has no output {link.output!r}.",
                                        node=node_id, port=port_name, hint=f"Its outputs: {outs}."))
            elif not compatible(output.type, port.type):
                problems.append(Problem("type_mismatch", f"node {node_id!r}, input {port_name!r} expects "
                                        f"{port.type} but {link} gives {output.type}.", node=node_id, port=port_name,
                                        hint=_convert_hint(output.type, port.type)))
    for port in node_type.inputs:
        if not port.optional and not node.inputs.get(port.name):
            problems.append(Problem("missing_input", f"node {node_id!r} ({node_type.id}) needs a link into its "
                                    f"{port.type} input {port.name!r}.", node=node_id, port=port.name,
                                    hint=f"Link an output of type {port.type} into it."))


def _convert_hint(source: str, target: str) -> str:
    if (source, target) == ("IMAGE", "MASK"):
        return "Turn the image into a mask first with mask.from_image."
    return f"Link an output of type {target} instead."
