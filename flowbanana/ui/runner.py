"""Runs from the editor: submitted to the server's run queue, their events turned into node statuses.

One `RunController` per browser tab. It runs a copy of the workflow (edits during a run do not
change what runs) through the same `RunService` as the HTTP API, so editor runs wait their turn,
land in the run history and keep a run record. It keeps a short history of results per node and
the run's gallery. Images are handed to the `MediaStore` in a thread and reach the page as URLs.
"""
from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from ..cache import Cache
from ..errors import Problem, WorkflowInvalid
from ..events import Event
from ..executor import Execution, RunOptions
from ..images import is_image, loaded
from ..catalogue import Catalogue
from ..providers import ConfigError, ProviderUnavailable, prepare_run
from ..providers.keys import KEY_VARIABLES, has_credentials
from ..server import RunService, ServerSettings
from ..server.runs import QueueFull
from ..server.store import QUEUED
from ..sweep import original_id
from ..workflow import Workflow
from .media import MediaStore

log = logging.getLogger("flowbanana.ui")
HISTORY = 8           # results kept per node to step back through
GALLERY_PER_NODE = 24  # images of one node's list output shown in the gallery
TEXT_PREVIEW = 1200    # characters of a text output shown in the node

_STATES = {"node_started": "running", "node_cached": "cached", "node_finished": "done", "node_failed": "failed",
           "node_skipped": "skipped", "node_cancelled": "cancelled"}


@dataclass
class EditorConfig:
    """What `flowbanana ui` was started with; shared by every tab."""
    catalogue: Catalogue
    workflows_dir: Path
    out_root: Path
    cache_dir: Path | None
    media: MediaStore
    uploads_dir: Path
    file: Path | None = None
    app: bool = False       # `--app`: `/` is the app made from `file`, not the editor
    provider: str = "auto"  # auto | gemini | offline, changed in the settings dialog for this process
    key_from_settings: bool = False
    banner_shown: bool = False
    service: RunService | None = None  # the server's run queue (`flowbanana ui` passes the API's)
    previews: dict[str, str] = field(default_factory=dict)  # run id -> first result thumbnail, for the history

    def runs(self) -> RunService:
        """The run queue, made on first use when the editor runs without the API (tests, embedding)."""
        if self.service is None:
            self.service = RunService(ServerSettings(workflows_dir=self.workflows_dir, runs_dir=self.runs_dir,
                                                     cache_dir=self.cache_dir), self.catalogue)
        return self.service

    @property
    def read_roots(self) -> tuple[Path, ...]:
        """What editor runs may read besides the workflow's folder: uploads, and the saved workflows (subgraphs)."""
        return (self.uploads_dir.resolve(), self.workflows_dir.resolve())

    @property
    def runs_dir(self) -> Path:
        """Each run's folder (record, events, outputs) under the output folder."""
        return self.out_root / "runs"

    def provider_label(self) -> str:
        if self.provider == "offline" or not has_credentials():
            return "offline preview"
        return "Gemini"

    def key_source(self) -> str:
        """Which environment variable supplies the key (its name, never its value)."""
        if self.key_from_settings:
            return "a key entered in this editor (kept in this server's memory only)"
        found = next((name for name in KEY_VARIABLES if os.environ.get(name, "").strip()), None)
        return f"${found}" if found else "none"

    def set_key(self, key: str) -> None:
        """Keep a key for this server process only: in its environment, which the Gemini client reads."""
        os.environ["GEMINI_API_KEY"] = key.strip()
        for other in KEY_VARIABLES:
            if other != "GEMINI_API_KEY":
                os.environ.pop(other, None)  # the SDK prefers GOOGLE_API_KEY; the typed key must win
        self.key_from_settings = True


@dataclass
class RunController:
    config: EditorConfig
    on_status: Callable[[dict[str, dict]], None]
    on_finished: Callable[[dict], None]
    on_problems: Callable[[list[Problem]], None]
    on_notice: Callable[[str, str], None]
    # a batch run stopped before submitting for nodes (-> why) whose calls the Batch API cannot take
    on_not_batched: Callable[[dict[str, str]], None] | None = None
    history: dict[str, list[dict]] = field(default_factory=dict)
    gallery: list[dict] = field(default_factory=list)
    run_id: str | None = None  # this tab's run, queued or running
    batch: bool = False        # model calls as Gemini Batch API jobs: half the price, within 24 hours
    _publishing: set = field(default_factory=set)
    _cells: dict[str, dict[str, dict]] = field(default_factory=dict)  # a node a sweep copied -> its copies' states
    _media: dict[str, dict] = field(default_factory=dict)  # this run's pictures by digest -> their URLs

    @property
    def running(self) -> bool:
        return self.run_id is not None

    @property
    def execution(self) -> Execution | None:
        """The executing run (None while it waits in the queue); its results hold the in-memory images."""
        return self.config.runs().execution(self.run_id) if self.run_id else None

    def stop(self) -> None:
        if self.run_id:
            self.config.runs().cancel(self.run_id)

    async def run(self, workflow: Workflow, targets: set[str] | None = None, force: set[str] = frozenset(),
                  inputs: dict[str, Any] | None = None, origin: str = "editor", direct: Iterable[str] = ()) -> None:
        """Queue the workflow (with `inputs` set, as --set would) and follow it to its end; with batch on, the calls
        of the nodes in `direct` go to Gemini directly."""
        if self.run_id:
            self.on_notice("A run is already going; stop it first.", "warning")
            return
        service = self.config.runs()
        if not self.config.banner_shown:  # once per server, not on every run
            self._announce()
        try:
            record = service.submit(workflow.copy(), inputs=inputs, provider=self.config.provider, force=force,
                                    targets=targets, origin=origin, on_event=self._event,
                                    read_roots=self.config.read_roots, batch=self.batch,
                                    direct=direct if self.batch else ())
        except WorkflowInvalid as exc:
            self.on_problems(exc.problems)
            return
        except QueueFull as exc:
            self.on_notice(str(exc), "warning")
            return
        self.run_id, self.gallery, self._media = record.id, [], {}
        try:
            await asyncio.sleep(0)  # the run takes a free slot at its first step
            if self.execution is None and record.status == QUEUED:  # a batch run's first pass is running, not queued
                self.on_notice("Waiting in the run queue: other runs (see History) are using every slot.", "info")
            record = await service.wait(record.id)
        finally:
            self.run_id = None
        if self._publishing:
            await asyncio.gather(*self._publishing, return_exceptions=True)
        counts = {s: sum(1 for n in record.nodes.values() if n.get("status") == s)
                  for s in ("done", "cached", "failed", "skipped")}
        if record.status == "failed" and record.not_batched and self.on_not_batched:
            self.on_not_batched(record.not_batched)
            return
        if record.status == "failed" and not counts["failed"]:  # the run itself stopped, not one node
            self.on_notice(f"The run stopped: {record.error}", "negative")
            return
        self.on_finished({"status": record.status, "seconds": round(record.seconds or 0.0, 2),
                          "usage": record.usage, "out_dir": str(service.store.outputs(record.id)),
                          "files": [str(f) for f in service.files(record.id)], "counts": counts, "run": record.id})

    def _announce(self) -> None:
        """Say once that the offline preview stands in for Gemini (or why the provider cannot run)."""
        try:
            setup = prepare_run(self.config.provider)
        except (ProviderUnavailable, ConfigError):
            return  # the run itself reports this
        if setup.banner:
            self.config.banner_shown = True
            self.on_notice(setup.banner, "info")
        asyncio.ensure_future(setup.aclose())

    async def estimate(self, workflow: Workflow) -> dict | None:
        """What a run would cost, from a dry run: provider calls answered by placeholders, the cache only read,
        files written to a scratch folder. None when it cannot run (the reason went to on_notice/on_problems)."""
        try:
            setup = prepare_run(self.config.provider, dry_run=True)
        except (ProviderUnavailable, ConfigError) as exc:
            self.on_notice(str(exc), "negative")
            return None
        options = setup.apply(RunOptions(cache=Cache(self.config.cache_dir) if self.config.cache_dir else None,
                                         read_roots=self.config.read_roots))
        try:
            await Execution(workflow.copy(), self.config.catalogue, options).run()
        except WorkflowInvalid as exc:
            self.on_problems(exc.problems)
            return None
        finally:
            await setup.aclose()
        return setup.plan(batch=self.batch)

    def _event(self, event: Event) -> None:
        if event.kind == "batch_status":  # a batch run's jobs: submitted, their states, the wait
            self.on_notice(f"Batch: {event.data['message']}", "info")
        elif event.kind == "run_started":
            self._cells = {}
            statuses = {}
            for node_id in event.data.get("nodes", []):
                original = original_id(node_id)
                if original != node_id:
                    self._cells.setdefault(original, {})[node_id] = {"state": "queued"}
                statuses[original] = {"state": "queued", "label": "queued", "error": None, "hint": None,
                                      "progress": None}
            self.on_status(statuses)
        elif event.kind == "node_progress" and original_id(event.node) == event.node:  # copies: counted as cells
            self.on_status({event.node: {"progress": event.data.get("fraction"), "label": event.data.get("message")
                                         or "running"}})
        elif event.kind in _STATES:
            state = _STATES[event.kind]
            status: dict[str, Any] = {"state": state, "label": state, "progress": None}
            if event.kind == "node_failed":  # on the node itself, "node 'x' (type):" goes without saying
                error = str(event.data.get("error") or "")
                prefix = f"node {event.node!r} ("
                if error.startswith(prefix) and "): " in error:
                    error = error.split("): ", 1)[1]
                status.update(error=error, hint=event.data.get("hint"))
            elif event.kind == "node_skipped":
                status.update(error=event.data.get("reason"), hint=None)
            seconds = event.data.get("seconds")
            if seconds is not None and state == "done":
                status["label"] = f"done {seconds:.1f}s"
                cost = spent(event.data.get("meta") or {})
                if cost:  # what this node's model calls cost now (a cache hit costs nothing)
                    status["label"] += f" · ${cost:.3f}"
            items = (event.data.get("meta") or {}).get("items")
            if state in ("done", "cached", "skipped") and isinstance(items, list) and len(items) != 1:
                status["label"] += f" · {len(items):,} items"  # a node run once per item says how many
            shown = original_id(event.node)
            if shown != event.node:  # a sweep's copy: its node shows how far the cells are
                self._cells[shown][event.node] = status
                status = cells_status(self._cells[shown])
            self.on_status({shown: status})
            if state in ("done", "cached") and self.execution:
                result = self.execution.results.get(event.node)
                if result is not None:
                    task = asyncio.ensure_future(self._publish(shown, result.outputs, seconds, self.run_id,
                                                               result.meta.get("sweep"), sources(result.meta)))
                    self._publishing.add(task)
                    task.add_done_callback(self._publishing.discard)

    async def _publish(self, node_id: str, outputs: dict[str, Any], seconds: float | None, run_id: str,
                       grid: dict | None = None, grounding: list[dict] = ()) -> None:
        """Write the node's images for the page (in a thread) and push its newest result entry (with a sweep's
        cells, to pick one from its grid, and the pages a grounded answer used)."""
        entry = await asyncio.to_thread(self._entry, node_id, outputs, run_id)
        if entry is None:
            return
        if grid:
            entry["sweep"] = grid
        if grounding:
            entry["sources"] = list(grounding)
        entry["seconds"] = f"{seconds:.1f}s" if seconds and seconds >= 0.05 else None  # no "0.0s" noise
        if entry["thumb"]:
            self.config.previews.setdefault(run_id, entry["thumb"])
        kept = self.history.setdefault(node_id, [])
        kept.insert(0, entry)
        del kept[HISTORY:]
        self.gallery.extend({"node": node_id, **image} for image in entry["images"])
        self.on_status({node_id: {"history": list(kept)}})

    def _entry(self, node_id: str, outputs: dict[str, Any], run_id: str) -> dict | None:
        images, texts, count = [], [], 1
        for name, value in outputs.items():
            items = value if isinstance(value, list) else [value]
            count = max(count, len(items))
            pictures = [v for v in items if is_image(v)]
            images += [self._media_for(picture, run_id) for picture in pictures[:GALLERY_PER_NODE]]
            others = [v for v in items if not is_image(v) and v is not None]
            if others:
                texts.append("\n".join(str(v) for v in others))
        if not images and not texts:
            return None
        text = "\n\n".join(texts)[:TEXT_PREVIEW] if texts and not images else None
        first = images[0] if images else {}
        return {"thumb": first.get("thumb"), "full": first.get("full"), "text": text, "count": count,
                "images": images}

    def _media_for(self, picture: Any, run_id: str) -> dict:
        """A picture's URLs, its files written once: one shown by several nodes (generate, then preview) is the
        same picture (an ImageRef's digest says so)."""
        digest = getattr(picture, "digest", "")
        if digest and digest in self._media:
            return self._media[digest]
        entry = self.config.media.add(loaded(picture), run_id)
        if digest:
            self._media[digest] = entry
        return entry


def cells_status(cells: dict[str, dict]) -> dict:
    """One status for a node a sweep copied: how many of its copies have finished, then how they ended."""
    states = [c["state"] for c in cells.values()]
    finished = sum(s in ("done", "cached", "failed", "skipped", "cancelled") for s in states)
    total = len(states)
    if finished < total:
        return {"state": "running" if "running" in states or finished else "queued",
                "label": f"{finished}/{total} cells", "progress": finished / total, "error": None, "hint": None}
    failed = [c for c in cells.values() if c["state"] in ("failed", "skipped", "cancelled")]
    if failed:
        first = failed[0]
        return {"state": "failed" if any(c["state"] == "failed" for c in failed) else first["state"],
                "label": f"{len(failed)} of {total} cells failed", "progress": None,
                "error": f"{len(failed)} of {total} cells did not finish; the first: {first.get('error')}",
                "hint": first.get("hint")}
    state = "cached" if all(s == "cached" for s in states) else "done"
    return {"state": state, "label": f"{total} cells {state}", "progress": None, "error": None, "hint": None}


def sources(meta: dict) -> list[dict]:
    """The web pages a node's grounded answers used (item by item for a mapped node), once each; only http(s)
    addresses, since the page makes them links."""
    found: dict[str, dict] = {}
    for item in meta.get("items", [meta]):
        for source in item.get("sources", ()) if isinstance(item, dict) else ():
            uri = str(source.get("uri", ""))
            if uri.startswith(("https://", "http://")):
                found.setdefault(uri, {"title": str(source.get("title") or uri), "uri": uri})
    return list(found.values())


def spent(meta: dict) -> float:
    """The estimated cost recorded by a node's model calls, item by item for a mapped node."""
    return sum(m.get("cost") or 0.0 for m in meta.get("items", [meta]) if isinstance(m, dict))
