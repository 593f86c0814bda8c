"""Regrouping a workflow: selected nodes into an embedded subgraph, and a subgraph node back into its nodes.

Making one keeps what the workflow computes: a link crossing into the selection becomes an input of the
subgraph (named after the port it feeds), a link leaving it an output, and the workflow's own inputs and
outputs that pointed at selected nodes point at the subgraph node. Unpacking applies the node's values and
links as running it would (subgraph.expand), one level deep: subgraphs inside it stay subgraph nodes.
"""
from __future__ import annotations

import copy

import networkx as nx

from .graph import build_graph
from .node_api import Param
from .subgraph import Subgraphs, prune, rebase, rebase_path
from .workflow import NODE_ID, OUTPUT_NAME, SUBGRAPH, Link, Node, Workflow, WorkflowInput, WorkflowOutput


class RegroupRefused(ValueError):
    """A selection that cannot become a subgraph, or a node that cannot be unpacked; the message says why."""


def make_subgraph(workflow: Workflow, node_ids: list[str], subgraphs: Subgraphs, node_id: str = "subgraph",
                  name: str = "Subgraph") -> Workflow:
    """A copy of `workflow` with `node_ids` replaced by one subgraph node `node_id` embedding them."""
    chosen = [n for n in dict.fromkeys(node_ids) if n in workflow.nodes]
    if not chosen:
        raise RegroupRefused("select the nodes to put in the subgraph first.")
    _check_closed(workflow, set(chosen))
    result = workflow.copy()
    node_id = _fresh(node_id, set(result.nodes) - set(chosen))
    inner = Workflow(name=name, requires=dict(workflow.requires),
                     nodes={n: copy.deepcopy(result.nodes.pop(n)) for n in chosen})
    outer = Node(SUBGRAPH, workflow=inner)
    base = workflow.base_dir
    for inner_id, node in inner.nodes.items():  # links from outside become the subgraph's inputs
        node_type = subgraphs.node_type(node, base)
        for port, links in list(node.inputs.items()):
            outside = [link for link in links if link.node not in inner.nodes]
            if not outside:
                continue
            if len(outside) != len(links):
                raise RegroupRefused(f"input {port!r} of node {inner_id!r} is fed from inside and outside the "
                                     "selection; select the nodes feeding it too, or none of them.")
            is_param = node_type is not None and isinstance(node_type.param(port), Param)
            input_name = _name(port, inner_id, set(inner.inputs))
            inner.inputs[input_name] = WorkflowInput(inner_id, port if is_param else "", input=port if not is_param
                                                     else "")
            outer.inputs[input_name] = outside
            if port in node.list_inputs:
                outer.list_inputs.add(input_name)
            del node.inputs[port]
            node.list_inputs.discard(port)
    for other in result.nodes.values():  # links to the selection become the subgraph's outputs
        for port, links in other.inputs.items():
            other.inputs[port] = [Link(node_id, _output(inner, link)) if link.node in inner.nodes else link
                                  for link in links]
    for spec in result.inputs.values():  # the workflow's interface, through the subgraph
        if spec.node in inner.nodes:
            name_inside = _name(spec.port, spec.node, set(inner.inputs))
            inner.inputs[name_inside] = WorkflowInput(spec.node, spec.param, input=spec.input)
            spec.node, spec.param, spec.input = node_id, spec.param and name_inside, spec.input and name_inside
    for spec in result.outputs.values():
        if spec.node in inner.nodes:
            spec.output = _output(inner, Link(spec.node, spec.output))
            spec.node = node_id
    _move_layout(result, inner, chosen, node_id)
    result.nodes[node_id] = outer
    return result


def unpack_subgraph(workflow: Workflow, node_id: str, subgraphs: Subgraphs) -> Workflow:
    """A copy of `workflow` with subgraph node `node_id` replaced by its nodes, as it would run."""
    node = workflow.nodes.get(node_id)
    if node is None or node.type != SUBGRAPH:
        raise RegroupRefused(f"node {node_id!r} is not a subgraph.")
    base = workflow.base_dir.resolve()
    sub, sub_base, _ = subgraphs.resolve(node, node_id, base, (), (base, *subgraphs.read_roots))
    result = workflow.copy()
    del result.nodes[node_id]
    names: dict[str, str] = {}
    for inner_id in sub.nodes:
        names[inner_id] = _fresh(inner_id if inner_id not in result.nodes else f"{node_id}_{inner_id}",
                                 set(result.nodes) | set(names.values()))
    for inner_id, inner in sub.nodes.items():
        copied = copy.deepcopy(inner)
        copied.inputs = {port: [Link(names[l.node], l.output) for l in links] for port, links in inner.inputs.items()}
        node_type = subgraphs.node_type(inner, sub_base)
        copied.params = {k: rebase(node_type, k, v, sub_base, base) for k, v in inner.params.items()}
        if isinstance(copied.workflow, str) and sub_base != base:  # a file it refers to, from here
            copied.workflow = rebase_path(copied.workflow, sub_base, base)
        result.nodes[names[inner_id]] = copied
    replaced: set[str] = set()
    for name, spec in sub.inputs.items():  # the node's values and links reach the nodes they point at
        target = result.nodes.get(names.get(spec.node, ""))
        if target is None:
            continue
        if name in node.inputs:
            replaced.update(l.node for l in target.inputs.get(spec.port, []))
            target.inputs[spec.port] = list(node.inputs[name])
        elif name in node.params and spec.param:
            replaced.update(l.node for l in target.inputs.pop(spec.port, []))
            target.params[spec.port] = node.params[name]
    outputs = {name: Link(names[spec.node], spec.output) for name, spec in sub.outputs.items() if spec.node in names}
    for other in result.nodes.values():
        for port, links in other.inputs.items():
            other.inputs[port] = [outputs.get(l.output, l) if l.node == node_id else l for l in links]
    result.inputs = {k: _through_input(v, node_id, sub, names) for k, v in result.inputs.items()}
    result.outputs = {k: WorkflowOutput(outputs[v.output].node, outputs[v.output].output, v.description)
                      if v.node == node_id and v.output in outputs else v for k, v in result.outputs.items()}
    prune(result.nodes, replaced, lambda n, node: any(s.node == n for s in result.outputs.values()) or bool(
        (node_type := subgraphs.node_type(node, base)) and node_type.output))
    _unpack_layout(result, sub, names, node_id)
    return result


def _through_input(spec: WorkflowInput, node_id: str, sub: Workflow, names: dict[str, str]) -> WorkflowInput:
    inner = sub.inputs.get(spec.port) if spec.node == node_id else None
    if inner is None or inner.node not in names:
        return spec
    return WorkflowInput(names[inner.node], inner.param if spec.param else "", spec.description or inner.description,
                         "" if spec.param else inner.port)


def _check_closed(workflow: Workflow, chosen: set[str]) -> None:
    """Refuse a selection that a path leaves and re-enters: the subgraph node would depend on itself."""
    graph = build_graph(workflow)
    after = set().union(*(nx.descendants(graph, n) for n in chosen)) - chosen
    for outside in sorted(after):
        if nx.descendants(graph, outside) & chosen:
            raise RegroupRefused(f"node {outside!r} is fed by the selection and feeds it, so the subgraph would depend "
                                 "on itself.")


def _output(inner: Workflow, link: Link) -> str:
    """The subgraph's output name for `link` (an inner node's output), declared on first use."""
    for name, spec in inner.outputs.items():
        if (spec.node, spec.output) == (link.node, link.output):
            return name
    name = _name(link.output, link.node, set(inner.outputs), pattern_ok=lambda n: bool(OUTPUT_NAME.match(n)))
    inner.outputs[name] = WorkflowOutput(link.node, link.output)
    return name


def _name(port: str, node_id: str, taken: set[str], pattern_ok=lambda n: bool(NODE_ID.match(n))) -> str:
    """An interface name for a port: its own name, else qualified by its node's ("warm_image"), else numbered."""
    qualified = f"{node_id}_{port}"
    return qualified if port in taken and qualified not in taken and pattern_ok(qualified) else \
        _fresh(port, taken, pattern_ok)


def _fresh(base: str, taken: set[str], pattern_ok=lambda n: bool(NODE_ID.match(n))) -> str:
    if base not in taken and pattern_ok(base):
        return base
    stem = base if pattern_ok(base) else "port"
    return next(f"{stem}_{i}" for i in range(2, len(taken) + 3) if f"{stem}_{i}" not in taken)


def _move_layout(result: Workflow, inner: Workflow, chosen: list[str], node_id: str) -> None:
    """Inner nodes keep their arrangement (moved to the origin); the subgraph node sits where they were."""
    layout = result.ui.get("nodes", {})
    spots = {n: layout.pop(n) for n in chosen if n in layout}
    if not spots:
        return
    left = min(s.get("x", 0) for s in spots.values())
    top = min(s.get("y", 0) for s in spots.values())
    inner.ui = {"nodes": {n: {**s, "x": s.get("x", 0) - left + 40, "y": s.get("y", 0) - top + 40}
                          for n, s in spots.items()}}
    layout[node_id] = {"x": left, "y": top}
    result.ui["nodes"] = layout


def _unpack_layout(result: Workflow, sub: Workflow, names: dict[str, str], node_id: str) -> None:
    """The inner nodes where the subgraph node was, arranged as inside it; the pruned ones have no place."""
    layout = result.ui.setdefault("nodes", {})
    origin = layout.pop(node_id, {"x": 0, "y": 0})
    for gone in set(layout) - set(result.nodes):
        del layout[gone]
    inner = sub.ui.get("nodes", {})
    for inner_id, new_id in names.items():
        if new_id in result.nodes and inner_id in inner:
            spot = inner[inner_id]
            layout[new_id] = {**spot, "x": origin.get("x", 0) + spot.get("x", 0) - 40,
                              "y": origin.get("y", 0) + spot.get("y", 0) - 40}
    if not layout:
        del result.ui["nodes"]
