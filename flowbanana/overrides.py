"""`--set NAME=VALUE`: set a workflow input, or any `node.param`, coerced to the param's type."""
from __future__ import annotations

from typing import Any

from .catalogue import Catalogue
from .errors import Problem, WorkflowInvalid
from .workflow import Workflow


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise WorkflowInvalid([Problem("set", f"--set {pair!r} is not NAME=VALUE.",
                                           hint='Write --set subject="a red bicycle" or --set gen.seed=7.')])
        values[name.strip()] = value
    return values


def apply_overrides(workflow: Workflow, catalogue: Catalogue, values: dict[str, Any]) -> Workflow:
    """A copy of `workflow` with the values set; every unknown name or bad value reported at once."""
    result = workflow.copy()
    problems: list[Problem] = []
    for name, value in values.items():
        if name in workflow.inputs:
            node_id, param_name = workflow.inputs[name].node, workflow.inputs[name].param
        elif "." in name:
            node_id, _, param_name = name.partition(".")
        else:
            known = ", ".join(sorted(workflow.inputs)) or "none (use NODE.PARAM)"
            problems.append(Problem("set", f"--set {name}: the workflow has no input {name!r}.",
                                    hint=f"Its inputs: {known}."))
            continue
        node = result.nodes.get(node_id)
        node_type = catalogue.get(node.type) if node else None
        param = node_type.param(param_name) if node_type else None
        if param is None:
            problems.append(Problem("set", f"--set {name}: no param {param_name!r} on node {node_id!r}.",
                                    node=node_id, hint="`flowbanana validate FILE` lists the nodes; "
                                                       "`flowbanana nodes` lists each type's params."))
            continue
        try:
            node.params[param_name] = param.check(value)
        except ValueError as exc:
            problems.append(Problem("set", f"--set {name}: {exc}.", node=node_id, port=param_name))
    if problems:
        raise WorkflowInvalid(problems)
    return result
