"""`--set NAME=VALUE`: set a workflow input, or any `node.param`, coerced to the param's type."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .catalogue import Catalogue
from .errors import Problem, WorkflowInvalid
from .node_api import Param
from .workflow import Workflow


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
    folder, as tab completion gives them) become absolute, and exactly those paths become readable: the user named
    them, the workflow did not. Any other value stays relative to the workflow's folder."""
    resolved, granted = dict(values), []
    for name, value in values.items():
        _, _, param = _target(workflow, catalogue, name)
        if param is None or not param.is_path or not value:
            continue
        try:
            candidate = (here / value).resolve(strict=True)
        except (OSError, ValueError, RuntimeError):  # not there (or not a usable path): the workflow's folder's
            continue
        resolved[name] = str(candidate)
        granted.append(candidate)
    return resolved, tuple(granted)


def _target(workflow: Workflow, catalogue: Catalogue, name: str) -> tuple[str, str, Param | None]:
    """(node id, param name, the Param) that `name` sets: a workflow input, or NODE.PARAM. The node id is ""
    when `name` is neither, and the Param None when the node or its param does not exist."""
    if name in workflow.inputs:
        node_id, param_name = workflow.inputs[name].node, workflow.inputs[name].param
    elif "." in name:
        node_id, _, param_name = name.partition(".")
    else:
        return "", name, None
    node = workflow.nodes.get(node_id)
    node_type = catalogue.get(node.type) if node else None
    return node_id, param_name, node_type.param(param_name) if node_type else None


def apply_overrides(workflow: Workflow, catalogue: Catalogue, values: dict[str, Any]) -> Workflow:
    """A copy of `workflow` with the values set; every unknown name or bad value reported at once."""
    result = workflow.copy()
    problems: list[Problem] = []
    for name, value in values.items():
        node_id, param_name, param = _target(workflow, catalogue, name)
        if not node_id:
            known = ", ".join(sorted(workflow.inputs)) or "none (use NODE.PARAM)"
            problems.append(Problem("set", f"--set {name}: the workflow has no input {name!r}.",
                                    hint=f"Its inputs: {known}."))
            continue
        if param is None:
            problems.append(Problem("set", f"--set {name}: no param {param_name!r} on node {node_id!r}.",
                                    node=node_id, hint="`flowbanana validate FILE` lists the nodes; "
                                                       "`flowbanana nodes` lists each type's params."))
            continue
        try:
            result.nodes[node_id].params[param_name] = param.check(value)
        except ValueError as exc:
            problems.append(Problem("set", f"--set {name}: {exc}.", node=node_id, port=param_name,
                                    hint=f"Allowed range: {param.range_text}" if param.range_text else ""))
    if problems:
        raise WorkflowInvalid(problems)
    return result
