"""`--set NAME=VALUE`: set a workflow input, or any `node.param`, coerced to the param's type."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .catalogue import Catalogue
from .errors import Problem, WorkflowInvalid
from .interface import FILE_LOADERS
from .node_api import Input, Param
from .subgraph import Subgraphs
from .words import CLI, Words
from .workflow import Link, Node, Workflow


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """`NAME=VALUE` strings as a dict; values stay text until `apply_overrides` coerces them to the param's type."""
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise WorkflowInvalid([Problem("set", f"--set {pair!r} is not NAME=VALUE.",
                                           hint='Write --set subject="a red bicycle" or --set gen.seed=7.')])
        values[name.strip()] = value
    return values


def files_from_here(workflow: Workflow, catalogue: Catalogue, values: dict[str, str],
                    here: Path) -> tuple[dict[str, str], tuple[Path, ...]]:
    """`--set` values for file params that name an existing file or folder relative to `here` (the shell's current
    folder, as tab completion gives them) are rewritten relative to the workflow's folder (so the workflow recorded
    in the images a run writes names no folder of this machine), and exactly those paths become readable: the user
    named them, the workflow did not. Any other value stays relative to the workflow's folder."""
    resolved, granted = dict(values), []
    subgraphs = Subgraphs(catalogue)
    for name, value in values.items():
        _, _, param = _target(workflow, subgraphs, name)
        is_path = param.is_path if isinstance(param, Param) else isinstance(param, Input) and param.type in FILE_LOADERS
        if not is_path or not value:
            continue
        try:
            candidate = (here / value).resolve(strict=True)
        except (OSError, ValueError, RuntimeError):  # not there (or not a usable path): the workflow's folder's
            continue
        resolved[name] = Path(os.path.relpath(candidate, workflow.base_dir.resolve())).as_posix()
        granted.append(candidate)
    return resolved, tuple(granted)


def _target(workflow: Workflow, subgraphs: Subgraphs, name: str) -> tuple[str, str, Param | Input | None]:
    """(node id, param name, the Param) that `name` sets: a workflow input, or NODE.PARAM. The node id is ""
    when `name` is neither; the third is None when the node or its param does not exist, and an Input when
    the workflow input is a port only a link feeds."""
    if name in workflow.inputs:
        spec = workflow.inputs[name]
        node_id, param_name = spec.node, spec.port
    elif "." in name:
        node_id, _, param_name = name.partition(".")
    else:
        return "", name, None
    node = workflow.nodes.get(node_id)
    node_type = subgraphs.node_type(node, workflow.base_dir) if node else None
    if node_type is None:
        return node_id, param_name, None
    if name in workflow.inputs and not workflow.inputs[name].param:
        return node_id, param_name, node_type.input(param_name)
    return node_id, param_name, node_type.param(param_name)


def apply_overrides(workflow: Workflow, catalogue: Catalogue, values: dict[str, Any],
                    read_roots: tuple[Path, ...] = (), words: Words = CLI) -> Workflow:
    """A copy of `workflow` with the values set (a value replaces a link into the same param); every unknown
    name or bad value reported at once, checked against the workflow's interface, in the caller's `words`."""
    result = workflow.copy()
    subgraphs = Subgraphs(catalogue, read_roots)
    problems: list[Problem] = []
    for name, value in values.items():
        node_id, param_name, param = _target(workflow, subgraphs, name)
        setting = words.set_input(name)
        if not node_id:
            known = ", ".join(sorted(workflow.inputs)) or "none (use NODE.PARAM)"
            problems.append(Problem("set", f"{setting}: the workflow has no input {name!r}.",
                                    hint=f"Its inputs: {known}. {words.inputs_listed}"))
            continue
        if isinstance(param, Input):
            loader = FILE_LOADERS.get(param.type)
            if loader is None or catalogue.get(loader[0]) is None:
                problems.append(Problem("set", f"{setting}: input {name!r} is an input port ({param.type}) that only "
                                        "a link feeds (when this workflow is used as a node), not a value.",
                                        node=node_id, hint="Set one of the workflow's other inputs; an IMAGE or MASK "
                                        "input port takes a file's path."))
                continue
            try:
                feed_file(result, catalogue, name, node_id, param_name, param.type, value)
            except ValueError as exc:
                problems.append(Problem("set", f"{setting}: {exc}.", node=node_id, port=param_name,
                                        hint=f"Input {name!r} takes the path of an image file."))
            continue
        if param is None:
            problems.append(Problem("set", f"{setting}: no param {param_name!r} on node {node_id!r}.",
                                    node=node_id, hint=words.params_listed))
            continue
        try:
            result.nodes[node_id].params[param_name] = param.check(value)
        except ValueError as exc:
            problems.append(Problem("set", f"{setting}: {exc}.", node=node_id, port=param_name,
                                    hint=f"Allowed range: {param.range_text}" if param.range_text else ""))
            continue
        result.nodes[node_id].inputs.pop(param_name, None)
    if problems:
        raise WorkflowInvalid(problems)
    return result



def feed_file(workflow: Workflow, catalogue: Catalogue, name: str, node_id: str, port: str, port_type: str,
              path: Any) -> str:
    """Give the input port `port` (IMAGE or MASK) of `node_id` a file: a loader node (image.load, mask.load) that
    reads `path` replaces the links into it. Returns the loader's id; ValueError if `path` is not a file path."""
    node_type, output = FILE_LOADERS[port_type]
    loader = catalogue.get(node_type)
    value = loader.param("path").check(path)
    if not value:
        raise ValueError("a file's path is needed, got nothing")
    loader_id, n = f"{name}-file", 1
    while loader_id in workflow.nodes:
        n += 1
        loader_id = f"{name}-file-{n}"
    workflow.nodes[loader_id] = Node(type=node_type, params={"path": value})
    workflow.nodes[node_id].inputs[port] = [Link(loader_id, output)]
    return loader_id
