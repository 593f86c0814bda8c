"""The panels around the canvas: workflow inputs as a form, the run's results, and the settings dialog."""
from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Callable

from nicegui import ui

from ..node_api import Param
from .document import Document
from .runner import EditorConfig, RunController


class SidePanel:
    """Right-hand drawer: the workflow's description and inputs (usable without touching the graph), then results."""

    def __init__(self, on_param: Callable[[str, str, object], None], on_description: Callable[[str], None],
                 on_remove: Callable[[str], None], on_remove_output: Callable[[str], None]):
        self.on_param = on_param
        self.on_description = on_description
        self.on_remove = on_remove
        self.on_remove_output = on_remove_output
        self.doc: Document | None = None
        self.runner: RunController | None = None
        self.summary: dict | None = None
        with ui.tabs().classes("w-full").props("dense align=justify narrow-indicator") as tabs:
            self.form_tab = ui.tab("Workflow")
            self.results_tab = ui.tab("Results")
            self.history_tab = ui.tab("History").props("data-testid=history-tab")
        self.tabs = tabs
        with ui.tab_panels(tabs, value=self.form_tab).classes("w-full bg-transparent").props("keep-alive"):
            with ui.tab_panel(self.form_tab).classes("p-3"):
                self.form = ui.column().classes("w-full gap-3")
            with ui.tab_panel(self.results_tab).classes("p-3"):
                self.results = ui.column().classes("w-full gap-3").props("data-testid=results")
            with ui.tab_panel(self.history_tab).classes("p-3"):
                self.history = ui.column().classes("w-full gap-2")  # filled by history.HistoryPanel

    def show_form(self, doc: Document, on_pick: Callable[[str], None] | None = None) -> None:
        self.doc = doc
        self.form.clear()
        workflow = doc.workflow
        with self.form:
            problems = doc.problems()
            if problems:
                self._problems(problems, on_pick)
            ui.textarea("Description", value=workflow.description,
                        on_change=None).props("outlined dense autogrow").classes("w-full") \
                .on("blur", lambda e: self.on_description(e.sender.value))
            ui.label("Inputs").classes("text-subtitle2 text-grey-5 q-mt-sm")
            if not workflow.inputs:
                ui.label("No inputs yet. Add a node's param here from the node's ⋮ menu, so that the workflow "
                         "can be used without touching the graph (and with --set NAME=... on the command line).") \
                    .classes("text-caption text-grey-6")
            for name, spec in workflow.inputs.items():
                node = workflow.nodes.get(spec.node)
                node_type = doc.node_type(node) if node else None
                if node_type and spec.input and node_type.port(spec.input):
                    self._listed(name, f"a link ({node_type.port(spec.input).type}) into {spec.node}.{spec.input}, "
                                       "when this workflow is used as a node", lambda n=name: self.on_remove(n))
                    continue
                param = node_type.param(spec.param) if node_type else None
                if param is None:
                    ui.label(f"{name}: points at {spec.node}.{spec.port}, which does not exist.") \
                        .classes("text-caption text-negative")
                    continue
                linked = spec.param in node.inputs
                value = node.params.get(spec.param, param.default)
                with ui.row().classes("w-full no-wrap items-start gap-1"):
                    self._field(name, spec.node, param, value, spec.description, linked)
                    ui.button(icon="close", on_click=lambda n=name: self.on_remove(n)) \
                        .props('flat round dense size=sm color=grey-6 title="Remove from the inputs form"')
            if workflow.outputs:
                ui.label("Outputs").classes("text-subtitle2 text-grey-5 q-mt-sm")
                for name, spec in workflow.outputs.items():
                    self._listed(name, f"{spec.node}.{spec.output}" + (f": {spec.description}" if spec.description
                                                                        else ""),
                                 lambda n=name: self.on_remove_output(n))

    def _listed(self, name: str, what: str, on_remove: Callable[[], None]) -> None:
        """One entry of the interface that has no field: its name, what it is, and a button to remove it."""
        with ui.row().classes("w-full no-wrap items-center gap-1").props(f"data-testid=interface-{name}"):
            with ui.column().classes("col gap-0"):
                ui.label(name).classes("text-body2")
                ui.label(what).classes("text-caption text-grey-6")
            ui.button(icon="close", on_click=on_remove) \
                .props('flat round dense size=sm color=grey-6 title="Remove from the interface"')

    def _problems(self, problems: list[dict], on_pick: Callable[[str], None] | None) -> None:
        """What stops the workflow from running, each naming its node: a click shows the node."""
        with ui.expansion(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} to fix before running",
                          icon="warning").classes("w-full fb-problems").props("dense header-class=text-amber-5"):
            for problem in problems:
                with ui.row().classes("w-full no-wrap items-start gap-2 q-py-xs cursor-pointer") as row:
                    ui.label(problem["node"] or "workflow").classes("text-caption text-amber-4 fb-problem-node")
                    ui.label(f"{problem['message']} {problem['hint']}".strip()).classes("text-caption text-grey-4")
                if problem["node"] and on_pick:
                    row.on("click", lambda n=problem["node"]: on_pick(n))

    def _field(self, label: str, node_id: str, param: Param, value, description: str, linked: bool) -> None:
        def changed(e):
            self.on_param(node_id, param.name, e.value)
        hint = description or param.description
        with ui.column().classes("col gap-0"):
            if linked:
                ui.input(label, value="(fed by a link in the graph)").props("outlined dense readonly") \
                    .classes("w-full")
            elif param.kind == "choice":
                ui.select(list(param.choices), label=label, value=value, on_change=changed) \
                    .props("outlined dense options-dense").classes("w-full")
            elif param.kind == "bool":
                ui.switch(label, value=bool(value), on_change=changed)
            elif param.kind in ("int", "float", "seed"):
                ui.number(label, value=value, min=param.min, max=param.max, step=param.step or
                          (1 if param.kind != "float" else None), on_change=changed,
                          format="%d" if param.kind != "float" else None).props("outlined dense").classes("w-full")
            elif param.kind == "multiline":
                area = ui.textarea(label, value=value or "").props("outlined dense autogrow").classes("w-full")
                area.on("blur", lambda e, a=area: self.on_param(node_id, param.name, a.value))
            else:
                field = ui.input(label, value=value or "").props("outlined dense").classes("w-full")
                field.on("blur", lambda e, f=field: self.on_param(node_id, param.name, f.value))
            if hint:
                ui.label(hint).classes("text-caption text-grey-6 q-px-xs")

    def show_results(self, runner: RunController, summary: dict | None, file_url: Callable[[int], str]) -> None:
        self.results.clear()
        with self.results:
            if summary:
                status = summary["status"]
                colour = {"done": "positive", "failed": "negative", "cancelled": "warning"}.get(status, "grey")
                with ui.row().classes("items-center gap-2"):
                    ui.badge(status, color=colour).props("data-testid=run-status")
                    counts = summary["counts"]
                    ui.label(f"{summary['seconds']}s · {counts['done']} ran · {counts['cached']} cached"
                             + (f" · {counts['failed']} failed" if counts["failed"] else "")).classes("text-caption")
                usage = summary.get("usage") or {}
                if usage:
                    calls = usage.get("calls", 0)
                    ui.label(f"{usage.get('provider')}: {calls} call{'' if calls == 1 else 's'}, "
                             f"est. ${usage.get('cost_usd', 0):.3f}").classes("text-caption text-grey-6")
                if summary["files"]:
                    ui.label(f"Files written to {summary['out_dir']}:").classes("text-caption text-grey-6") \
                        .style("word-break: break-all")
                    with ui.column().classes("gap-0 q-pl-sm").props("data-testid=run-files"):
                        for index, path in enumerate(summary["files"]):
                            ui.link(Path(path).name, file_url(index)).classes("text-caption") \
                                .props(f'download="{Path(path).name}"')
            if not runner.gallery:
                ui.label("This run made no images." if summary else
                         "Run the workflow (Ctrl+Enter) to see every image it makes here.") \
                    .classes("text-caption text-grey-6")
                return
            ui.html(gallery_html(runner.gallery), sanitize=False).classes("w-full")


def gallery_html(gallery: list[dict]) -> str:
    """Every image of the run as one HTML block: one element for the page, not five per image, so a run of hundreds
    of images ends without a burst of element updates. Thumbnails load lazily, by URL."""
    cells = []
    for item in gallery:
        full, node = escape(item["full"]), escape(item["node"])
        cells.append(f'<div class="fb-gallery-item"><a href="{full}" target="_blank"><img src="{escape(item["thumb"])}" '
                     f'loading="lazy" alt="{node}"></a><div><span>{node}</span>'
                     f'<a class="nicegui-link" href="{full}&amp;download=1">download</a></div></div>')
    return f'<div class="fb-gallery">{"".join(cells)}</div>'


def settings_dialog(config: EditorConfig, on_change: Callable[[], None]) -> ui.dialog:
    """Provider choice and an API key for this server process only: kept in memory, written nowhere."""
    with ui.dialog() as dialog, ui.card().classes("w-[30rem] gap-3"):
        ui.label("Settings").classes("text-h6")
        ui.select({"auto": "Automatic (Gemini when a key is set)", "gemini": "Gemini",
                   "offline": "Offline preview (no key, local placeholders)"}, label="Provider",
                  value=config.provider, on_change=lambda e: (setattr(config, "provider", e.value), on_change())) \
            .props("outlined dense").classes("w-full")
        source = ui.label().classes("text-caption text-grey-5")

        def show_source():
            source.text = f"API key in use: {config.key_source()}"
        show_source()
        key = ui.input("Gemini API key", password=True, password_toggle_button=True) \
            .props("outlined dense autocomplete=off").classes("w-full")
        ui.label("The key stays in this server process's memory until it stops: it is never written to a "
                 "workflow, a file, an image or a log.").classes("text-caption text-grey-6")

        def use_key():
            if not key.value.strip():
                ui.notify("Type a key first.", type="warning")
                return
            config.set_key(key.value)
            key.value = ""
            show_source()
            on_change()
            ui.notify("Key set for this server process.", type="positive")
        with ui.row().classes("w-full justify-end"):
            ui.button("Close", on_click=dialog.close).props("flat")
            ui.button("Use this key", on_click=use_key).props("unelevated text-color=black")
    dialog.on("show", show_source)
    return dialog

