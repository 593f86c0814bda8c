"""Sweeps: one workflow run over several values of one or two params, the results side by side.

A `sweep.grid` node names the params to vary as "node.param" (`x`, and optionally `y`) with a value per
line (`*` alone: every value the param offers; for a model, every model in the table). "every combination"
makes a cell for each (x, y) pair, "paired" one for each line. Before a run, `expand` copies every node a
swept param reaches once per cell (ids `node@n`), sets the cell's values on the copies, and links each
cell's image into the sweep node; nodes the swept params do not reach stay single and run once. Each copy is
cached like any node, so a cell that did not change comes from the cache on the next run.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx

from .catalogue import Catalogue
from .errors import Problem
from .graph import build_graph
from .node_api import NodeType, Param
from .workflow import Link, Workflow

SWEEP = "sweep.grid"
EVERY, PAIRED = "every combination", "paired"
MODES = (EVERY, PAIRED)
EVERYTHING = "*"
MAX_CELLS = 100
# a copy's id is the node's, then "@" and where the copy sits: the cell number ("gen@3"), or in a grid of every
# combination, the x and y positions of the values that reach it ("style@x2" serves the whole second column)
_COPY = re.compile(r"@(?:(\d+)|x(\d+)(?:y(\d+))?|y(\d+))(?=/|$)")


@dataclass(frozen=True)
class Axis:
    """One swept param and the values it takes, in order (as typed, and as the param takes them)."""
    name: str                 # "x" or "y"
    node: str
    param: str
    labels: tuple[str, ...]
    values: tuple[Any, ...]

    @property
    def target(self) -> str:
        return f"{self.node}.{self.param}"


@dataclass(frozen=True)
class Cell:
    """One run of the workflow in a sweep: its number (1-based), where it sits and the axis values."""
    number: int
    x: int                    # index of its x value
    y: int | None             # index of its y value
    row: int
    column: int
    values: dict[str, Any]    # "node.param" -> value
    labels: dict[str, str]    # "node.param" -> the value as typed


@dataclass
class Sweep:
    node: str
    mode: str
    axes: list[Axis]

    @property
    def cells(self) -> list[Cell]:
        x, y = self.axes[0], (self.axes[1] if len(self.axes) > 1 else None)
        cells = []
        for number, (i, j, row, column) in enumerate(layout(self.mode, len(x.values), len(y.values) if y else 0), 1):
            picked = [(x, i)] + ([(y, j)] if y is not None else [])
            cells.append(Cell(number, i, j, row, column, {a.target: a.values[k] for a, k in picked},
                              {a.target: a.labels[k] for a, k in picked}))
        return cells

    def suffix(self, cell: Cell, axes: list[Axis]) -> str:
        """The id suffix of the copy of a node that the `axes` reach, for `cell`."""
        if self.mode == PAIRED or len(self.axes) == 1:
            return f"@{cell.number}"
        return "@" + "".join(f"{a.name}{(cell.x if a.name == 'x' else cell.y) + 1}" for a in axes)



def layout(mode: str, x_count: int, y_count: int) -> list[tuple[int, int | None, int, int]]:
    """Each cell in order as (x index, y index or None, row, column): x runs along the columns, y down the rows;
    paired cells (and cells of a sweep without y) make one row."""
    if not y_count:
        return [(i, None, 0, i) for i in range(x_count)]
    if mode == PAIRED:
        return [(i, i, 0, i) for i in range(x_count)]
    return [(i, j, j, i) for j in range(y_count) for i in range(x_count)]


def value_lines(text: str) -> list[str]:
    """The values of an axis as typed: one per line, blank lines left out."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


@dataclass
class Expansion:
    """A workflow with its sweep unrolled; `copies` maps an original node id to the ids that stand for it."""
    workflow: Workflow
    sweep: Sweep | None = None
    copies: dict[str, list[str]] = field(default_factory=dict)

    def ids(self, node_id: str) -> list[str]:
        return self.copies.get(node_id, [node_id])


def serves(node_id: str, number: int, x: int, y: int | None) -> bool | None:
    """Whether a node copy serves the cell of that number and x, y indices (`style@x2` serves every cell of the
    second column); None for a node the sweep did not copy."""
    match = _COPY.search(node_id)
    if not match:
        return None
    cell, x_pos, y_after_x, y_only = (None if g is None else int(g) for g in match.groups())
    if cell is not None:
        return cell == number
    y_pos = y_after_x if y_after_x is not None else y_only
    return (x_pos is None or x_pos == x + 1) and (y_pos is None or (y is not None and y_pos == y + 1))


def original_id(node_id: str) -> str:
    """The id of the node a copy was made from (`gen@3`, `gen@x1y2` -> `gen`)."""
    return _COPY.sub("", node_id)


def sweep_nodes(workflow: Workflow) -> list[str]:
    return [n for n, node in workflow.nodes.items() if node.type == SWEEP and not node.disabled]


def problems(workflow: Workflow, catalogue: Catalogue) -> list[Problem]:
    """What stops the workflow's sweep from running; each problem names the sweep node and what to do."""
    found = sweep_nodes(workflow)
    if not found:
        return []
    if len(found) > 1:
        return [Problem("sweep", f"nodes {', '.join(map(repr, found))} are both sweeps; a workflow runs one sweep "
                        "at a time.", node=found[1], hint="Disable or delete all but one sweep node.")]
    _, issues = read_sweep(workflow, catalogue, found[0])
    return issues


def read_sweep(workflow: Workflow, catalogue: Catalogue, node_id: str) -> tuple[Sweep | None, list[Problem]]:
    """The sweep a `sweep.grid` node describes, or the problems with it."""
    node = workflow.nodes[node_id]
    issues: list[Problem] = []
    where = f"sweep {node_id!r}"
    for name in ("x", "x_values", "y", "y_values", "mode"):
        if name in node.inputs:
            issues.append(Problem("sweep", f"{where}: {name} is fed by a link; a sweep's params are set in the node.",
                                  node=node_id, port=name, hint="Remove the link and type the value."))
    if issues:
        return None, issues
    params = node.params
    mode = params.get("mode", EVERY)
    graph = build_graph(workflow)
    after_sweep = nx.descendants(graph, node_id) | {node_id}
    axes = []
    for name in ("x", "y"):
        target, lines = str(params.get(name) or "").strip(), str(params.get(f"{name}_values") or "")
        if not target:
            if name == "x":
                issues.append(Problem("sweep", f"{where}: x names no param to sweep.", node=node_id, port="x",
                                      hint='Set x to "node.param", e.g. "gen.model", and list its values.'))
            elif lines.strip():
                issues.append(Problem("sweep", f"{where}: y_values are given but y names no param.", node=node_id,
                                      port="y", hint='Set y to "node.param", or clear y_values.'))
            continue
        axis = _axis(workflow, catalogue, node_id, name, target, lines, after_sweep, issues)
        if axis:
            axes.append(axis)
    if issues:
        return None, issues
    if len(axes) == 2 and axes[0].target == axes[1].target:
        return None, [Problem("sweep", f"{where}: x and y both sweep {axes[0].target}.", node=node_id, port="y",
                              hint="Sweep two different params, or put every value on x.")]
    if mode == PAIRED and len(axes) == 2 and len(axes[0].values) != len(axes[1].values):
        x, y = axes
        return None, [Problem("sweep", f"{where}: paired needs as many y values as x values, but x has "
                              f"{len(x.values)} and y {len(y.values)}.", node=node_id, port="y_values",
                              hint="Give both the same number of lines, or choose every combination.")]
    sweep = Sweep(node_id, mode, axes)
    count = len(sweep.cells)
    if count > MAX_CELLS:
        return None, [Problem("sweep", f"{where} would make {count} cells; a sweep makes at most {MAX_CELLS}.",
                              node=node_id, hint="Sweep fewer values, or split the sweep in two.")]
    image = node.inputs.get("image") or []
    reached = reached_by(graph, axes)
    if len(image) == 1 and image[0].node in workflow.nodes:
        if image[0].node not in reached:
            names = " or ".join(a.target for a in axes)
            issues.append(Problem("sweep", f"{where}: the image linked into it ({image[0]}) does not depend on "
                                  f"{names}, so every cell would be the same picture.", node=node_id, port="image",
                                  hint="Link the image of the node whose param is swept, or of one after it."))
    elif len(image) > 1:
        issues.append(Problem("sweep", f"{where}: link one image into it, the one each cell makes.", node=node_id,
                              port="image", hint="Remove the other links."))
    for other in after_sweep - {node_id}:
        feeds = {l.node for links in workflow.nodes[other].inputs.values() for l in links}
        if feeds & reached - after_sweep:
            issues.append(Problem("sweep", f"node {other!r} takes both the sweep's grid and a result the sweep "
                                  "varies, which differs from cell to cell.", node=other,
                                  hint="Link it to the sweep's images, or to a node the sweep does not vary."))
    return (None if issues else sweep), issues


def reached_by(graph: nx.DiGraph, axes: list[Axis]) -> set[str]:
    return set().union(*(nx.descendants(graph, a.node) | {a.node} for a in axes)) if axes else set()


def _axis(workflow: Workflow, catalogue: Catalogue, sweep_id: str, name: str, target: str, lines: str,
          after_sweep: set[str], issues: list[Problem]) -> Axis | None:
    where = f"sweep {sweep_id!r}, {name}"
    node_id, _, param_name = target.partition(".")
    node = workflow.nodes.get(node_id)
    node_type = catalogue.get(node.type) if node else None
    param = node_type.param(param_name) if node_type else None
    if node is None or param is None:
        known = ", ".join(p.name for p in node_type.params) if node_type else ""
        issues.append(Problem("sweep", f"{where}: {target!r} is not a param of a node in this workflow.",
                              node=sweep_id, port=name, hint=f"{node_id} has params: {known}." if known else
                              'Write it as "node.param", e.g. "gen.model".'))
        return None
    if node_id in after_sweep:
        issues.append(Problem("sweep", f"{where}: node {node_id!r} comes after the sweep, so the sweep cannot vary it.",
                              node=sweep_id, port=name, hint="Sweep a param of a node before the sweep node."))
        return None
    labels = value_lines(lines)
    if labels == [EVERYTHING]:
        options = everything(node_type, param)
        if not options:
            issues.append(Problem("sweep", f"{where}: {EVERYTHING} means every value {target} offers, but it takes "
                                  "any value.", node=sweep_id, port=f"{name}_values",
                                  hint="List the values to try, one per line."))
            return None
        labels = list(options)
    if not labels:
        issues.append(Problem("sweep", f"{where}: no values for {target}.", node=sweep_id, port=f"{name}_values",
                              hint=f"List them one per line ({EVERYTHING} alone: every value it offers)."))
        return None
    values = []
    for label in labels:
        try:
            values.append(param.check(label))
        except ValueError as exc:
            issues.append(Problem("sweep", f"{where}: {label!r} is not a value of {target}: {exc}.", node=sweep_id,
                                  port=f"{name}_values",
                                  hint=f"Choose from: {', '.join(param.choices)}." if param.choices else ""))
    if len(set(map(repr, values))) != len(values):
        issues.append(Problem("sweep", f"{where}: a value of {target} is listed twice.", node=sweep_id,
                              port=f"{name}_values", hint="List each value once."))
    return Axis(name, node_id, param_name, tuple(labels), tuple(values)) if len(values) == len(labels) else None


def everything(node_type: NodeType, param: Param) -> tuple[str, ...]:
    """Every value a param offers: its choices, or for a model node's model, the live models in the table."""
    if param.choices:
        return param.choices
    if node_type.uses_provider and param.name == "model" and param.kind == "text":
        from .providers.models import model_choices  # here: the providers package imports the executor
        return model_choices(param.default, live=True)
    return ()


def expand(workflow: Workflow, catalogue: Catalogue) -> Expansion:
    """The workflow with its sweep (if any) unrolled into one copy per cell of what the swept params reach.

    Call it on a validated workflow; with no sweep node it returns the workflow itself.
    """
    found = sweep_nodes(workflow)
    if not found:
        return Expansion(workflow)
    sweep, _ = read_sweep(workflow, catalogue, found[0])
    if sweep is None:  # validation reported why
        return Expansion(workflow)
    graph = build_graph(workflow)
    cone = reached_by(graph, sweep.axes) - nx.descendants(graph, sweep.node) - {sweep.node}
    reach = {n: [a for a in sweep.axes if a.node == n or a.node in nx.ancestors(graph, n)] for n in cone}
    out = replace(workflow, nodes={n: node for n, node in workflow.nodes.items() if n not in cone},
                  inputs={k: v for k, v in workflow.inputs.items() if v.node not in cone})
    copies: dict[str, list[str]] = {n: [] for n in cone}
    for cell in sweep.cells:
        for node_id in (n for n in workflow.nodes if n in cone):
            copy_id = node_id + sweep.suffix(cell, reach[node_id])
            if copy_id in out.nodes:  # another cell with the same values where it matters made it already
                continue
            original = workflow.nodes[node_id]
            node = replace(original, params=dict(original.params), list_inputs=set(original.list_inputs),
                           inputs={port: [Link(l.node + sweep.suffix(cell, reach[l.node]), l.output)
                                          if l.node in cone else l for l in links]
                                   for port, links in original.inputs.items()})
            for axis in reach[node_id]:
                if axis.node == node_id:
                    node.params[axis.param] = cell.values[axis.target]
                    node.inputs.pop(axis.param, None)  # the swept value wins over a link that fed the param
            out.nodes[copy_id] = node
            copies[node_id].append(copy_id)
    image = workflow.nodes[sweep.node].inputs["image"][0]
    original = workflow.nodes[sweep.node]
    # the grid is drawn from the values as resolved here (a "*" becomes the list it stands for)
    out.nodes[sweep.node] = replace(
        original, list_inputs=original.list_inputs | {"image"},
        params={**original.params, **{f"{a.name}_values": "\n".join(a.labels) for a in sweep.axes}},
        inputs={**original.inputs, "image": [Link(image.node + sweep.suffix(c, reach[image.node]), image.output)
                                           for c in sweep.cells]})
    return Expansion(out, sweep, copies)
