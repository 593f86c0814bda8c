"""One browser tab of the editor: the toolbar, the canvas and the side panel, wired to a `Document`.

Every edit from the canvas goes through `on_edit`: the document applies it (or refuses it with a
message), the canvas gets a patch of what changed, and the tab's autosave is updated, so a refresh
or a closed tab never loses the graph.
"""
from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import quote

import networkx as nx
from nicegui import app, background_tasks, ui

from ..errors import WorkflowInvalid
from ..graph import build_graph
from ..porttypes import compatible
from ..server.endpoints import NAME
from ..subgraph import Subgraphs
from ..workflow import SUBGRAPH, Workflow, loads
from .canvas import FlowCanvas
from .compare import CompareDialog
from .history import HistoryPanel
from .document import Document, EditRefused
from .freshness import signatures
from .levels import LevelStatuses
from .library import file_name, first_workflow, free_name, restore, templates
from .mask_editor import MaskDialog, carry_masks
from .notices import notify, offer
from .panels import SidePanel, settings_dialog
from .runner import EditorConfig, RunController
from .sharing import MAX_SHARED_BYTES, SHARED_SUFFIXES, download_bundle, open_shared
from .statusbatch import StatusBatch
from .sweeps import GridDialog, SweepDialog
from .tab import TABS
from .theme import apply_theme

log = logging.getLogger("flowbanana.ui")
AUTOSAVE_KEY = "flowbanana.autosave"
RESULTS_KEY = "flowbanana.results"  # per tab: result history and gallery, so a refresh keeps the thumbnails
FILES_ROUTE = "/flowbanana/files"


class Editor:
    def __init__(self, config: EditorConfig):
        self.config = config
        self.token = secrets.token_urlsafe(18)
        TABS[self.token] = self
        self.doc = Document(Workflow(name="Untitled"), config.catalogue, read_roots=config.read_roots)
        self.levels = LevelStatuses()
        self.shown_by: dict[str, str] = {}  # each subgraph node here -> the inner node whose results stand for it
        self.summary: dict | None = None
        self._title = ""
        self.batch = StatusBatch(self._send_statuses)  # a run's statuses, at most ~10 messages a second
        self._run_sigs: dict[str, str] = {}   # each node's digest when the last run started: its results' stamp
        self._sigs_sent: dict[str, str] = {}  # the digests the canvas has, to dim results a change made stale
        self.runner = RunController(config, on_status=self._statuses, on_finished=self._finished,
                                    on_problems=self._run_problems, on_notice=self.notice,
                                    on_not_batched=self._not_batched)
        self._last_run: tuple[set[str] | None, set[str]] = (None, set())  # the last run's targets and force
        self._build()

    # ---- layout --------------------------------------------------------------------------
    def _build(self) -> None:
        apply_theme()
        with ui.header().classes("fb-toolbar items-center gap-2 px-3 py-0 h-[52px] no-wrap") as self.header:
            ui.label("flowbanana").classes("text-subtitle1 text-weight-bold").style("color:#f7d046")
            self.name = ui.input(value="").props("dense borderless input-class=text-white data-testid=wf-name") \
                .classes("fb-name w-64").on("blur", lambda e: self._set_name(self.name.value)) \
                .on("keydown.enter", lambda e: self._set_name(self.name.value))
            self.unsaved = ui.label("● unsaved").classes("text-caption text-amber-4").props("data-testid=unsaved")
            self.copy_note = ui.label().classes("text-caption text-grey-5").props("data-testid=template-copy") \
                .tooltip("A template opens as an untitled copy: Save asks for a name, so the template stays as it is")
            self.crumbs = ui.row().classes("items-center gap-0 no-wrap fb-breadcrumb").props("data-testid=breadcrumb")
            with ui.button("File", icon="folder_open").props("flat dense no-caps color=grey-4 data-testid=file-menu"):
                self.file_menu = ui.menu().props("dark")
            ui.separator().props("vertical").classes("q-mx-xs")
            self.undo_btn = ui.button(icon="undo", on_click=self.undo).props("flat dense round color=grey-4") \
                .tooltip("Undo (Ctrl+Z)")
            self.redo_btn = ui.button(icon="redo", on_click=self.redo).props("flat dense round color=grey-4") \
                .tooltip("Redo (Ctrl+Shift+Z)")
            ui.space()
            self.badge = ui.button(on_click=lambda: self.settings.open()) \
                .props("outline dense no-caps size=sm data-testid=provider-badge")
            self.settings = settings_dialog(self.config, self._show_provider)
            ui.button(icon="settings", on_click=lambda: self.settings.open()) \
                .props("flat dense round color=grey-4").tooltip("Settings")
            ui.button("App", icon="smartphone", on_click=self.open_app) \
                .props("flat dense no-caps color=grey-4 data-testid=app-view") \
                .tooltip("This workflow as an app, in a new tab: a form from its inputs, Run and the results, "
                         "for people who never see the graph")
            self.estimate_btn = ui.button("Estimate", icon="payments", on_click=self.estimate) \
                .props("flat dense no-caps color=grey-4 data-testid=estimate") \
                .tooltip("What a run would cost: model calls not yet cached, priced per image")
            self.stop_btn = ui.button("Stop", icon="stop", on_click=self.runner.stop) \
                .props("flat dense no-caps color=red-4 data-testid=stop")
            ui.checkbox("Batch").bind_value(self.runner, "batch") \
                .props("dense dark color=amber size=sm data-testid=batch").classes("text-grey-4 text-caption") \
                .tooltip("Send the model calls as Gemini Batch API jobs: half the price, done within 24 hours. "
                         "The run waits for them; Stop leaves the jobs going, and running again picks them up.")
            self.run_btn = ui.button("Run", icon="play_arrow", on_click=lambda: self.run()) \
                .props("unelevated no-caps text-color=black data-testid=run").tooltip("Run the workflow (Ctrl+Enter)")
            ui.button(icon="view_sidebar", on_click=lambda: self.drawer.toggle()) \
                .props("flat dense round color=grey-4 data-testid=side-toggle").tooltip("Inputs and results")
        with ui.right_drawer(value=True, fixed=True).classes("fb-side p-0").props("width=320 bordered") as self.drawer:
            self.side = SidePanel(on_param=self._form_param, on_description=self._set_description,
                                  on_remove=self._unexpose, on_remove_output=self._unexpose_output)
            with self.side.history:
                HistoryPanel(self.config.runs(), self.config.previews, on_open=self.open_text, on_notice=self.notice)
        self.canvas = FlowCanvas(self.config.catalogue, self.config.workflows_dir, on_edit=self.on_edit,
                                 on_command=self.on_command,
                                 on_viewport=self._viewport).classes("w-full").style("height: calc(100vh - 52px)")
        self.canvas.on("ready", lambda: self._ready())
        self.masks = MaskDialog(self)
        self.compare = CompareDialog(self)
        self.sweeps = SweepDialog(self)
        self.grid = GridDialog(self)
        self._build_file_menu()
        self._show_provider()
        self._show_state()

    def _build_file_menu(self) -> None:
        self.file_menu.clear()
        with self.file_menu:
            ui.menu_item("New", on_click=self.new)
            ui.menu_item("Open (.json, image, .zip bundle)…", on_click=self._open_dialog)
            ui.menu_item("Save  (Ctrl+S)", on_click=self.save)
            ui.menu_item("Save to workflows folder as…", on_click=self._save_as_dialog)
            ui.menu_item("Download .json", on_click=self.download)
            ui.menu_item("Export bundle (.zip with its files)", on_click=lambda: download_bundle(self)) \
                .props("data-testid=export-bundle")
            ui.separator()
            ui.item_label(f"Templates ({self.config.workflows_dir.name}/)").props("header") \
                .classes("text-grey-5 text-caption")
            for path, name in templates(self.config.workflows_dir):
                ui.menu_item(name, on_click=lambda p=path: self.open_path(p, template=True)) \
                    .props(f"data-testid=template-{path.stem}")

    # ---- start-up ------------------------------------------------------------------------
    def _ready(self) -> None:
        """The canvas is mounted: open what this tab had (a refresh), the last autosave, or the example."""
        self.canvas.run_method("setUploadToken", self.token)
        if self.runner.running or self.doc.workflow.nodes:  # a reconnect: the graph is here already
            self._load_canvas()
            return
        tab = app.storage.tab.get(AUTOSAVE_KEY)
        general = app.storage.general.get(AUTOSAVE_KEY)
        file = self.config.file.resolve() if self.config.file else None
        record = tab
        if restore(tab) is None and general and (file is None or general.get("source") == str(file)):
            record = general
        workflow, saved = restore(record), not (record or {}).get("dirty")
        template = Path(record["template"]) if workflow is not None and (record or {}).get("template") else None
        if workflow is None:
            workflow, saved = first_workflow(self.config.workflows_dir, self.config.file), True
            if workflow.source and workflow.source != file:  # the example, not the file asked for: a copy
                template = workflow.source
        self.doc.replace(workflow, saved=saved, template=template)
        results = app.storage.tab.get(RESULTS_KEY) or {}
        self.runner.history.update(results.get("history", {}))
        self.runner.gallery[:] = results.get("gallery", [])
        self.summary = results.get("summary")
        self._load_canvas()
        if self.summary or self.runner.gallery:
            self.side.show_results(self.runner, self.summary, self.file_url)

    def _load_canvas(self) -> None:
        self.batch.flush()  # what a run said so far goes before the canvas starts over
        self.canvas.load(self.doc.view())
        self._sigs_sent = {}
        self._shown_by()
        statuses = self.levels.local({n: {"history": h} for n, h in self.runner.history.items()}, self.doc.path,
                                     self.shown_by)
        statuses = {n: s for n, s in statuses.items() if n in self.doc.workflow.nodes and s}
        if statuses:
            self.canvas.set_statuses(statuses)
        self._send_signatures()
        self.side.show_form(self.doc, on_pick=self._show_node)
        self._show_state()

    # ---- edits from the canvas -----------------------------------------------------------
    def on_edit(self, args: dict) -> None:
        op = args.get("op")
        select = None
        try:
            if op == "move":
                self.doc.move({k: v for k, v in args["moves"].items()}, args.get("boxes"))
            elif op == "annotate":
                self.doc.annotate(args)
            elif op == "param":
                self.doc.set_param(args["node"], args["name"], args["value"])
            elif op == "title":
                self.doc.set_title(args["node"], args["title"])
            elif op == "disable":
                self.doc.set_disabled(args["node"], args["value"])
            elif op == "collapse":
                self.doc.set_collapsed(args["node"], args["value"])
            elif op == "connect":
                with self.doc.group():
                    if args.get("replace"):
                        r = args["replace"]
                        self.doc.disconnect(r["target"], r["port"], r["link"])
                    self.doc.connect(args["source"], args["output"], args["target"], args["port"])
            elif op == "disconnect":
                self.doc.disconnect(args["target"], args["port"], args["link"])
            elif op == "delete":
                self.doc.delete(args.get("nodes", []), args.get("links", []))
            elif op == "add":
                select = [self._add(args)]
            elif op == "duplicate":
                select = self.doc.duplicate(args.get("nodes", []))
            elif op == "paste":
                select = self.doc.paste(args["text"], args.get("x", 0), args.get("y", 0))
            elif op == "add_input":
                self.doc.add_extra_input(args["node"], args["name"])
            else:
                log.warning("unknown edit %r", op)
        except EditRefused as exc:
            self.notice(str(exc), "warning")
        except (KeyError, TypeError, ValueError) as exc:  # a malformed message from the page: say so, keep going
            log.warning("edit %r not applied: %r", op, exc)
            self.notice(f"That edit could not be applied ({op}).", "warning")
        self.refresh(select=select, form=op not in ("move", "annotate"))

    def _add(self, args: dict) -> str:
        """A node from the palette or the search box (a saved workflow too); linked to the port the search was
        opened from."""
        link = args.get("link")
        saved = self.config.workflows_dir / Path(args["workflow"]).name if args.get("workflow") else None
        with self.doc.group():
            node_id = self.doc.add_node(args["type"], args["x"], args["y"], workflow=saved)
            if link:
                node_type = self.doc.node_type(self.doc.workflow.nodes[node_id])
                if link["from"] == "out":
                    port = self._port_for(node_id, node_type, link)
                    if port:
                        self.doc.connect(link["node"], link["port"], node_id, port)
                else:
                    out = next((o.name for o in node_type.outputs if compatible(o.type, link["type"])), None)
                    if out:
                        self.doc.connect(node_id, out, link["node"], link["port"])
        return node_id

    def _port_for(self, node_id: str, node_type, link: dict) -> str | None:
        """Where a new node takes the dragged link, ranked as the canvas's search ranks it: an input of the
        type, then an extra input named after the source node (a template field), then a prompt-like param."""
        kind = link["type"]
        found = next((p.name for p in node_type.inputs if p.type != "ANY" and compatible(kind, p.type)), None)
        if found:
            return found
        if node_type.extra_inputs and compatible(kind, node_type.extra_inputs):
            name = link["node"]
            if not name.isidentifier() or node_type.input(name) or node_type.param(name):
                name = link["port"]
            self.doc.add_extra_input(node_id, name)
            return name
        params = sorted(node_type.params, key=lambda p: p.kind != "multiline")
        return next((p.name for p in [*params, *node_type.inputs] if compatible(kind, p.type)), None)

    def refresh(self, select: list[str] | None = None, form: bool = True) -> None:
        """Send what changed to the canvas, update the toolbar and the autosave."""
        patch = self.doc.patch()
        if select:
            patch["select"] = select
        self.canvas.patch(patch)
        self._send_signatures()
        if form:
            self.side.show_form(self.doc, on_pick=self._show_node)
        self._show_state()
        self._autosave()

    def _send_signatures(self) -> None:
        """The nodes' digests that changed, for the canvas to dim each result made under another (a param or a link
        of it or upstream changed since). Results are stamped at the top level only."""
        if self.doc.frames or not self.runner.history:
            return
        changed = {n: s for n, s in signatures(self.doc.workflow).items() if self._sigs_sent.get(n) != s}
        if changed:
            self._sigs_sent.update(changed)
            self.canvas.set_statuses({n: {"sig": s} for n, s in changed.items()})

    def _show_node(self, node_id: str) -> None:
        self.canvas.run_method("centerOn", node_id)
        self.canvas.run_method("selectOnly", node_id)

    def _viewport(self, args: dict) -> None:
        self.doc.set_viewport(args["x"], args["y"], args["zoom"])
        self._autosave()

    def _form_param(self, node_id: str, name: str, value: Any) -> None:
        try:
            self.doc.set_param(node_id, name, value)
        except EditRefused as exc:
            self.notice(str(exc), "warning")
        self.refresh(form=False)

    def _set_name(self, name: str) -> None:
        if name.strip() != self.doc.workflow.name:
            self.doc.set_meta(name=name)
            self.refresh(form=False)

    def _set_description(self, text: str) -> None:
        if text != self.doc.workflow.description:
            self.doc.set_meta(description=text)
            self.refresh(form=False)

    def _autosave(self) -> None:
        root = self.doc.root()  # the whole workflow, even while a subgraph is open (a refresh reopens its top)
        record = {"json": root.dumps(), "dirty": self.doc.dirty, "source": str(root.source) if root.source else None,
                  "template": str(self.doc.template) if self.doc.template else None}
        app.storage.tab[AUTOSAVE_KEY] = record
        app.storage.general[AUTOSAVE_KEY] = record

    def _show_state(self) -> None:
        self.name.value = self.doc.workflow.name
        self._show_breadcrumb()
        self.unsaved.set_visibility(self.doc.dirty)
        self.copy_note.set_text(f"copy of {self.doc.template.name}" if self.doc.template else "")
        self.copy_note.set_visibility(self.doc.template is not None)
        self.undo_btn.enabled = bool(self.doc.undo_stack)
        self.redo_btn.enabled = bool(self.doc.redo_stack)
        self.run_btn.enabled = not self.runner.running
        self.stop_btn.set_visibility(self.runner.running)
        title = f"{'● ' if self.doc.dirty else ''}{self.doc.workflow.name} · flowbanana"
        if title != self._title:  # the browser tab shows the unsaved mark too
            self._title = title
            with self.header:
                ui.page_title(title)

    def _show_provider(self) -> None:
        label = self.config.provider_label()
        self.badge.text = label
        self.badge.props(f"color={'amber-5' if label == 'Gemini' else 'grey-5'} icon={'bolt' if label == 'Gemini' else 'science'}"
                         f' title="Provider: {label}. Click to change it or set a key."')

    # ---- commands ------------------------------------------------------------------------
    def on_command(self, args: dict) -> None:
        cmd, node = args.get("cmd"), args.get("node")
        if cmd == "undo":
            self.undo()
        elif cmd == "redo":
            self.redo()
        elif cmd == "save":
            self.save()
        elif cmd == "run":
            self.run()
        elif cmd == "run_node" and node in self.doc.workflow.nodes:
            self.run(targets={node})
        elif cmd == "run_from" and node in self.doc.workflow.nodes:
            self.run(targets={node} | nx.descendants(build_graph(self.doc.workflow), node))
        elif cmd == "regenerate" and node in self.doc.workflow.nodes:
            if self.doc.regenerate_seed(node):
                self.refresh()
            self.run(targets={node} | nx.descendants(build_graph(self.doc.workflow), node), force={node})
        elif cmd == "expose" and node in self.doc.workflow.nodes:
            self._expose_dialog(node)
        elif cmd == "expose_output" and node in self.doc.workflow.nodes:
            self._expose_output_dialog(node)
        elif cmd in ("make_subgraph", "unpack", "open_subgraph"):
            self._regroup(cmd, node, args.get("nodes") or [])
        elif cmd == "paint_mask" and node in self.doc.workflow.nodes:
            background_tasks.create(self.masks.open(node), name="flowbanana-mask-open")
        elif cmd == "compare" and node in self.doc.workflow.nodes:
            self.compare.open(node, int(args.get("index") or 0))
        elif cmd == "sweep" and node in self.doc.workflow.nodes:
            self.sweeps.open(node, args.get("param"))
        elif cmd == "compare_models" and node in self.doc.workflow.nodes:
            self.sweeps.open(node, "model", everything_offered=True)
        elif cmd == "sweep_grid" and node in self.doc.workflow.nodes:
            self.grid.open(node, int(args.get("index") or 0))
        elif cmd == "open_text":
            background_tasks.create(self.open_text(args.get("text", ""), args.get("name", "dropped file")))
        elif cmd == "update_models":
            self.update_models()

    def update_models(self) -> None:
        """Every retired model id of this level set to its successor in one undo step; written to the workflow's
        file at once when the file held no other unsaved change (else it waits for Save, with the rest)."""
        source = self.doc.workflow.source
        writable = not self.doc.dirty and not self.doc.frames and not self.doc.template and source is not None \
            and source.suffix.lower() == ".json"
        changes = self.doc.update_retired_models()
        if not changes:
            return
        self.refresh()
        pairs = ", ".join(f"{old} → {new}" for old, new in sorted(set(changes.values())))
        count = f"{len(changes)} node{'s' if len(changes) != 1 else ''}"
        if writable:
            self._write(source)
        self.notice(f"Updated {count} to today's model ids ({pairs})" +
                    (f" and saved {source.name}." if writable else "; Save keeps it."), "positive")

    def _regroup(self, cmd: str, node: str | None, nodes: list[str]) -> None:
        """Make a subgraph of the selection, unpack one, or open one to edit it in place (the breadcrumb leads back)."""
        try:
            if cmd == "make_subgraph":
                select = [self.doc.make_subgraph(nodes)]
            elif cmd == "unpack":
                select = self.doc.unpack(node)
            else:
                self.doc.open_subgraph(node)
                self._load_canvas()
                self._autosave()
                return
        except EditRefused as exc:
            self.notice(str(exc), "warning")
            return
        self.refresh(select=select)

    def leave_subgraph(self, levels: int = 1) -> None:
        """Back up the breadcrumb: the open subgraphs' edits go into their nodes (or their own files)."""
        for _ in range(min(levels, len(self.doc.frames))):
            written = self.doc.close_subgraph()
            if written:
                self.notice(f"Saved the subgraph's file {written.name}", "positive", timeout=2500)
        self._load_canvas()
        self._autosave()

    def _show_breadcrumb(self) -> None:
        self.crumbs.clear()
        names = self.doc.breadcrumb()
        if len(names) < 2:
            return
        with self.crumbs:
            for depth, name in enumerate(names[:-1]):
                back = " icon=arrow_back" if depth == len(names) - 2 else ""  # the way back, one level up
                ui.button(name, on_click=lambda d=len(names) - 1 - depth: self.leave_subgraph(d)) \
                    .props(f"flat dense no-caps color=grey-4{back} data-testid=crumb-{depth}") \
                    .tooltip("Back to this workflow (the subgraph's edits go with you)")
                ui.icon("chevron_right").classes("text-grey-6")
            ui.label(names[-1]).classes("text-caption text-amber-4 q-px-xs").props("data-testid=crumb-here")

    def _expose_output_dialog(self, node_id: str) -> None:
        node_type = self.doc.node_type(self.doc.workflow.nodes[node_id])
        self._interface_dialog(f"Add an output of “{node_id}” to the workflow's outputs", "Output", "output",
                               [o.name for o in node_type.outputs],
                               lambda name, output, about: self.doc.expose_output(name, node_id, output, about),
                               "What the workflow gives when it is used as a node in another, or run over HTTP.")

    def _expose_dialog(self, node_id: str) -> None:
        node_type = self.doc.node_type(self.doc.workflow.nodes[node_id])
        self._interface_dialog(f"Add a param of “{node_id}” to the inputs form", "Param", "input",
                               [p.name for p in node_type.params],
                               lambda name, param, about: self.doc.expose(name, node_id, param, about))

    def _interface_dialog(self, title: str, kind: str, what: str, choices: list[str],
                          expose: Callable[[str, str, str], None], note: str = "") -> None:
        """Pick a port of a node, name it, and add it to the workflow's inputs or outputs (`what`)."""
        with ui.dialog() as dialog, ui.card().classes("w-96 gap-3"):
            ui.label(title).classes("text-h6")
            if note:
                ui.label(note).classes("text-caption text-grey-6")
            port = ui.select(choices, value=choices[0], label=kind).props("outlined dense").classes("w-full")
            name = ui.input(f"{what.capitalize()} name", value=choices[0]) \
                .props(f"outlined dense data-testid={what}-name").classes("w-full")
            port.on_value_change(lambda e: name.set_value(e.value))
            about = ui.input("Description (optional)").props("outlined dense").classes("w-full")

            def confirm():
                try:
                    expose(name.value, port.value, about.value)
                except EditRefused as exc:
                    self.notice(str(exc), "warning")
                    return
                dialog.close()
                self.refresh()
                self.drawer.show()
                self.side.tabs.value = self.side.form_tab
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat")
                ui.button("Add", on_click=confirm).props(f"unelevated text-color=black data-testid={what}-confirm")
        dialog.open()

    def _unexpose(self, name: str) -> None:
        self.doc.unexpose(name)
        self.refresh()

    def _unexpose_output(self, name: str) -> None:
        self.doc.unexpose_output(name)
        self.refresh()

    def undo(self) -> None:
        if self.doc.undo():
            self.refresh()

    def redo(self) -> None:
        if self.doc.redo():
            self.refresh()

    def run(self, targets: set[str] | None = None, force: set[str] = frozenset(), direct: Iterable[str] = ()) -> None:
        problems = [p for p in self.doc.problems()]
        if problems:
            self.canvas.run_method("revealProblems")
            first = problems[0]
            more = f" (and {len(problems) - 1} more, marked on the nodes)" if len(problems) > 1 else ""
            self.notice(f"Not run: {first['message']} {first['hint']}{more}", "negative", timeout=8000)
            return
        if self.runner.running:
            self.notice("A run is already going.", "warning")
            return
        background_tasks.create(self._run(targets, force, direct), name="flowbanana-editor-run")

    def open_app(self) -> None:
        """The workflow as an app in a new tab: a saved one by its name (a link to keep), else this tab's copy."""
        source = self.doc.root().source
        saved = source is not None and source.suffix == ".json" and not self.doc.dirty and not self.doc.template \
            and source.parent.resolve() == self.config.workflows_dir.resolve() and NAME.match(source.stem)
        ui.navigate.to(f"/app/{quote(source.stem)}" if saved else f"/app?tab={self.token}", new_tab=True)

    async def estimate(self) -> None:
        if self.doc.problems():
            self.run()  # says what stops it, on the nodes
            return
        self.estimate_btn.props("loading")
        try:
            plan = await self.runner.estimate(self.doc.runnable())
        finally:
            self.estimate_btn.props(remove="loading")
        if plan is None:
            return
        calls = len(plan["calls"])
        if not calls:
            self.notice("Running now makes no model calls: every model result is cached.", "positive")
            return
        price = "free (offline preview)" if plan["provider"] == "offline preview" else \
            f"about ${plan['cost_usd']:.3f}" + (f" (${plan['batch_cost_usd']:.3f} as a batch)" if "batch_cost_usd" in
                                                plan else "") + \
            (f", {plan['unpriced']} of unknown price" if plan["unpriced"] else "")
        models = sorted({c["model"] for c in plan["calls"]})
        self.notice(f"Running now makes {calls} model call{'s' if calls != 1 else ''} ({', '.join(models)}): {price}.",
                     "info")

    async def _run(self, targets, force, direct: Iterable[str] = ()) -> None:
        self._last_run = (targets, set(force))
        self.batch.flush()
        self.canvas.run_method("clearStatuses")
        self.levels.clear()
        self._shown_by()
        self.summary = None
        self._run_sigs = signatures(self.doc.runnable())
        prefix = f"{self.doc.path}/" if self.doc.path else ""  # inside a subgraph: its nodes by path
        targets = {prefix + n for n in targets} if targets is not None else None
        task = self.runner.run(self.doc.runnable(), targets, {prefix + n for n in force}, direct=direct)
        self.run_btn.enabled = False
        self.stop_btn.set_visibility(True)
        try:
            await task
        finally:
            self._show_state()

    def _shown_by(self) -> None:
        """Which inner node's results a subgraph node of this level shows: the one its first output is."""
        self.shown_by = {}
        subs = {n: t for n, node in self.doc.workflow.nodes.items()
                if node.type == SUBGRAPH and (t := self.doc.node_type(node)) and t.outputs}
        if not subs:
            return
        flat, _ = Subgraphs(self.config.catalogue, self.config.read_roots).expand(self.doc.runnable())
        prefix = f"{self.doc.path}/" if self.doc.path else ""
        for node_id, node_type in subs.items():
            link = flat.outputs.get(f"{prefix}{node_id}.{node_type.outputs[0].name}")
            if link:
                self.shown_by[node_id] = link.node

    def _statuses(self, statuses: dict) -> None:
        for node_id, status in statuses.items():  # a new result is stamped with what it was made from
            for entry in status.get("history", ()):
                entry.setdefault("sig", self._run_sigs.get(node_id))
        statuses = self.levels.local(statuses, self.doc.path, self.shown_by)
        if statuses:
            self.batch.add(statuses)

    def _send_statuses(self, statuses: dict) -> None:
        """One batch of statuses to the page: only the nodes that changed, never the graph."""
        self.canvas.set_statuses(statuses)
        self._show_state()
        if any(s and "history" in s for s in statuses.values()):
            self._keep_results()

    def _keep_results(self) -> None:
        with self.header:
            app.storage.tab[RESULTS_KEY] = {"history": self.runner.history, "gallery": self.runner.gallery,
                                            "summary": self.summary}

    def _finished(self, summary: dict) -> None:
        self.batch.flush()
        self.summary = summary
        self.side.show_results(self.runner, summary, self.file_url)
        self._keep_results()
        kind = {"done": "positive", "failed": "negative"}.get(summary["status"], "warning")
        self.notice(f"Run {summary['status']} in {summary['seconds']}s", kind, timeout=2500)
        self.side.tabs.value = self.side.results_tab

    def file_url(self, index: int) -> str:
        """A download link for the index-th file the last run wrote (served by app.py, for this tab only)."""
        return f"{FILES_ROUTE}/{self.token}/{index}"

    def run_file(self, index: int) -> Path | None:
        """That file, if it is still inside the output folder."""
        files = (self.summary or {}).get("files", [])
        if not 0 <= index < len(files):
            return None
        path = Path(files[index]).resolve()
        return path if path.is_file() and path.is_relative_to(self.config.out_root.resolve()) else None

    def _not_batched(self, nodes: dict[str, str]) -> None:
        """A batch run stopped before submitting: the notice names the nodes the Batch API cannot take, and its
        button runs the batch again with their calls direct."""
        one = len(nodes) == 1
        listed = "; ".join(f"{node!r}: {why}" for node, why in nodes.items())
        message = (f"Not run: the Batch API cannot take the calls of {len(nodes)} node{'' if one else 's'} ({listed})."
                   f" Run {'it' if one else 'them'} direct, at the full price (everything else still goes through the "
                   f"batch), or change {'its' if one else 'their'} model or search.")
        targets, force = self._last_run
        with self.header:
            offer(message, "negative", "Run those direct", lambda: self.run(targets, force, direct=list(nodes)),
                  position="bottom-right" if self.drawer.value else "bottom-left", close_button="✕",
                  classes="fb-notice", attrs={"data-testid": "notice"})

    def _run_problems(self, problems) -> None:
        self.notice("Not run: " + "; ".join(p.message for p in problems[:3]), "negative")

    def notice(self, message: str, kind: str, timeout: int = 7000) -> None:
        """A toast in the editor's colours, from any task (runs report from the background). It keeps off the
        canvas, so it never hides a node: over the side panel while that is open, else over the palette; ✕ closes it."""
        with self.header:
            notify(message, kind, timeout=timeout,
                      position="bottom-right" if self.drawer.value else "bottom-left", close_button="✕",
                      classes="fb-notice", attrs={"data-testid": "notice"})

    # ---- files ---------------------------------------------------------------------------
    async def confirm_discard(self) -> bool:
        if not self.doc.dirty:
            return True
        with ui.dialog() as dialog, ui.card():
            ui.label(f"Discard the unsaved changes to “{self.doc.workflow.name}”?")
            with ui.row().classes("w-full justify-end"):
                ui.button("Keep editing", on_click=lambda: dialog.submit(False)).props("flat")
                ui.button("Discard", on_click=lambda: dialog.submit(True)).props("unelevated color=negative")
        return bool(await dialog)

    def open_workflow(self, workflow: Workflow, template: Path | None = None) -> None:
        """Another workflow (File > New too): the last one's results go, from the nodes, the Results panel and the
        tab's storage, so none reappears on a node of the same name."""
        self.doc.replace(workflow, template=template)
        self.runner.history.clear()
        self.runner.gallery.clear()
        self.summary = None
        self.side.show_results(self.runner, None, self.file_url)
        self._keep_results()
        self._load_canvas()
        self._autosave()

    async def new(self) -> None:
        if await self.confirm_discard():
            self.open_workflow(Workflow(name="Untitled"))

    async def open_path(self, path: Path, template: bool = False) -> None:
        """Open a workflow file; a `template` opens as an untitled copy of it."""
        if not await self.confirm_discard():
            return
        try:
            workflow = loads(path.read_text(encoding="utf-8"), path)
        except (OSError, WorkflowInvalid) as exc:
            self.notice(f"Cannot open {path.name}: {exc}", "negative")
            return
        self.open_workflow(workflow, template=path.resolve() if template else None)

    async def open_text(self, text: str, name: str) -> None:
        try:
            workflow = loads(text)
        except WorkflowInvalid as exc:
            self.notice(f"{name} is not a flowbanana workflow: {exc.problems[0].message}", "negative")
            return
        with self.header:
            if await self.confirm_discard():
                self.open_workflow(workflow)

    def _open_dialog(self) -> None:
        async def uploaded(e):
            dialog.close()
            data = await e.file.read()
            if Path(e.file.name).suffix.lower() in SHARED_SUFFIXES:  # an image made by flowbanana, a bundle
                await open_shared(self, e.file.name, data)
                return
            await self.open_text(data.decode("utf-8", errors="replace"), e.file.name)
        with ui.dialog() as dialog, ui.card().classes("w-96"):
            ui.label("Open a workflow").classes("text-h6")
            ui.upload(on_upload=uploaded, auto_upload=True, max_file_size=MAX_SHARED_BYTES) \
                .props(f"accept=.json,{','.join(SHARED_SUFFIXES)} flat bordered color=grey-9").classes("w-full")
            ui.label("A workflow .json, an image saved by flowbanana (it carries its workflow) or a .zip bundle; "
                     "or drop one onto the canvas.").classes("text-caption text-grey-6")
        dialog.open()

    def prepare_save(self) -> None:
        needed = self.config.catalogue.requires_for(n.type for n in self.doc.workflow.nodes.values())
        self.doc.workflow.requires = {**self.doc.workflow.requires, **needed}

    def save(self) -> None:
        if self.doc.frames:  # the whole workflow is saved: back to its top first
            self.leave_subgraph(len(self.doc.frames))
        source = self.doc.workflow.source
        # never write over a template it is a copy of, nor JSON over an image it came from
        if self.doc.template or source is None or source.suffix.lower() != ".json":
            self._save_as_dialog()
            return
        self._write(source)

    def _write(self, path: Path) -> None:
        self.prepare_save()
        self.doc.rebase_references(path.parent)  # subgraph files keep being the same files
        if carry_masks(self.doc.workflow, self.config.catalogue, path.parent):  # painted masks go with the file
            self.canvas.patch(self.doc.patch())
        try:
            self.doc.workflow.save(path)
        except OSError as exc:
            self.notice(f"Cannot save to {path}: {exc}", "negative")
            return
        self.doc.mark_saved()
        self.doc.template = None  # a file of its own now
        self._show_state()
        self._autosave()
        self._build_file_menu()
        self.notice(f"Saved {path.name}", "positive", timeout=2500)

    def _save_as_dialog(self) -> None:
        folder = self.config.workflows_dir
        with ui.dialog() as dialog, ui.card().classes("w-96"):
            ui.label(f"Save to {folder}").classes("text-h6")
            suggested = file_name(self.doc.workflow.name)
            if self.doc.template:  # a copy: offer a name that is not taken, so Enter cannot replace the template
                suggested = free_name(folder, suggested)
            name = ui.input("File name", value=suggested) \
                .props("outlined dense autofocus data-testid=save-name").classes("w-full")
            warning = ui.label().classes("text-caption text-amber-5")
            name.on_value_change(lambda: warning.set_text(
                "A file of that name exists and will be replaced." if (folder / file_name(name.value)).exists() else ""))

            def confirm():
                folder.mkdir(parents=True, exist_ok=True)
                dialog.close()
                self._write(folder / file_name(name.value))
            name.on("keydown.enter", confirm)
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=dialog.close).props("flat")
                ui.button("Save", on_click=confirm).props("unelevated text-color=black data-testid=save-confirm")
        dialog.open()

    def download(self) -> None:
        self.prepare_save()
        ui.download.content(self.doc.workflow.dumps(), file_name(self.doc.workflow.name))

    def uploaded(self, node_id: str, param: str, value: str) -> None:
        """A file sent for a file param (through the upload route) is now its value."""
        with self.header:
            try:
                self.doc.set_param(node_id, param, value)
            except EditRefused as exc:
                self.notice(str(exc), "warning")
            self.refresh()
