"""The History tab: every run of this server (from the editor or the HTTP API), newest first.

Each run shows a thumbnail, its status, when it ran, how long it took and what it cost, with
actions to open its workflow in the editor, run it again (through the queue; unchanged nodes come
from the cache) and download its files (the API's file URLs). The list reads the run store's
in-memory index once a second and redraws only when a run was added or changed.
"""
from __future__ import annotations

import time
from typing import Awaitable, Callable
from urllib.parse import quote

from nicegui import ui

from ..errors import WorkflowInvalid
from ..overrides import apply_overrides
from ..server import QueueFull, RunRecord, RunService
from ..server.routes import API_PREFIX

PAGE = 20          # runs shown at first and added by "Load more"
REFRESH = 1.0      # seconds between looks at the run store (an in-memory index: cheap)
STATUS_COLOURS = {"done": "positive", "failed": "negative", "cancelled": "orange-8", "interrupted": "deep-orange-6",
                  "running": "amber-6", "queued": "blue-grey-6"}
DARK_TEXT = frozenset({"done", "running"})  # light badges read better with black text


def file_url(run_id: str, name: str) -> str:
    """The API's download URL for one of a run's files (same origin as the editor)."""
    return f"{API_PREFIX}/runs/{run_id}/files/{quote(name)}"


def when(created: float, now: float | None = None) -> str:
    """Short and local: the time for today's runs, the date before that."""
    now = now or time.time()
    stamp = time.localtime(created)
    same_day = time.localtime(now)[:3] == stamp[:3]
    return time.strftime("%H:%M" if same_day else "%d %b %H:%M", stamp)


def duration(record: RunRecord) -> str | None:
    if record.seconds is None:
        return None
    seconds = record.seconds
    return f"{seconds:.1f}s" if seconds < 60 else f"{int(seconds // 60)}m {int(seconds % 60):02d}s"


def cost(record: RunRecord) -> str | None:
    if record.usage.get("offline"):
        return "free"
    direct = f" batch (${record.direct_cost:.3f} direct)" if record.direct_cost else ""
    return f"${record.cost:.3f}{direct}" if record.cost else None


class HistoryPanel:
    """One tab's view of the run history; `previews` maps run ids to in-memory thumbnails (unsaved images)."""

    def __init__(self, service: RunService, previews: dict[str, str],
                 on_open: Callable[[str, str], Awaitable[None]] | None, on_notice: Callable[[str, str], None],
                 where: Callable[[RunRecord], bool] | None = None, empty: str = "", rerun_origin: str | None = None):
        """`on_open` None: no "open in the editor" action (app mode); `where`: only these runs, `empty` said
        when there are none; `rerun_origin`: the origin a run started again gets (default "rerun of <id>")."""
        self.service = service
        self.rerun_origin = rerun_origin
        self.where = where
        self.empty = empty or ("No runs yet. Every run, from this editor or from the HTTP API, is listed here with "
                               "its images, status and cost.")
        self.previews = previews
        self.on_open = on_open
        self.on_notice = on_notice
        self.limit = PAGE
        self._shown: tuple | None = None
        with ui.row().classes("w-full items-center justify-between no-wrap"):
            self.count = ui.label().classes("text-caption text-grey-5").props("data-testid=history-count")
            if on_open:  # in the editor, not in an app
                ui.link("API", "/docs", new_tab=True).classes("text-caption text-grey-6") \
                    .tooltip("Runs submitted over the HTTP API show here too")
        self.list = ui.column().classes("w-full gap-2").props("data-testid=history")
        self.more = ui.button("Load more", on_click=self._load_more) \
            .props("flat dense no-caps color=grey-5 data-testid=history-more").classes("w-full")
        self.refresh()
        ui.timer(REFRESH, self.refresh)

    def refresh(self) -> None:
        runs, total = self.service.list_runs(limit=self.limit, where=self.where)
        seen = (total, self.limit, tuple((r.id, r.status, len(r.files), r.cost, r.id in self.previews) for r in runs))
        if seen == self._shown:
            return
        self._shown = seen
        self.count.text = f"{total} run{'s' if total != 1 else ''}" if total else ""
        self.more.set_visibility(total > len(runs))
        self.list.clear()
        with self.list:
            if not runs:
                ui.label(self.empty).classes("text-caption text-grey-6")
            for record in runs:
                self._row(record)

    def _load_more(self) -> None:
        self.limit += PAGE
        self.refresh()

    def _row(self, record: RunRecord) -> None:
        thumb = self.service.thumbnail(record.id)
        src = file_url(record.id, thumb) if thumb else self.previews.get(record.id)
        status = record.status
        with ui.row().classes("w-full no-wrap items-start gap-2 q-pa-xs rounded-borders fb-history-run") \
                .style("background:#1b1c21;border:1px solid #2c2e35") \
                .props(f"data-testid=history-run data-run={record.id} data-status={status}"):
            with ui.element("div").classes("flex flex-center rounded-borders shrink-0 overflow-hidden") \
                    .style("width:64px;height:64px;background:#0e0f11"):
                if src:
                    ui.html(f'<a href="{src}" target="_blank"><img src="{src}" alt="" loading="lazy" '
                            'data-testid="history-thumb" onerror="this.style.visibility=\'hidden\'" '
                            'style="width:64px;height:64px;object-fit:cover;display:block"></a>', sanitize=False)
                else:
                    ui.icon("image_not_supported", color="grey-8", size="sm")
            with ui.column().classes("col gap-0 min-w-0 overflow-hidden"):
                with ui.row().classes("w-full no-wrap items-center gap-1"):
                    ui.label(record.name or "Untitled").classes("text-body2 text-grey-3 ellipsis col") \
                        .tooltip(f"{record.name} · {record.id} · from {record.origin}")
                    ui.badge(status, color=STATUS_COLOURS.get(status, "grey"),
                             text_color="black" if status in DARK_TEXT else "white").props("data-testid=history-status")
                facts = [when(record.created), duration(record), cost(record), _origin(record.origin)]
                ui.label(" · ".join(f for f in facts if f)).classes("w-full text-caption text-grey-6 ellipsis")
                error = problem(record)
                if error:
                    ui.label(error).classes("text-caption text-red-3 ellipsis").tooltip(error)
                with ui.row().classes("gap-0 no-wrap items-center"):
                    self._actions(record)

    def _actions(self, record: RunRecord) -> None:
        props = "flat dense round size=sm color=grey-4"
        if self.on_open:
            ui.button(icon="edit_note", on_click=lambda: self.open(record.id)) \
                .props(f"{props} data-testid=history-open").tooltip("Open this run's workflow in the editor")
        ui.button(icon="replay", on_click=lambda: self.rerun(record.id)) \
            .props(f"{props} data-testid=history-rerun").tooltip("Run it again (unchanged nodes come from the cache)")
        if record.active:
            ui.button(icon="stop", on_click=lambda: self.service.cancel(record.id)) \
                .props("flat dense round size=sm color=red-4 data-testid=history-stop").tooltip("Stop this run")
        if record.files:
            with ui.button(icon="download").props(f"{props} data-testid=history-download") \
                    .tooltip(f"Download its files ({len(record.files)})"):
                with ui.menu().props("dark"), ui.column().classes("gap-0 q-pa-sm"):
                    for name in record.files:
                        ui.link(name, file_url(record.id, name)).classes("text-caption").props("download")

    async def open(self, run_id: str) -> None:
        """The run's workflow, with the inputs it ran with, opens in this tab (after asking about unsaved edits)."""
        record = self.service.get(run_id)
        workflow = self.service.open_workflow(run_id)
        if record.inputs:
            try:
                workflow = apply_overrides(workflow, self.service.catalogue, record.inputs)
            except WorkflowInvalid:
                self.on_notice("Opened without its inputs: they no longer fit the workflow.", "warning")
        await self.on_open(workflow.dumps(), f"run {run_id}")

    def rerun(self, run_id: str) -> None:
        try:
            record = self.service.rerun(run_id, origin=self.rerun_origin)
        except (WorkflowInvalid, QueueFull) as exc:
            message = "; ".join(p.message for p in exc.problems) if isinstance(exc, WorkflowInvalid) else str(exc)
            self.on_notice(f"Not run again: {message}", "negative")
            return
        self.on_notice(f"Run {record.id} queued again; it appears at the top.", "info")
        self.refresh()


def problem(record: RunRecord) -> str | None:
    """Why a run failed or stopped: its own error, else the first failing node's."""
    if record.status not in ("failed", "interrupted"):
        return None
    failed = next((n.get("error") for n in record.nodes.values()
                   if n.get("status") == "failed" and n.get("error")), None)
    return record.error or failed


def _origin(origin: str) -> str:
    """Short enough for the row; the full origin ("rerun of <id>") is in the name's tooltip."""
    return {"api": "API"}.get(origin, "re-run" if origin.startswith("rerun of") else origin)
