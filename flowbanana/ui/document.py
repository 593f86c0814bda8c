"""The workflow being edited in one browser tab: edits, undo/redo, and what the canvas must redraw.

Python is the source of truth. The canvas sends coarse edits; `Document` applies them to the
`Workflow` model (refusing what can never be valid, such as a link between incompatible types),
keeps the undo history as snapshots, and `patch()` returns only the nodes that changed since the
last call, so a 200-node graph is not re-sent on every keystroke. Nothing here imports NiceGUI.
"""
from __future__ import annotations

import copy
import json
import random
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from ..catalogue import Catalogue
from ..errors import WorkflowInvalid
from ..graph import build_graph
from ..node_api import SEED_MAX, NodeError
from ..porttypes import IMAGE, compatible
from ..providers.models import sent_id, successor_of
from ..subgraph import Subgraphs, rebase_path
from ..subgraph_edit import RegroupRefused, make_subgraph, unpack_subgraph
from ..sweep import SWEEP, sweep_nodes
from ..validation import _convert_hint, validate
from .annotate import Annotations
from ..workflow import (NODE_ID, OUTPUT_NAME, SUBGRAPH, Link, Node, Workflow, WorkflowInput, WorkflowOutput,
                        from_dict, load, loads)

HISTORY = 50           # undo steps kept, as in most node editors
MERGE_SECONDS = 2.0    # edits of the same param this close together are one undo step
COLUMN, ROW = 340, 240  # auto-layout spacing for nodes without a saved position


class EditRefused(NodeError):
    """An edit the document will not make; shown to the user as is, message then hint, like a node's error."""


@dataclass
class Frame:
    """A workflow the user came from while editing a subgraph inside it (the breadcrumb), with its history."""
    workflow: Workflow
    node_id: str
    undo_stack: list[dict]
    redo_stack: list[dict]
    saved: str
    opened: str           # the subgraph's content when it was opened: unchanged means nothing to write back
    file: Path | None     # the subgraph's own file, for one referred to by path


@dataclass
class Document(Annotations):
    workflow: Workflow
    catalogue: Catalogue
    read_roots: tuple[Path, ...] = ()  # folders runs may read besides the workflow's (saved subgraphs live there)
    frames: list[Frame] = field(default_factory=list)
    undo_stack: list[dict] = field(default_factory=list)
    redo_stack: list[dict] = field(default_factory=list)
    # the template (a file in the workflows folder) this untitled copy was opened from: its relative paths
    # still read beside that file, but saving asks where, never writing over the template
    template: Path | None = None
    _saved: str = ""
    _sent: dict[str, dict] = field(default_factory=dict)
    _merge_key: tuple | None = None
    _merge_time: float = 0.0
    _grouped: bool = False

    def __post_init__(self):
        self.layout_missing()
        self._saved = self._fingerprint()

    # ---- state for the canvas -------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        if self.frames:
            return self._fingerprint() != self.frames[-1].opened or self._fingerprint(self.root()) != \
                self.frames[0].saved
        return self._fingerprint() != self._saved

    def mark_saved(self) -> None:
        self._saved = self._fingerprint()

    def _fingerprint(self, workflow: Workflow | None = None) -> str:
        """The file's content except where the user is looking: panning is not an unsaved change."""
        data = (workflow or self.workflow).to_dict()
        data.get("ui", {}).pop("viewport", None)
        return json.dumps(data, sort_keys=True)

    def node_view(self, node_id: str) -> dict:
        node = self.workflow.nodes[node_id]
        layout = self._layout(node_id)
        view = {"type": node.type, "title": node.title or "", "params": copy.deepcopy(node.params),
                "inputs": {port: [str(link) for link in links] for port, links in node.inputs.items()},
                "x": layout.get("x", 0), "y": layout.get("y", 0), "disabled": node.disabled,
                "collapsed": bool(layout.get("collapsed")),
                "extra": list(layout.get("extra_inputs", []))}
        if node.type == SUBGRAPH:  # drawn from its own interface, not from the catalogue
            node_type = self.node_type(node)
            view["def"] = node_type.to_json() if node_type else None
            view["workflow"] = node.workflow if not isinstance(node.workflow, Workflow) else node.workflow.to_dict()
        return view

    def view(self) -> dict:
        """Everything the canvas draws; resets the patch baseline."""
        self._sent = {nid: self.node_view(nid) for nid in self.workflow.nodes}
        problems, warnings = self.checks()
        return {"nodes": copy.deepcopy(self._sent), "viewport": self.viewport, "problems": problems,
                "warnings": warnings, **self.annotations_view()}

    def patch(self) -> dict:
        """The nodes that changed since the last `view()`/`patch()` (None for removed), and the problems."""
        changed: dict[str, dict | None] = {}
        for node_id in self.workflow.nodes:
            current = self.node_view(node_id)
            if self._sent.get(node_id) != current:
                changed[node_id] = current
                self._sent[node_id] = current
        for node_id in [n for n in self._sent if n not in self.workflow.nodes]:
            changed[node_id] = None
            del self._sent[node_id]
        problems, warnings = self.checks()
        return {"nodes": changed, "problems": problems, "warnings": warnings, **self.annotations_patch()}

    def problems(self) -> list[dict]:
        """What stops the whole workflow from running (see `checks`)."""
        return self.checks()[0]

    def checks(self) -> tuple[list[dict], list[dict]]:
        """(problems, warnings): what stops the whole workflow from running, and what is worth saying without
        stopping it (a retired model id sent as its successor, say), each on the node of this level it concerns: a
        problem inside a subgraph marks the subgraph node (inside it, the inner node)."""
        prefix = self.path + "/" if self.frames else ""
        found: tuple[list[dict], list[dict]] = ([], [])
        for problem in validate(self.runnable(), self.catalogue, self.read_roots, warnings=True):
            data = problem.to_json()
            node = data["node"] or ""
            if node.startswith(prefix) and node != prefix:
                data["node"] = node[len(prefix):].split("/")[0]
            else:
                data["node"] = None
            if problem.severity != "error" and data["port"] and data["node"] == node[len(prefix):]:
                named = self.workflow.nodes[data["node"]].params.get(data["port"])
                data["successor"] = successor_of(named.strip()) if isinstance(named, str) else None
            found[problem.severity != "error"].append(data)
        return found

    def update_retired_models(self) -> dict[str, tuple[str, str]]:
        """Every model param of this level that names a retired id set to its successor, as one undo step:
        {node id: (the id it named, the id it names now)}."""
        changes: dict[str, tuple[str, str, str]] = {}
        for node_id, node in self.workflow.nodes.items():
            node_type = self.node_type(node)
            for param in node_type.params if node_type else ():
                named = node.params.get(param.name)
                if param.sent_as is sent_id and isinstance(named, str) and (new := successor_of(named.strip())):
                    changes[node_id] = (param.name, named, new)
        if changes:
            with self.group():
                for node_id, (name, _, new) in changes.items():
                    self.workflow.nodes[node_id].params[name] = new
        return {node_id: (old, new) for node_id, (_, old, new) in changes.items()}

    # ---- subgraphs -------------------------------------------------------------------------
    def node_type(self, node: Node):
        """The node's type: from the catalogue, or for a subgraph node from its workflow's interface."""
        if node.type != SUBGRAPH:
            return self.catalogue.get(node.type)
        return Subgraphs(self.catalogue, self.read_roots).node_type(node, self.workflow.base_dir)

    @property
    def path(self) -> str:
        """Where the user is: "" at the top, else the subgraph nodes' ids ("pair/left"), as runs name inner nodes."""
        return "/".join(frame.node_id for frame in self.frames)

    def breadcrumb(self) -> list[str]:
        """The names along the path: the workflow's, then each open subgraph's."""
        return [frame.workflow.name for frame in self.frames] + [self.workflow.name]

    def root(self) -> Workflow:
        """The whole workflow with the open subgraphs' edits in it (an edited subgraph file is written on leaving
        it, so the top refers to it unchanged)."""
        workflow = self.workflow
        for frame in reversed(self.frames):
            if frame.file is None:
                parent = frame.workflow.copy()
                inner = workflow.copy()
                inner.source = None
                parent.nodes[frame.node_id].workflow = inner
                workflow = parent
            else:
                workflow = frame.workflow
        return workflow

    def runnable(self) -> Workflow:
        """The whole workflow as a run now would see it: open subgraph files with their unsaved edits too."""
        workflow = self.workflow
        for frame in reversed(self.frames):
            parent = frame.workflow.copy()
            inner = workflow.copy()
            if frame.file is not None:
                Subgraphs(self.catalogue, self.read_roots).rebase_all(inner, frame.file.parent,
                                                                       parent.base_dir.resolve())
            inner.source = None
            parent.nodes[frame.node_id].workflow = inner
            workflow = parent
        return workflow

    def open_subgraph(self, node_id: str) -> None:
        """Edit a subgraph node's workflow in place; `close_subgraph` goes back."""
        node = self._node(node_id)
        if node.type != SUBGRAPH:
            raise EditRefused(f"node {node_id!r} is not a subgraph.")
        base = self.workflow.base_dir.resolve()
        try:
            sub, _, chain = Subgraphs(self.catalogue, self.read_roots).resolve(
                node, node_id, base, (), (base, *self.read_roots))
        except WorkflowInvalid as exc:
            raise EditRefused(f"cannot open subgraph {node_id!r}: {exc.problems[0].message}",
                              exc.problems[0].hint) from None
        file = chain[-1] if isinstance(node.workflow, str) else None
        inner = load(file) if file else sub.copy()
        if file is None:
            inner.source = self.workflow.source  # an embedded workflow reads from its holder's folder
        self.frames.append(Frame(self.workflow, node_id, self.undo_stack, self.redo_stack,
                                 self._saved if len(self.frames) == 0 else self.frames[0].saved,
                                 self._fingerprint(inner), file))
        self.workflow, self.undo_stack, self.redo_stack = inner, [], []
        self._merge_key = None
        self.layout_missing()

    def close_subgraph(self) -> Path | None:
        """Back to the workflow holding the open subgraph; its edits go into the node (one undoable step), or into
        its own file, which is then written and returned."""
        frame = self.frames.pop()
        edited, changed = self.workflow, self._fingerprint() != frame.opened
        self.workflow, self.undo_stack, self.redo_stack = frame.workflow, frame.undo_stack, frame.redo_stack
        self._merge_key = None
        if not self.frames:
            self._saved = frame.saved
        if not changed:
            return None
        if frame.file is not None:
            edited.save(frame.file)
            return frame.file
        self._checkpoint()
        inner = edited.copy()
        inner.source = None
        self.workflow.nodes[frame.node_id].workflow = inner
        return None

    def make_subgraph(self, node_ids: list[str]) -> str:
        """Put the selected nodes into one new subgraph node (embedded); returns its id."""
        before = set(self.workflow.nodes)
        try:
            made = make_subgraph(self.workflow, node_ids, Subgraphs(self.catalogue, self.read_roots))
        except RegroupRefused as exc:
            raise EditRefused(str(exc)) from None
        self._checkpoint()
        self.workflow = made
        return next(n for n in made.nodes if n not in before)

    def unpack(self, node_id: str) -> list[str]:
        """Replace a subgraph node by its nodes; returns their ids."""
        before = set(self.workflow.nodes)
        try:
            unpacked = unpack_subgraph(self.workflow, node_id, Subgraphs(self.catalogue, self.read_roots))
        except (RegroupRefused, WorkflowInvalid) as exc:
            raise EditRefused(str(exc)) from None
        self._checkpoint()
        self.workflow = unpacked
        return [n for n in unpacked.nodes if n not in before]

    def rebase_references(self, folder: Path) -> None:
        """Before saving into another folder: subgraph files referred to by path stay the same files."""
        old = self.workflow.base_dir.resolve()
        for node in self.workflow.nodes.values():
            if node.type == SUBGRAPH and isinstance(node.workflow, str):
                node.workflow = rebase_path(node.workflow, old, folder.resolve())

    @property
    def viewport(self) -> dict:
        return dict(self.workflow.ui.get("viewport", {}))

    def set_viewport(self, x: float, y: float, zoom: float) -> None:
        """Where the user looks is saved with the file but is not an undoable edit."""
        self.workflow.ui["viewport"] = {"x": round(x, 1), "y": round(y, 1), "zoom": round(zoom, 3)}

    # ---- history -------------------------------------------------------------------------
    @contextmanager
    def group(self):
        """Several edits as one undo step (a link moved from one input to another, a node added and linked)."""
        self._checkpoint()
        self._grouped = True
        try:
            yield
        finally:
            self._grouped = False

    def _checkpoint(self, merge_key: tuple | None = None) -> None:
        if self._grouped:
            return
        now = time.monotonic()
        if merge_key is not None and merge_key == self._merge_key and now - self._merge_time < MERGE_SECONDS:
            self._merge_time = now
            return
        self._merge_key, self._merge_time = merge_key, now
        self.undo_stack.append(self._snapshot())
        del self.undo_stack[:-HISTORY]
        self.redo_stack.clear()

    def _snapshot(self) -> dict:
        return self.workflow.to_dict()

    def _restore(self, snapshot: dict) -> None:
        viewport = self.workflow.ui.get("viewport")
        source = self.workflow.source
        self.workflow = from_dict(snapshot)
        self.workflow.source = source
        if viewport:  # undo changes the graph, not where the user is looking
            self.workflow.ui["viewport"] = viewport

    def undo(self) -> bool:
        return self._step(self.undo_stack, self.redo_stack)

    def redo(self) -> bool:
        return self._step(self.redo_stack, self.undo_stack)

    def _step(self, back: list[dict], forth: list[dict]) -> bool:
        """Go to the newest snapshot of `back`, keeping the present on `forth`."""
        if not back:
            return False
        forth.append(self._snapshot())
        self._restore(back.pop())
        self._merge_key = None
        return True

    def replace(self, workflow: Workflow, saved: bool = True, template: Path | None = None) -> None:
        """Open another workflow: a fresh history; `saved=False` for one restored from autosave; `template`
        when it is an untitled copy of that file."""
        self.workflow = workflow
        self.template = template
        self.frames.clear()
        self.undo_stack.clear()
        self.redo_stack.clear()
        self._merge_key = None
        self.layout_missing()
        self._saved = self._fingerprint() if saved else ""

    # ---- edits ---------------------------------------------------------------------------
    def add_node(self, type_id: str, x: float, y: float, name: str | None = None, workflow: Path | None = None) -> str:
        """A new node of the type, or (type "workflow") one using the saved workflow file `workflow`; its id is `name`
        (or the type's own name, or the file's), numbered if taken."""
        if type_id == SUBGRAPH and workflow is not None:
            ref = rebase_path(workflow.name, workflow.parent.resolve(), self.workflow.base_dir.resolve())
            node = Node(type=SUBGRAPH, workflow=ref)
            if self.node_type(node) is None:
                raise EditRefused(f"{workflow.name} cannot be used as a node.", "Open it to see its problems.")
            base = workflow.stem
        elif self.catalogue.get(type_id) is None:
            raise EditRefused(f"there is no node type {type_id!r}.", "Pick a node from the palette.")
        else:
            node, base = Node(type=type_id), type_id.split(".")[1]
        self._checkpoint()
        node_id = self._fresh_id(name or base)
        self.workflow.nodes[node_id] = node
        self._set_position(node_id, x, y)
        return node_id

    def move(self, moves: dict[str, Any], boxes: dict[str, dict] | None = None) -> None:
        """Nodes to new places, with the groups and notes that moved with them (a dragged group), as one step."""
        moves = {n: xy for n, xy in moves.items() if n in self.workflow.nodes}
        boxes = self.known_boxes(boxes or {})
        if not moves and not boxes:
            return
        self._checkpoint()
        self.move_annotations(boxes)
        for node_id, (x, y) in moves.items():
            self._set_position(node_id, x, y)

    def set_param(self, node_id: str, name: str, value: Any) -> None:
        node = self._node(node_id)
        node_type = self.node_type(node)
        param = node_type.param(name) if node_type else None
        if param is None:
            raise EditRefused(f"node {node_id!r} has no param {name!r}.")
        try:
            value = param.check(value)
        except ValueError:
            pass  # keep what was typed; validation shows what is wrong on the node
        if node.params.get(name, param.default) == value and name in node.params:
            return
        self._checkpoint(merge_key=("param", node_id, name))
        node.params[name] = value

    def set_title(self, node_id: str, title: str) -> None:
        node = self._node(node_id)
        self._checkpoint(merge_key=("title", node_id))
        node.title = title.strip() or None

    def set_disabled(self, node_id: str, disabled: bool) -> None:
        """A disabled node is kept in the file but skipped by runs, with what depends on it."""
        node = self._node(node_id)
        if node.disabled != bool(disabled):
            self._checkpoint()
            node.disabled = bool(disabled)

    def set_collapsed(self, node_id: str, collapsed: bool) -> None:
        """Folded to its header on the canvas: layout only, kept under ui."""
        self._node(node_id)
        layout = self._layout(node_id)
        if bool(layout.get("collapsed")) != bool(collapsed):
            self._checkpoint()
            if collapsed:
                layout["collapsed"] = True
            else:
                layout.pop("collapsed", None)

    def set_meta(self, name: str | None = None, description: str | None = None) -> None:
        self._checkpoint(merge_key=("meta",))
        if name is not None:
            self.workflow.name = name.strip() or "Untitled"
        if description is not None:
            self.workflow.description = description

    def regenerate_seed(self, node_id: str) -> bool:
        """A new random seed for the node's seed params; False when it has none."""
        node = self._node(node_id)
        node_type = self.node_type(node)
        seeds = [p for p in (node_type.params if node_type else ()) if p.kind == "seed" and p.name not in node.inputs]
        if not seeds:
            return False
        self._checkpoint()
        for param in seeds:
            node.params[param.name] = random.randint(0, SEED_MAX)
        return True

    def connect(self, source: str, output: str, target: str, port: str) -> None:
        src, dst = self._node(source), self._node(target)
        src_type, dst_type = self.node_type(src), self.node_type(dst)
        out = src_type.output_port(output) if src_type else None
        into = dst_type.port(port) if dst_type else None
        if out is None or into is None:
            raise EditRefused(f"cannot link {source}.{output} to {target}.{port}: no such port.")
        if not compatible(out.type, into.type):
            raise EditRefused(f"{target}.{port} takes {into.type}; {source}.{output} gives {out.type}.",
                              _convert_hint(out.type, into.type))
        if source == target or nx.has_path(build_graph(self.workflow), target, source):
            raise EditRefused(f"linking {source} into {target} would make a cycle.",
                              "A node cannot depend on its own result.")
        link = Link(source, output)
        links = dst.inputs.get(port, [])
        if link in links:
            return
        self._checkpoint()
        dst.inputs[port] = [*links, link] if getattr(into, "list", False) else [link]

    def disconnect(self, target: str, port: str, link: str) -> None:
        node = self._node(target)
        parsed = Link.parse(link)
        if parsed not in node.inputs.get(port, []):
            return
        self._checkpoint()
        node.inputs[port] = [l for l in node.inputs[port] if l != parsed]
        if not node.inputs[port]:
            del node.inputs[port]
            node.list_inputs.discard(port)

    def add_extra_input(self, node_id: str, name: str) -> None:
        node = self._node(node_id)
        node_type = self.catalogue.get(node.type)
        name = name.strip()
        if not node_type or not node_type.extra_inputs:
            raise EditRefused(f"node {node_id!r} takes no extra inputs.")
        if not name.isidentifier() or node_type.input(name) or node_type.param(name):
            raise EditRefused(f"{name!r} cannot be an input name here.",
                              "Use a plain name like subject (letters, digits and _), not a param's name.")
        extra = self._layout(node_id).setdefault("extra_inputs", [])
        if name not in extra:
            self._checkpoint()
            self._layout(node_id)["extra_inputs"] = [*extra, name]

    def expose(self, name: str, node_id: str, param: str, description: str = "") -> None:
        """Make a node's param a workflow input: a field in the form, `--set NAME=...` on the command line."""
        node = self._node(node_id)
        node_type = self.node_type(node)
        name = name.strip()
        if not node_type or not node_type.param(param):
            raise EditRefused(f"node {node_id!r} has no param {param!r}.")
        if not NODE_ID.match(name):
            raise EditRefused(f"{name!r} cannot be an input name.", "Use letters, digits, _ and - only.")
        if name in self.workflow.inputs:
            raise EditRefused(f"the workflow already has an input named {name!r}.", "Pick another name.")
        self._checkpoint()
        self.workflow.inputs[name] = WorkflowInput(node_id, param, description.strip())

    def expose_output(self, name: str, node_id: str, output: str, description: str = "") -> None:
        """Make a node's output a workflow output: what the workflow gives when used as a node (or over HTTP)."""
        node_type = self.node_type(self._node(node_id))
        name = name.strip()
        if not node_type or not node_type.output_port(output):
            raise EditRefused(f"node {node_id!r} has no output {output!r}.")
        if not OUTPUT_NAME.match(name):
            raise EditRefused(f"{name!r} cannot be an output name.",
                              "Start with a letter; use letters, digits and _ only (it is linked as NODE.NAME).")
        if name in self.workflow.outputs:
            raise EditRefused(f"the workflow already has an output named {name!r}.", "Pick another name.")
        self._checkpoint()
        self.workflow.outputs[name] = WorkflowOutput(node_id, output, description.strip())

    def unexpose_output(self, name: str) -> None:
        if name in self.workflow.outputs:
            self._checkpoint()
            del self.workflow.outputs[name]

    def unexpose(self, name: str) -> None:
        if name in self.workflow.inputs:
            self._checkpoint()
            del self.workflow.inputs[name]

    def delete(self, nodes: list[str] = (), links: list[dict] = ()) -> None:
        nodes = [n for n in nodes if n in self.workflow.nodes]
        links = [l for l in links if l.get("target") in self.workflow.nodes]
        if not nodes and not links:
            return
        self._checkpoint()
        for spec in links:
            target = self.workflow.nodes.get(spec["target"])
            if target and spec["port"] in target.inputs:
                target.inputs[spec["port"]] = [l for l in target.inputs[spec["port"]] if str(l) != spec["link"]]
                if not target.inputs[spec["port"]]:
                    del target.inputs[spec["port"]]
        gone = set(nodes)
        for node_id in gone:
            del self.workflow.nodes[node_id]
            self.workflow.ui.get("nodes", {}).pop(node_id, None)
        for node in self.workflow.nodes.values():
            for port in list(node.inputs):
                node.inputs[port] = [l for l in node.inputs[port] if l.node not in gone]
                if not node.inputs[port]:
                    del node.inputs[port]
        self.workflow.inputs = {k: v for k, v in self.workflow.inputs.items() if v.node not in gone}
        self.workflow.outputs = {k: v for k, v in self.workflow.outputs.items() if v.node not in gone}

    def sweep(self, node_id: str, param: str, values: str, axis: str = "x", mode: str | None = None) -> str:
        """Sweep a node's param over `values` (one per line) as the x or y of the workflow's sweep node; when there
        is none yet, one is added beside the image the node makes (or the first made after it) and linked to it.
        One undo step; returns the sweep node's id."""
        node = self._node(node_id)
        node_type = self.catalogue.get(node.type)
        if node_type is None or node_type.param(param) is None:
            raise EditRefused(f"node {node_id!r} has no param {param!r}.")
        if axis not in ("x", "y"):
            raise EditRefused(f"a sweep has an x and a y, not {axis!r}.")
        found = sweep_nodes(self.workflow)
        with self.group():
            if found:
                sweep_id = found[0]
            else:
                source = self.image_after(node_id)
                if source is None:
                    raise EditRefused(f"nothing at or after node {node_id!r} makes an image to compare.",
                                      "Link it into a node that makes an image (Generate image, say) first.")
                x, y = self._free_spot_after(source[0])
                sweep_id = self.add_node(SWEEP, x, y, name="sweep")
                self.connect(source[0], source[1], sweep_id, "image")
            params = self.workflow.nodes[sweep_id].params
            params[axis] = f"{node_id}.{param}"
            params[f"{axis}_values"] = values.strip()
            if mode:
                params["mode"] = mode
        return sweep_id

    def use_values(self, values: dict[str, Any]) -> None:
        """Set params named "node.param" (a sweep cell's values) on the graph, as one undo step."""
        with self.group():
            for target, value in values.items():
                node_id, _, param = target.partition(".")
                self.set_param(node_id, param, value)

    def _free_spot_after(self, node_id: str) -> tuple[float, float]:
        """A place one column right of the node, below whatever already stands in that column."""
        spot = self._layout(node_id)
        x, y = spot.get("x", 0) + COLUMN, spot.get("y", 0)
        below = [self._layout(n).get("y", 0) for n in self.workflow.nodes
                 if abs(self._layout(n).get("x", 0) - x) < COLUMN * 0.8 and self._layout(n).get("y", 0) >= y - ROW]
        return x, (max(below) + ROW if below else y)

    def image_after(self, node_id: str) -> tuple[str, str] | None:
        """(node, output) of the image a sweep of this node's params would show: its own, or the nearest after it."""
        graph = build_graph(self.workflow)
        for candidate in [node_id, *(n for n, _ in nx.bfs_edges(graph, node_id))]:
            node_type = self.catalogue.get(self.workflow.nodes[candidate].type)
            if node_type is None or node_type.id == SWEEP:
                continue
            output = next((o.name for o in node_type.outputs if o.type == IMAGE), None)
            if output:
                return candidate, output
        return None

    def paste(self, text: str, x: float, y: float) -> list[str]:
        """Add the nodes of a workflow JSON (the clipboard's); links to nodes outside it are dropped."""
        try:
            fragment = loads(text)
        except WorkflowInvalid as exc:
            raise EditRefused("the clipboard does not hold flowbanana nodes.", exc.problems[0].message) from None
        return self._insert(fragment, x, y, keep_outside=False)

    def duplicate(self, node_ids: list[str]) -> list[str]:
        """Copies of the nodes, offset a little; links from outside the selection are kept."""
        fragment = self.fragment(node_ids)
        if not fragment.nodes:
            return []
        left = min(self._layout(n).get("x", 0) for n in fragment.nodes)
        top = min(self._layout(n).get("y", 0) for n in fragment.nodes)
        return self._insert(fragment, left + 40, top + 40, keep_outside=True)

    def fragment(self, node_ids: list[str]) -> Workflow:
        """The selected nodes as a workflow of their own, with their layout."""
        data = self.workflow.to_dict()
        keep = [n for n in node_ids if n in self.workflow.nodes]
        data["nodes"] = {n: data["nodes"][n] for n in keep}
        data["ui"] = {"nodes": {n: self.workflow.ui.get("nodes", {}).get(n, {}) for n in keep}}
        data.pop("inputs", None)
        return from_dict(data)

    def _insert(self, fragment: Workflow, x: float, y: float, keep_outside: bool) -> list[str]:
        if not fragment.nodes:
            return []
        self._checkpoint()
        layout = fragment.ui.get("nodes", {})
        left = min((layout.get(n, {}).get("x", 0) for n in fragment.nodes), default=0)
        top = min((layout.get(n, {}).get("y", 0) for n in fragment.nodes), default=0)
        renamed: dict[str, str] = {}
        for old in fragment.nodes:
            renamed[old] = self._fresh_id(old.rstrip("0123456789_") or "node", taken=set(renamed.values()))
        for old, node in fragment.nodes.items():
            new = renamed[old]
            node.inputs = {port: [Link(renamed[l.node], l.output) if l.node in renamed else l for l in links
                                  if l.node in renamed or (keep_outside and l.node in self.workflow.nodes)]
                           for port, links in node.inputs.items()}
            node.inputs = {port: links for port, links in node.inputs.items() if links}
            self.workflow.nodes[new] = node
            spot = dict(layout.get(old, {}))
            spot["x"] = x + spot.get("x", 0) - left
            spot["y"] = y + spot.get("y", 0) - top
            self.workflow.ui.setdefault("nodes", {})[new] = spot
        return list(renamed.values())

    # ---- helpers -------------------------------------------------------------------------
    def _node(self, node_id: str) -> Node:
        node = self.workflow.nodes.get(node_id)
        if node is None:
            raise EditRefused(f"there is no node {node_id!r} any more.")
        return node

    def _layout(self, node_id: str) -> dict:
        nodes = self.workflow.ui.setdefault("nodes", {})
        if not isinstance(nodes.get(node_id), dict):
            nodes[node_id] = {}
        return nodes[node_id]

    def _set_position(self, node_id: str, x: float, y: float) -> None:
        layout = self._layout(node_id)
        layout["x"], layout["y"] = round(float(x)), round(float(y))

    def _fresh_id(self, base: str, taken: set[str] = frozenset()) -> str:
        base = re.sub(r"[^A-Za-z0-9_-]+", "_", base) or "node"
        candidate, n = base, 1
        while candidate in self.workflow.nodes or candidate in taken:
            n += 1
            candidate = f"{base}_{n}"
        return candidate

    def layout_missing(self) -> None:
        """Place nodes without a saved position in columns by depth, so a hand-written file opens tidy."""
        placed = self.workflow.ui.get("nodes", {})
        missing = [n for n in self.workflow.nodes
                   if not isinstance(placed.get(n), dict) or "x" not in placed[n] or "y" not in placed[n]]
        if not missing:
            return
        graph = build_graph(self.workflow)
        try:
            generations = list(nx.topological_generations(graph))
        except nx.NetworkXUnfeasible:  # a cycle: validation reports it; lay out in file order
            generations = [list(self.workflow.nodes)]
        for column, generation in enumerate(generations):
            for row, node_id in enumerate(n for n in self.workflow.nodes if n in generation):
                if node_id in missing:
                    self._set_position(node_id, 80 + column * COLUMN, 80 + row * ROW)

