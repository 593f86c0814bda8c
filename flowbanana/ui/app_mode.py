"""App mode: a workflow as a simple page for people who never see its graph.

`flowbanana ui --app FILE` serves it at `/`; `/app/NAME` serves a saved workflow of the workflows folder, and
the editor's App button opens its tab's workflow. The page is made from the workflow's interface
(interface.py): a field per input (text, numbers, choices, a switch, an upload for a file input such as a
photo or a CSV, the mask painter for a mask), what a run would cost, Run with its progress, the outputs with
downloads, and the runs of this app. Runs go through a `RunController` (the server's run queue, as the
editor's do); uploads and painted masks go into the editor's uploads folder, never beside the workflow.
"""
from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

from fastapi import HTTPException
from nicegui import background_tasks, run, ui

from ..errors import Problem, WorkflowInvalid
from ..interface import Interface, InterfaceInput
from ..overrides import apply_overrides
from ..porttypes import MASK
from ..server import RunRecord
from ..server.endpoints import NAME
from ..server.uploads import UploadRefused
from ..subgraph import Subgraphs
from ..sources import open_workflow
from ..words import APP
from ..workflow import Workflow
from .history import HistoryPanel, file_url
from .mask_editor import MASK_TARGETS, MaskPainter, image_source, keep_mask, loaded_file, picture, readable
from .notices import notify
from .runner import EditorConfig, RunController
from .tab import TABS
from .theme import apply_theme
from .uploads import IMAGE_SUFFIXES, MAX_UPLOAD, store_upload

ORIGIN = "app"            # the run history's origin of an app's runs
ESTIMATE_DELAY = 0.6      # seconds of quiet in the form before the cost is worked out again
FINISHED = ("done", "cached", "failed", "skipped", "cancelled")
# the form asks for what is worked on first (a photo, a CSV), then where (a mask), what (text), then settings;
# a saved workflow's inputs are in alphabetical order, so this order is the form's own
FIELD_ORDER = {"file": 0, "mask": 1, "multiline": 2, "text": 2}

def add_app_pages(config: EditorConfig) -> None:
    """`/app/NAME` for a saved workflow, `/app?tab=` for an editor tab's workflow, and with `--app` the app at `/`."""

    @ui.page("/app/{name}", title="flowbanana app")
    def saved(name: str) -> None:
        if not NAME.match(name):
            raise HTTPException(404, "no such app: use a saved workflow's name")
        open_app(config, config.workflows_dir / f"{name}.json")

    @ui.page("/app", title="flowbanana app")
    def from_tab(tab: str = "") -> None:
        editor = TABS.get(tab)
        if editor is None:
            unavailable("This app view belonged to an editor tab that is closed or was reloaded.",
                        "Open it again with the App button in the editor.")
            return
        AppPage(config, editor.doc.runnable())

    if config.app:
        @ui.page("/", title="flowbanana app")
        def index() -> None:
            open_app(config, config.file)


def open_app(config: EditorConfig, path: Path) -> None:
    if not path.is_file():
        unavailable(f"There is no workflow {path.name}.", "Check the name, or save the workflow first.")
        return
    try:
        workflow = open_workflow(path)
    except (OSError, WorkflowInvalid) as exc:
        unavailable(f"{path.name} cannot be opened: {exc}", "Open it in the editor to fix it.")
        return
    AppPage(config, workflow)


def unavailable(message: str, hint: str) -> None:
    apply_theme()
    with ui.column().classes("fb-app-missing items-center gap-2"):
        ui.icon("auto_awesome", color="amber-5", size="xl")
        ui.label(message).classes("text-h6 text-center")
        ui.label(hint).classes("text-grey-5 text-center")


class AppPage:
    """One browser tab of an app: the form, the run, its outputs and the app's history."""

    def __init__(self, config: EditorConfig, workflow: Workflow):
        self.config = config
        self.workflow = workflow
        self.token = secrets.token_urlsafe(18)
        MASK_TARGETS[self.token] = self  # the painter posts the mask to /flowbanana/mask with this token
        self.interface: Interface = Subgraphs(config.catalogue, config.read_roots).interface(workflow)
        self.fields = dict(sorted(((name, spec) for name, spec in self.interface.inputs.items() if spec.settable),
                                  key=lambda item: FIELD_ORDER.get(input_kind(item[1]), 3)))
        self.values: dict[str, Any] = {}   # the inputs set in the form; the others keep the workflow's values
        self.previews: dict[str, ui.element] = {}  # a file or mask input's thumbnail
        self.file_names: dict[str, ui.label] = {}  # ... and the line that says what it holds
        self.states: dict[str, str] = {}
        self.mask_input: str | None = None  # the input the painter is open for
        self._estimating = 0
        self._problems_from: str | None = None  # "form" (the values do not fit) or "run" (what the last run said)
        self.runner = RunController(config, on_status=self._statuses, on_finished=self._finished,
                                    on_problems=self._problems, on_notice=self.notice)
        self._build()
        background_tasks.create(self._show_defaults(), name="flowbanana-app-previews")
        self.estimate_soon()

    # ---- layout --------------------------------------------------------------------------------------------
    def _build(self) -> None:
        apply_theme()
        ui.page_title(f"{self.workflow.name} · flowbanana")
        with ui.header().classes("fb-app-header items-center no-wrap gap-2 px-4") as self.header:
            ui.icon("auto_awesome", color="amber-5", size="sm")
            ui.label(self.workflow.name or "Untitled").classes("fb-app-title ellipsis").props("data-testid=app-title")
            ui.space()
            label = self.config.provider_label()
            ui.badge(label, color="amber-5" if label == "Gemini" else "grey-7",
                     text_color="black" if label == "Gemini" else "white").props("data-testid=app-provider") \
                .tooltip("Who makes the images" + ("" if label == "Gemini" else
                                                   ": local placeholders, free, no key needed"))
        with ui.dialog().props("maximized persistent transition-show=fade transition-hide=fade") as self.mask_dialog:
            self.painter = MaskPainter(on_cancel=self.mask_dialog.close, on_run=lambda: None).classes("w-full h-full")
        with ui.element("div").classes("fb-app"):
            with ui.element("section").classes("fb-app-card fb-app-form").props("data-testid=app-form"):
                if self.workflow.description:
                    ui.label(self.workflow.description).classes("fb-app-about")
                for name, spec in self.fields.items():
                    self._field(name, spec)
                if not self.fields:
                    ui.label("This workflow has no inputs to fill in: Run makes it as it is.") \
                        .classes("text-grey-5")
                self.problems = ui.column().classes("w-full gap-1").props("data-testid=app-problems")
                with ui.row().classes("fb-app-run w-full items-center no-wrap gap-3"):
                    self.cost = ui.label("Working out the cost…").classes("fb-app-cost col") \
                        .props("data-testid=app-cost")
                    self.stop_btn = ui.button("Stop", icon="stop", on_click=self.runner.stop) \
                        .props("flat no-caps color=red-4 data-testid=app-stop")
                    self.stop_btn.set_visibility(False)
                    self.run_btn = ui.button("Run", icon="play_arrow", on_click=self.run) \
                        .props("unelevated no-caps size=lg text-color=black data-testid=app-run")
                with ui.column().classes("w-full gap-1") as self.progress_box:
                    self.progress = ui.linear_progress(value=0, show_value=False, size="8px") \
                        .props("rounded color=amber-5 track-color=grey-9 animation-speed=300 data-testid=app-progress")
                    self.progress_label = ui.label().classes("text-caption text-grey-5")
                self.progress_box.set_visibility(False)
            with ui.element("div").classes("fb-app-side"):
                with ui.element("section").classes("fb-app-card"):
                    ui.label("Result").classes("fb-app-heading")
                    self.outputs = ui.column().classes("w-full gap-3").props("data-testid=app-outputs")
                    with self.outputs:
                        ui.label("Fill in the form and press Run: the result shows here, ready to download.") \
                            .classes("text-grey-5")
                with ui.element("section").classes("fb-app-card"):
                    ui.label("Runs of this app").classes("fb-app-heading")
                    name = self.workflow.name
                    HistoryPanel(self.config.runs(), self.config.previews, on_open=None, on_notice=self.notice,
                                 where=lambda r: _of_app(r, name), empty="No runs of this app yet.",
                                 rerun_origin=ORIGIN)

    def _field(self, name: str, spec: InterfaceInput) -> None:
        param, kind = spec.param, input_kind(spec)
        label = field_label(name)
        value = spec.default
        # only what the workflow's author wrote: a node's own param description speaks of links and folders
        own = self.workflow.inputs[name].description if name in self.workflow.inputs else ""
        hint = own if own.lower() != label.lower() else ""
        if spec.linked and spec.param:
            hint = (hint + " " if hint else "") + "Left empty, the workflow works it out."
        with ui.column().classes("fb-app-field w-full gap-1").props(f"data-testid=app-field-{name}"):
            if kind == "file":
                self._file(name, label, spec)
            elif kind == "mask":
                self._mask(name, label, spec)
            elif kind == "choice":
                ui.select(list(param.choices), label=label, value=value,
                          on_change=lambda e: self.set(name, e.value)).props("outlined options-dense").classes("w-full")
            elif kind == "bool":
                ui.switch(label, value=bool(value), on_change=lambda e: self.set(name, e.value))
            elif kind in ("int", "float", "seed"):
                whole = kind != "float"
                ui.number(label, value=value, min=param.min, max=param.max, step=param.step or (1 if whole else None),
                          format="%d" if whole else None,
                          on_change=lambda e: self.set(name, int(e.value) if whole and e.value is not None
                                                       else e.value)).props("outlined").classes("w-full")
            elif kind == "color":
                ui.color_input(label, value=value or "", on_change=lambda e: self.set(name, e.value)) \
                    .props("outlined").classes("w-full")
            elif kind == "multiline":
                ui.textarea(label, value=value or "", on_change=lambda e: self.set(name, e.value)) \
                    .props("outlined autogrow").classes("w-full")
            else:
                ui.input(label, value=value or "", on_change=lambda e: self.set(name, e.value)) \
                    .props("outlined").classes("w-full")
            if hint:
                ui.label(hint).classes("fb-app-hint")

    def _file(self, name: str, label: str, spec: InterfaceInput) -> None:
        """A file input: what it holds now (a picture's thumbnail, else its name) and a button to choose another."""
        types = spec.param.file_types if spec.param else tuple(sorted(IMAGE_SUFFIXES))  # an IMAGE input port
        upload = ui.upload(on_upload=lambda e: self._uploaded(name, e), auto_upload=True, max_file_size=MAX_UPLOAD,
                           on_rejected=lambda: self.notice(f"{label}: that file is too large.", "warning")) \
            .props(f"accept={','.join(types)}" if types else "").classes("hidden")
        ui.label(label).classes("fb-app-label")
        with ui.row().classes("w-full items-center no-wrap gap-3"):
            self.previews[name] = ui.element("div").classes("fb-app-thumb").props(f"data-testid=app-preview-{name}")
            with ui.column().classes("col gap-1 min-w-0"):
                self.file_names[name] = ui.label("the workflow's own" if spec.linked else "none chosen") \
                    .classes("fb-app-filename ellipsis")
                kind = "picture" if types and set(types) <= IMAGE_SUFFIXES else "file"
                ui.button(f"Choose a {kind}", icon="upload_file", on_click=lambda: upload.run_method("pickFiles")) \
                    .props(f"outline no-caps color=amber-5 data-testid=app-choose-{name}")

    def _mask(self, name: str, label: str, spec: InterfaceInput) -> None:
        ui.label(label).classes("fb-app-label")
        with ui.row().classes("w-full items-center no-wrap gap-3"):
            self.previews[name] = ui.element("div").classes("fb-app-thumb fb-app-mask") \
                .props(f"data-testid=app-preview-{name}")
            with ui.column().classes("col gap-1 min-w-0"):
                self.file_names[name] = ui.label("as the workflow makes it" if spec.linked else "nothing painted yet") \
                    .classes("fb-app-filename")
                ui.button("Paint the area", icon="brush", on_click=lambda: self.paint(name)) \
                    .props(f"outline no-caps color=amber-5 data-testid=app-paint-{name}")

    # ---- the form ------------------------------------------------------------------------------------------
    def set(self, name: str, value: Any) -> None:
        """A field changed; emptied (a number cleared, the text of an input a link inside fills), the workflow's
        own value or link stands again."""
        if value is None or value == "" and self.fields[name].linked:
            self.values.pop(name, None)
        else:
            self.values[name] = value
        self.estimate_soon()

    def notice(self, message: str, kind: str, timeout: int = 7000) -> None:
        with self.header:
            notify(message, kind, multi_line=True, position="bottom", timeout=timeout)

    async def _show_defaults(self) -> None:
        """Thumbnails of the files the workflow holds for its file and mask inputs until the user sets others."""
        for name, spec in self.fields.items():
            if input_kind(spec) in ("file", "mask") and spec.default:
                await self._preview(name, readable(self.workflow, self.config.uploads_dir, spec.default),
                                    input_kind(spec))

    async def _preview(self, name: str, path: Path | None, kind: str, called: str | None = None) -> None:
        """Show what a file or mask input holds: its thumbnail and its name (`called`: as the user's file was)."""
        if name not in self.previews:
            return
        shown = await run.io_bound(picture, self.config.media, path, "mask" if kind == "mask" else "image") \
            if path else None
        box, label = self.previews[name], self.file_names[name]
        box.clear()
        with box:
            if shown:
                ui.image(shown["thumb"]).props("fit=contain no-spinner")
            else:
                ui.icon("description" if path else "image", size="md", color="grey-7")
        if kind == "mask":
            label.set_text("painted" if path and name in self.values else
                           "as the workflow has it" if path else "nothing painted yet")
        else:
            label.set_text(called or (path.name if path else "none chosen"))

    async def _uploaded(self, name: str, event) -> None:
        event.sender.reset()  # the same file may be chosen again later
        data = await event.file.read()
        try:
            value = await run.io_bound(store_upload, event.file.name, data, None, self.config.uploads_dir)
        except UploadRefused as exc:
            self.notice(f"{name}: {exc}", "warning")
            return
        self.set(name, value)
        await self._preview(name, Path(value), "file", called=event.file.name)

    # ---- the mask ------------------------------------------------------------------------------------------
    async def paint(self, name: str) -> None:
        spec = self.fields[name]
        workflow = self._with_values(quiet=True) or self.workflow
        source = image_source(self.config.catalogue, workflow, spec.node)
        image = await self._picture(workflow, source)
        if image is None:
            node = workflow.nodes.get(source) if source else None
            node_type = self.config.catalogue.get(node.type) if node else None
            made = node_type is not None and not any(p.kind == "file" for p in node_type.params)  # not read: made
            self.notice("Run the app once first: the area is painted over the picture it makes." if made else
                        "Choose the picture first: the area is painted over it.", "warning")
            return
        current = self.values.get(name, spec.default)
        mask_file = readable(self.workflow, self.config.uploads_dir, current) if current else None
        mask = await run.io_bound(picture, self.config.media, mask_file, "mask") if mask_file else None
        self.mask_input = name
        self.painter.show({"node": spec.node, "param": spec.port, "title": field_label(name),
                           "token": self.token, "image": image, "mask": mask and mask["full"], "source": None})
        self.mask_dialog.open()

    async def _picture(self, workflow: Workflow, source: str | None) -> dict | None:
        """The picture a mask is painted over: the file the node feeding the mask node's image loads (a photo the
        user chose, else the workflow's), else what that node made in the last run (a generated picture)."""
        if source is None:
            return None
        path = loaded_file(self.config.catalogue, workflow, self.config.uploads_dir, source)
        if path is not None:
            return await run.io_bound(picture, self.config.media, path, "image")
        return next((entry["images"][0] for entry in self.runner.history.get(source, []) if entry.get("images")),
                    None)

    async def receive(self, node: str, param: str, data: bytes) -> str:
        """The painted mask (POST /flowbanana/mask): kept in the uploads folder, the mask input's value now."""
        name = self.mask_input
        spec = self.fields.get(name) if name else None
        if spec is None or (spec.node, spec.port) != (node, param):
            raise HTTPException(400, f"this app has no mask input on {node}.{param}")
        path = await run.io_bound(keep_mask, self.config.uploads_dir / "masks", node.replace("/", "-"), data)
        self.set(name, str(path))
        self.mask_dialog.close()
        await self._preview(name, path, "mask")
        return str(path)

    # ---- cost ----------------------------------------------------------------------------------------------
    def estimate_soon(self) -> None:
        """Work out the cost once the form has been still for a moment (each keystroke does not start a dry run)."""
        self._estimating += 1
        background_tasks.create(self._estimate(self._estimating), name="flowbanana-app-estimate")

    async def _estimate(self, asked: int) -> None:
        await asyncio.sleep(ESTIMATE_DELAY)
        if asked != self._estimating:
            return
        workflow = self._with_values()
        if workflow is None:
            self.cost.set_text("")
            return
        plan = await self.runner.estimate(workflow)
        if asked != self._estimating or plan is None:
            return
        if self._problems_from == "form":  # the values fit now; what the last run said stays
            self._show_problems([])
        calls = len(plan["calls"])
        what = f"{calls} model call{'s' if calls != 1 else ''}"
        if not calls:
            text = "Costs nothing: every result is ready from before."
        elif plan["provider"] == "offline preview":
            text = f"Free: {what}, answered by the offline preview."
        else:
            text = f"About ${plan['cost_usd']:.3f} for {what}" + \
                (f" ({plan['unpriced']} of unknown price)" if plan["unpriced"] else "") + "."
        self.cost.set_text(text)

    def _with_values(self, quiet: bool = False) -> Workflow | None:
        """The workflow with the form's values; None when they do not fit (said under the form unless `quiet`)."""
        try:
            return apply_overrides(self.workflow, self.config.catalogue, self.values, self.config.read_roots,
                                   words=APP)
        except WorkflowInvalid as exc:
            if not quiet:
                self._show_problems(exc.problems, "form")
            return None

    # ---- running -------------------------------------------------------------------------------------------
    def run(self) -> None:
        if self.runner.running:
            return
        background_tasks.create(self._run(), name="flowbanana-app-run")

    async def _run(self) -> None:
        self._show_problems([])
        self.runner.history.clear()  # the outputs shown are this run's
        self.states = {}
        self.run_btn.props("loading")
        self.stop_btn.set_visibility(True)
        self.progress.set_value(0)
        self.progress_label.set_text("Waiting to start…")
        self.progress_box.set_visibility(True)
        try:
            await self.runner.run(self.workflow, inputs=dict(self.values), origin=ORIGIN)
        finally:
            self.run_btn.props(remove="loading")
            self.stop_btn.set_visibility(False)
            self.estimate_soon()  # what was made is cached now: running again costs less

    def _statuses(self, statuses: dict[str, dict]) -> None:
        for node, status in statuses.items():
            if "state" in status:
                self.states[node] = status["state"]
        total = len(self.states)
        if not total:
            return
        finished = sum(state in FINISHED for state in self.states.values())
        self.progress.set_value(finished / total)
        self.progress_label.set_text(f"Step {min(finished + 1, total)} of {total}" if finished < total
                                     else "Finishing…")

    def _problems(self, problems: list[Problem]) -> None:
        """The workflow with these values cannot run (from the cost estimate, or refused when submitted)."""
        self.progress_box.set_visibility(False)
        self._show_problems(problems, "form")

    def _show_problems(self, problems: list[Problem], source: str = "form") -> None:
        self._problems_from = source if problems else None
        self.problems.clear()
        with self.problems:
            for problem in problems[:4]:
                ui.label(f"{problem.message} {problem.hint or ''}".strip()).classes("fb-app-problem")

    def _finished(self, summary: dict) -> None:
        self.progress.set_value(1)
        status = summary["status"]
        self.progress_label.set_text({"done": f"Done in {summary['seconds']}s", "cancelled": "Stopped"}
                                     .get(status, f"The run {status}"))
        record = self.config.runs().get(summary["run"])
        failed = [(n, s) for n, s in record.nodes.items() if s.get("status") == "failed"]
        self._show_problems([Problem("run", f"{node} failed: {s.get('error')}", hint=s.get("hint") or "")
                             for node, s in failed], "run")
        self._show_outputs(record)

    def _show_outputs(self, record: RunRecord) -> None:
        self.outputs.clear()
        self.outputs.props(f"data-run={record.id}")  # which run they are from
        with self.outputs:
            shown = False
            if self.interface.outputs:
                for name, output in self.interface.outputs.items():
                    entry = next(iter(self.runner.history.get(output.node, [])), None)
                    if entry:
                        shown = True
                        titled = len(self.interface.outputs) > 1  # one output: the card's "Result" names it
                        own = self.workflow.outputs[name].description if name in self.workflow.outputs else ""
                        self._output(name, own, entry["images"], entry.get("text"), titled)
            elif self.runner.gallery:
                shown = True
                self._output("", "", self.runner.gallery, None, titled=False)
            if not shown:
                ui.label("This run made nothing to show.").classes("text-grey-5")
            if record.files:
                ui.label("Files").classes("fb-app-label q-mt-sm")
                with ui.row().classes("w-full gap-2").props("data-testid=app-files"):
                    for name in record.files:
                        ui.link(name, file_url(record.id, name)).props(f'download="{Path(name).name}"') \
                            .classes("fb-app-chip")

    def _output(self, name: str, description: str, images: list[dict], text: str | None, titled: bool) -> None:
        with ui.column().classes("w-full gap-2").props(f"data-testid=app-output-{name or 'images'}"):
            if titled:
                ui.label(field_label(name)).classes("fb-app-label")
            if description:
                ui.label(description).classes("fb-app-hint")
            with ui.element("div").classes("fb-app-images" + (" fb-app-one" if len(images) == 1 else "")):
                for index, image in enumerate(images):
                    filename = f"{name or image.get('node', 'result')}-{index + 1}.png"
                    with ui.element("figure").classes("fb-app-image"):
                        ui.html(f'<a href="{image["full"]}" target="_blank"><img src="{image["thumb"]}" '
                                f'alt="{name}" data-testid="app-output-image"></a>', sanitize=False)
                        with ui.element("figcaption").classes("row items-center justify-between no-wrap"):
                            ui.label(f"{image['width']}×{image['height']}").classes("text-caption text-grey-5")
                            ui.link("Download", image["full"]).props(f'download="{filename}" '
                                                                     'data-testid=app-download') \
                                .classes("fb-app-download")
            if text:
                ui.label(text).classes("fb-app-text")


def input_kind(spec: InterfaceInput) -> str:
    """How the form asks for an input: as its param's kind, or for an IMAGE or MASK input port, which takes a
    file (overrides.feed_file), as a picture to upload or a mask to paint."""
    if spec.param:
        return spec.param.kind
    return "mask" if spec.input.type == MASK else "file"


ACRONYMS = {"csv", "sku", "url", "id", "png", "jpeg", "jpg", "pdf", "api", "rgb"}


def field_label(name: str) -> str:
    """An input's or output's name as a form shows it: "photo_url" as "Photo URL", "look" as "Look"."""
    words = [w.upper() if w.lower() in ACRONYMS else w for w in name.replace("_", " ").replace("-", " ").split()]
    text = " ".join(words) or name
    return text[:1].upper() + text[1:]


def _of_app(record: RunRecord, name: str) -> bool:
    return record.origin == ORIGIN and record.name == name
