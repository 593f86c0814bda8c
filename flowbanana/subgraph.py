"""Subgraphs: a workflow used as a node of another (by path, or embedded), expanded into one flat graph to run.

Expansion gives each inner node a path id (`sub/inner`, `outer/sub/inner`), so inner nodes are checked,
cached and reported one by one: changing one inner param re-runs only what depends on it, and an error
names the path. A subgraph node's params set the inner params its workflow's inputs point at, and a
link into one of its inputs replaces whatever fed that input inside (the default); inner nodes left
feeding nothing are dropped, so a default source never runs for nothing. A workflow that refers to
itself, directly or through others, is a problem naming the chain of files.
"""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .catalogue import CATEGORY_COLORS, Catalogue
from .errors import Problem, WorkflowInvalid
from .interface import Interface, as_node_type, describe_input, describe_output
from .node_api import NodeType, resolve_path, within
from .workflow import SUBGRAPH, Link, Node, Workflow, load, nested_problems
from .words import CLI, Words


@dataclass
class Flat:
    """A workflow with every subgraph replaced by its inner nodes: only real node types, ids are paths."""
    workflow: Workflow
    interface: Interface = field(default_factory=Interface)  # the original's inputs and outputs, in flat terms
    outputs: dict[str, Link] = field(default_factory=dict)   # "sub.out" (a subgraph node's output) -> flat output
    members: dict[str, list[str]] = field(default_factory=dict)  # a subgraph node's path -> the flat ids inside

    def node_ids(self, node_id: str) -> list[str]:
        """The flat nodes a node id stands for: a subgraph node's inner nodes, or the node itself."""
        return self.members.get(node_id, [node_id])

    def link(self, node: str, output: str) -> Link:
        """Where `node.output` of the original workflow is in the flat one."""
        return self.outputs.get(f"{node}.{output}", Link(node, output))


@dataclass(frozen=True)
class _Target:
    """Where one of a level's inputs lands in the flat graph."""
    node: str
    port: str
    settable: bool      # a value may set it (it is a param), not only a link
    description: str


class Subgraphs:
    """Subgraph nodes for one run or one check: their workflows are read only inside the read roots (besides
    the top workflow's own folder, checked at expansion), and each gets a node type from its interface."""

    def __init__(self, catalogue: Catalogue, read_roots: tuple[Path, ...] = (), words: Words = CLI):
        self.catalogue = catalogue
        self.read_roots = tuple(read_roots)
        self.words = words  # how its problems name what to set

    # ---- node types ------------------------------------------------------------------------------------------

    def node_type(self, node: Node, base_dir: Path) -> NodeType | None:
        """The node's type: from the catalogue, or a subgraph's interface; None when unknown or unreadable."""
        if node.type != SUBGRAPH:
            return self.catalogue.get(node.type)
        try:
            sub, sub_base, chain = self.resolve(node, "", base_dir, (), (base_dir, *self.read_roots))
        except WorkflowInvalid:
            return None
        return as_node_type(self.interface(sub, sub_base, chain), sub.name, sub.description)

    def interface(self, workflow: Workflow, base_dir: Path | None = None, chain: tuple[Path, ...] = ()) -> Interface:
        """The workflow's inputs and outputs, typed by what they point at (through its subgraphs too)."""
        flat, _ = self.expand(workflow, base_dir, chain)
        return flat.interface

    # ---- expansion -------------------------------------------------------------------------------------------

    def expand(self, workflow: Workflow, base_dir: Path | None = None,
               chain: tuple[Path, ...] = ()) -> tuple[Flat, list[Problem]]:
        """The flat workflow and every problem met on the way (missing or unreadable subgraph files, reference
        cycles, names a subgraph does not have); the flat workflow holds whatever could be expanded."""
        base = (base_dir or workflow.base_dir).resolve()
        if not chain and workflow.source:
            chain = (workflow.source.resolve(),)
        run = _Expansion(self, (base, *self.read_roots))
        inputs, outputs = run.level(workflow, base, "", chain)
        run.prune(keep={link.node for link in outputs.values()})
        flat = Workflow(nodes=run.nodes, name=workflow.name, description=workflow.description,
                        requires={**run.requires, **workflow.requires}, source=workflow.source)
        interface = Interface()
        for name, target in inputs.items():
            node = run.nodes.get(target.node)
            node_type = self.catalogue.get(node.type) if node else None
            if node_type and node_type.port(target.port):
                interface.inputs[name] = describe_input(name, target.description, target.settable, target.node,
                                                        target.port, node, node_type)
        for name, link in outputs.items():
            node = run.nodes.get(link.node)
            port = (node_type := self.catalogue.get(node.type)) and node_type.output_port(link.output) if node else None
            if port:
                interface.outputs[name] = describe_output(name, workflow.outputs[name].description, link.node, port)
        return Flat(flat, interface, run.outputs, run.members), run.problems

    def resolve(self, node: Node, path: str, base_dir: Path, chain: tuple[Path, ...],
                 roots: tuple[Path, ...]) -> tuple[Workflow, Path, tuple[Path, ...]]:
        """A subgraph node's workflow, the folder its paths resolve against, and the chain of files so far."""
        if isinstance(node.workflow, Workflow):
            return node.workflow, base_dir, chain
        name = path or "the subgraph"
        ref = node.workflow
        if not isinstance(ref, str):
            raise _invalid("subgraph", f"node {name!r} ({SUBGRAPH}) names no workflow.", path,
                           "Set \"workflow\" to a workflow file's path, or embed one.")
        try:
            file = resolve_path(ref, base_dir)
        except (OSError, ValueError) as exc:
            raise _invalid("subgraph", f"node {name!r} ({SUBGRAPH}): {ref!r} is not a usable path: {exc}.", path,
                           "Name a workflow file relative to this workflow's folder.") from None
        if not within(file, roots):
            raise _invalid("subgraph", f"node {name!r} ({SUBGRAPH}) refers to {ref!r}, outside the folders this "
                           "workflow may read.", path,
                           f"Move it next to the workflow, or allow its folder with {self.words.allow_read}.")
        if file in chain:
            names = " -> ".join(p.name for p in (*chain[chain.index(file):], file))
            raise _invalid("subgraph_cycle", f"node {name!r} ({SUBGRAPH}): workflows refer to each other in a "
                           f"cycle: {names}.", path, "Remove one of the references, or embed a copy instead.")
        if not file.is_file():
            raise _invalid("subgraph", f"node {name!r} ({SUBGRAPH}) refers to {ref!r}, which does not exist "
                           f"(looked for {file}).", path, "Fix the path; it is relative to this workflow's folder.")
        try:
            sub = _load(file)
        except WorkflowInvalid as exc:
            raise WorkflowInvalid(nested_problems(path, exc.problems) if path else exc.problems) from None
        return sub, file.parent, (*chain, file)

    # ---- embedding -------------------------------------------------------------------------------------------

    def embed(self, workflow: Workflow) -> Workflow:
        """A copy whose subgraph files are embedded (all levels), for an image's provenance or a bundle: it
        then travels alone. Relative paths in a file from another folder are rewritten to still point at
        the same files. A workflow without subgraphs is returned as it is. Call on a valid workflow (raises
        WorkflowInvalid otherwise)."""
        if not any(node.type == SUBGRAPH for node in workflow.nodes.values()):
            return workflow
        base = workflow.base_dir.resolve()
        chain = (workflow.source.resolve(),) if workflow.source else ()
        return self._embed(workflow, base, chain, (base, *self.read_roots))

    def _embed(self, workflow: Workflow, base: Path, chain: tuple[Path, ...], roots: tuple[Path, ...]) -> Workflow:
        result = workflow.copy()
        for node_id, node in result.nodes.items():
            if node.type != SUBGRAPH:
                continue
            sub, sub_base, sub_chain = self.resolve(node, node_id, base, chain, roots)
            inner = self._embed(sub, sub_base, sub_chain, roots)
            if sub_base != base:
                self.rebase_all(inner, sub_base, base)
            node.workflow = inner
        return result

    def rebase_all(self, workflow: Workflow, old: Path, new: Path) -> None:
        """Rewrite the relative file params of an embedded workflow (and its embedded ones) from `old` to `new`."""
        for node in workflow.nodes.values():
            node_type = self.node_type(node, old)
            for name, value in node.params.items():
                node.params[name] = rebase(node_type, name, value, old, new)
            if isinstance(node.workflow, Workflow):
                self.rebase_all(node.workflow, old, new)


def saved_nodes(folder: Path, catalogue: Catalogue) -> dict[str, NodeType]:
    """The workflows in `folder` that declare outputs, by file name, as the node types they are when used as a
    node (`{"type": "workflow", "workflow": NAME}`): the catalogue lists them beside the packs' node types."""
    found = {}
    subgraphs = Subgraphs(catalogue)
    for path in sorted(Path(folder).glob("*.json")):
        try:
            declares = bool(_load(path.resolve()).outputs)
        except (OSError, WorkflowInvalid):
            continue  # `flowbanana validate` says what is wrong with it
        node_type = subgraphs.node_type(Node(SUBGRAPH, workflow=path.name), Path(folder)) if declares else None
        if node_type:
            found[path.name] = node_type
    return found


def catalogue_json(catalogue: Catalogue, saved: dict[str, NodeType]) -> dict:
    """The catalogue for programs and the editor's palette: the packs' node types, then the saved workflows usable
    as nodes (`saved_nodes`), each with the file name a node refers to it by."""
    data = catalogue.to_json()
    data["categories"]["workflows"] = CATEGORY_COLORS["workflows"]  # a subgraph node's, saved or embedded
    return {**data, "workflows": [{**t.to_json(), "workflow": name} for name, t in saved.items()]}


def rebase(node_type: NodeType | None, param: str, value, old: Path, new: Path):
    """A relative file param written for folder `old` as it must read from folder `new`; other values as they are."""
    spec = node_type.param(param) if node_type else None
    if not spec or not spec.is_path or not isinstance(value, str) or not value:
        return value
    return rebase_path(value, old, new)


def rebase_path(value: str, old: Path, new: Path) -> str:
    """A relative path written for folder `old`, as it reads from folder `new`; an absolute one as it is."""
    if old == new or value.startswith("~") or Path(value).is_absolute():  # ~user paths do not move (nor raise)
        return value
    return Path(os.path.relpath(old / value, new)).as_posix()


def prune(nodes: dict[str, Node], candidates: set[str], keep: Callable[[str, Node], bool]) -> None:
    """Drop from `nodes` the candidates that feed nothing (unless `keep` says otherwise), then what fed only them:
    inner nodes that fed only an input now fed from outside."""
    uses = Counter(link.node for node in nodes.values() for links in node.inputs.values() for link in links)
    waiting = list(candidates)
    while waiting:
        node_id = waiting.pop()
        node = nodes.get(node_id)
        if node is None or uses[node_id] or keep(node_id, node):
            continue
        del nodes[node_id]
        for links in node.inputs.values():
            for link in links:
                uses[link.node] -= 1
                waiting.append(link.node)


def _invalid(code: str, message: str, path: str, hint: str) -> WorkflowInvalid:
    return WorkflowInvalid([Problem(code, message, node=path or None, hint=hint)])


_LOADED: dict[Path, tuple[tuple[int, int], Workflow]] = {}


def _load(path: Path) -> Workflow:
    """A subgraph file, read again only when it changed (a workflow using one subgraph many times reads it once)."""
    stat = path.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _LOADED.get(path)
    if cached and cached[0] == stamp:
        return cached[1]
    workflow = load(path)
    _LOADED[path] = (stamp, workflow)
    return workflow


class _Expansion:
    """The state of one expansion: the flat nodes so far and what was met on the way."""

    def __init__(self, subgraphs: Subgraphs, roots: tuple[Path, ...]):
        self.subgraphs = subgraphs
        self.catalogue = subgraphs.catalogue
        self.roots = roots
        self.nodes: dict[str, Node] = {}
        self.outputs: dict[str, Link] = {}
        self.members: dict[str, list[str]] = {}
        self.requires: dict[str, str] = {}
        self.problems: list[Problem] = []
        self.replaced: set[str] = set()  # flat nodes whose link into a subgraph's input was replaced

    def problem(self, prefix: str, code: str, message: str, node: str | None = None, port: str | None = None,
                hint: str = "") -> None:
        where = f"in subgraph {prefix[:-1]!r}: " if prefix else ""
        self.problems.append(Problem(code, where + message, node=prefix + node if node else prefix[:-1] or None,
                                     port=port, hint=hint))

    def level(self, workflow: Workflow, base: Path, prefix: str,
              chain: tuple[Path, ...]) -> tuple[dict[str, _Target], dict[str, Link]]:
        """Add `workflow`'s nodes under `prefix`; return where its inputs and outputs are in the flat graph."""
        subs: dict[str, tuple[dict[str, _Target], dict[str, Link]]] = {}
        for node_id, node in workflow.nodes.items():
            if node.type != SUBGRAPH:
                continue
            path = prefix + node_id
            try:
                sub, sub_base, sub_chain = self.subgraphs.resolve(node, path, base, chain, self.roots)
            except WorkflowInvalid as exc:
                self.problems.extend(exc.problems)
                continue
            before = set(self.nodes)
            subs[node_id] = self.level(sub, sub_base, path + "/", sub_chain)
            self.outputs.update({f"{path}.{name}": link for name, link in subs[node_id][1].items()})
            self.members[path] = [n for n in self.nodes if n not in before]
            self.requires.update(sub.requires)
        for node_id, node in workflow.nodes.items():
            if node.type == SUBGRAPH:
                continue
            inputs = {port: self.links(workflow, prefix, subs, links, node_id) for port, links in node.inputs.items()}
            self.nodes[prefix + node_id] = Node(node.type, dict(node.params), inputs, node.title, node.notes,
                                                node.disabled, list_inputs=set(node.list_inputs), base_dir=base)
        for node_id, (inputs, _) in subs.items():
            self.settle(workflow, prefix, subs, node_id, inputs, base)
        return self.interface(workflow, prefix, subs)

    def links(self, workflow: Workflow, prefix: str, subs: dict, links: list[Link], owner: str) -> list[Link]:
        """Links of one level in flat terms: a subgraph node's output becomes the inner output it names."""
        found = []
        for link in links:
            source = workflow.nodes.get(link.node)
            if source is None or source.type != SUBGRAPH:
                found.append(Link(prefix + link.node, link.output))  # a missing node: validation names it
                continue
            if link.node not in subs:
                continue  # its workflow could not be read: already a problem
            inner = subs[link.node][1].get(link.output)
            if inner is None:
                names = ", ".join(subs[link.node][1]) or "none"
                self.problem(prefix, "missing_output", f"node {owner!r} links to {link}, but subgraph "
                             f"{link.node!r} has no output {link.output!r}.", owner,
                             hint=f"Its outputs: {names}. A workflow's \"outputs\" name what it gives.")
                continue
            found.append(inner)
        return found

    def settle(self, workflow: Workflow, prefix: str, subs: dict, node_id: str, inputs: dict[str, _Target],
               base: Path) -> None:
        """Apply a subgraph node's links and params to the inner nodes its inputs point at."""
        node = workflow.nodes[node_id]
        path = prefix + node_id
        known = ", ".join(inputs) or "none"
        for name in [*node.inputs, *(p for p in node.params if p not in node.inputs)]:
            target = inputs.get(name)
            if target is None:
                self.problem(prefix, "unknown_input", f"node {node_id!r} (subgraph) has no input {name!r}.",
                             node_id, name, hint=f"Its inputs: {known}. A workflow's \"inputs\" name what it takes.")
                continue
            inner = self.nodes.get(target.node)
            if inner is None:
                continue
            self.replaced.update(link.node for link in inner.inputs.get(target.port, []))
            if name in node.inputs:
                inner.inputs[target.port] = self.links(workflow, prefix, subs, node.inputs[name], node_id)
                if name in node.list_inputs:
                    inner.list_inputs.add(target.port)
            elif not target.settable:
                self.problem(prefix, "unknown_param", f"node {node_id!r} (subgraph): input {name!r} takes a link, "
                             "not a value.", node_id, name, hint="Link an output into it.")
            else:
                inner.inputs.pop(target.port, None)  # a value set from outside replaces the link inside
                inner.params[target.port] = rebase(self.catalogue.get(inner.type), target.port,
                                                   node.params[name], base, inner.base_dir)
        if node.disabled:
            for member in self.members.get(path, ()):
                self.nodes[member].disabled = True

    def interface(self, workflow: Workflow, prefix: str, subs: dict) -> tuple[dict[str, _Target], dict[str, Link]]:
        """Where this level's declared inputs and outputs are in the flat graph; a name pointing nowhere is a
        problem."""
        inputs: dict[str, _Target] = {}
        for name, spec in workflow.inputs.items():
            node = self.pointed_at(prefix, workflow, "input", name, spec.node)
            if node is None:
                continue
            if node.type == SUBGRAPH:
                inner = self.through(prefix, subs, spec.node, name, spec.port, "input")
                if inner is not None:
                    inputs[name] = _Target(inner.node, inner.port, inner.settable and bool(spec.param),
                                           spec.description or inner.description)
            elif (node_type := self.catalogue.get(node.type)) is not None:
                port = node_type.param(spec.param) if spec.param else node_type.port(spec.input)
                if port is None:
                    what = "param" if spec.param else "input"
                    names = [p.name for p in (node_type.params if spec.param else node_type.inputs)]
                    self.problem(prefix, "workflow_input", f"workflow input {name!r} points at {what} {spec.port!r} "
                                 f"of node {spec.node!r} ({node.type}), which has no such {what}.", spec.node, name,
                                 hint=f"{node.type} has {what}s: {', '.join(names) or 'none'}.")
                else:
                    inputs[name] = _Target(prefix + spec.node, spec.port, bool(spec.param), spec.description)
        outputs: dict[str, Link] = {}
        for name, spec in workflow.outputs.items():
            node = self.pointed_at(prefix, workflow, "output", name, spec.node)
            if node is None:
                continue
            if node.type == SUBGRAPH:
                inner = self.through(prefix, subs, spec.node, name, spec.output, "output")
                if inner is not None:
                    outputs[name] = inner
            elif (node_type := self.catalogue.get(node.type)) is not None:
                if node_type.output_port(spec.output) is None:
                    self.problem(prefix, "workflow_output", f"workflow output {name!r} points at output "
                                 f"{spec.output!r} of node {spec.node!r} ({node.type}), which has no such output.",
                                 spec.node, name, hint=f"Its outputs: "
                                 f"{', '.join(o.name for o in node_type.outputs) or 'none'}.")
                else:
                    outputs[name] = Link(prefix + spec.node, spec.output)
        return inputs, outputs

    def pointed_at(self, prefix: str, workflow: Workflow, kind: str, name: str, node_id: str) -> Node | None:
        """The node a workflow input or output points at; None, and a problem, when there is no such node."""
        node = workflow.nodes.get(node_id)
        if node is None:
            self.problem(prefix, f"workflow_{kind}", f"workflow {kind} {name!r} points at node {node_id!r}, which does "
                         "not exist.", port=name, hint=f"Fix \"node\" in the file's \"{kind}s\".")
        return node

    def through(self, prefix: str, subs: dict, node_id: str, name: str, port: str, kind: str):
        """Where input or output `port` of subgraph node `node_id` is in the flat graph (for this level's `name`);
        None, and a problem if the subgraph has no such port."""
        ports = subs[node_id][0 if kind == "input" else 1] if node_id in subs else {}
        if node_id in subs and port not in ports:
            self.problem(prefix, f"workflow_{kind}", f"workflow {kind} {name!r} points at {port!r} of subgraph node "
                         f"{node_id!r}, which has no such {kind}.", node_id, name,
                         hint=f"Its {kind}s: {', '.join(ports) or 'none'}.")
        return ports.get(port)

    def prune(self, keep: set[str]) -> None:
        """Drop inner nodes that fed only an input now fed from outside (and what fed only them)."""
        prune(self.nodes, self.replaced, lambda node_id, node: node_id in keep or bool(
            (node_type := self.catalogue.get(node.type)) and node_type.output))
        for path, members in self.members.items():
            self.members[path] = [m for m in members if m in self.nodes]
