"""The run queue: every run from the API or the editor goes through here, a few at a time.

`RunService` is also the Python API the editor's history panel uses: list runs, open one's
workflow, re-run it, find its output files, follow its events.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Iterable

from ..cache import Cache
from ..catalogue import Catalogue, load_catalogue
from ..errors import Problem, WorkflowInvalid
from ..events import Event
from ..executor import Execution, RunOptions
from ..limits import CallLimiter
from ..node_api import NodeError, resolve_path, within
from ..overrides import apply_overrides
from ..providers import ConfigError, ProviderUnavailable, RunSetup, prepare_run
from ..results import CANCELLED, FAILED, RunResult
from ..subgraph import Subgraphs
from ..validation import check, validate
from ..workflow import Workflow, from_dict
from ..words import HTTP
from .eventlog import EventLog
from .paths import Publisher
from .settings import ServerSettings
from .store import INTERRUPTED, RUNNING, RunRecord, RunStore, new_run_id
from .usage import summarise_usage

log = logging.getLogger("flowbanana.server")
_SILENT = frozenset({"node_progress", "node_warning"})  # kept in the event log, not worth a record write
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif")
SAVE_INTERVAL = 0.2  # seconds between writes of a running run's record


class QueueFull(Exception):
    """More runs are waiting than the server takes; the caller should try again later."""


class RunService:
    """Owns the run store, the queue and the live executions of one server process."""

    def __init__(self, settings: ServerSettings, catalogue: Catalogue | None = None):
        self.settings = settings
        self.catalogue = catalogue or load_catalogue(list(settings.nodes_dirs))
        self.store = RunStore(settings.runs_dir)
        self.cache = Cache(settings.cache_dir) if settings.cache_dir else None
        self._logs: dict[str, EventLog] = {}
        self._executions: dict[str, Execution] = {}
        self._batches: dict[str, Any] = {}  # run id -> its BatchRun, while a batch run is on
        self._tasks: dict[str, asyncio.Task] = {}
        self._listeners: dict[str, list[Callable[[Event], None]]] = {}
        self._slots: asyncio.Semaphore | None = None
        self._limiters: dict[str, CallLimiter] = {}
        self._finals: dict[str, dict[str, Any]] = {}
        self._unsaved: set[str] = set()
        self._publishers: dict[str, Publisher] = {}
        self._folders = settings.named_folders
        self._closing = False

    # -- submitting -----------------------------------------------------------------------------------------

    def prepare(self, workflow: Workflow | dict, inputs: dict[str, Any] | None = None,
                force: Iterable[str] = (), read_roots: tuple[Path, ...] | None = None,
                direct: Iterable[str] = ()) -> Workflow:
        """The workflow as it will run (inputs applied, reading only where allowed); raises WorkflowInvalid.

        `read_roots` (the editor's runs): the workflow keeps its own folder, as on the command line, and may
        also read in these folders (ctx.resolve_read). Without them (HTTP), it reads only in the server's.
        """
        roots = self.settings.read_roots if read_roots is None else read_roots
        model = self._placed(workflow, inputs, read_roots)
        flat = check(model, self.catalogue, roots, HTTP)
        unknown = [(field, n) for field, names in (("force", force), ("direct", direct)) for n in names
                   if n not in model.nodes and n not in flat.workflow.nodes]
        if unknown:
            raise WorkflowInvalid([Problem(field, f"{field} {n!r}: the workflow has no node {n!r}.", node=n,
                                           hint=f"Its nodes: {', '.join(model.nodes)}.") for field, n in unknown])
        if read_roots is None:
            self._check_paths(flat.workflow)
        return model

    def problems(self, workflow: dict[str, Any]) -> list[Problem]:
        """Every problem, warnings too, that `workflow` sent over HTTP would meet now (POST /api/validate)."""
        return validate(self._placed(workflow, None, None), self.catalogue, self.settings.read_roots, warnings=True,
                        words=HTTP)

    def _placed(self, workflow: Workflow | dict, inputs: dict[str, Any] | None,
                read_roots: tuple[Path, ...] | None) -> Workflow:
        """A copy of the workflow in the folder its relative paths resolve against, with `inputs` applied."""
        model = from_dict(workflow) if isinstance(workflow, dict) else workflow.copy()
        roots = self.settings.read_roots if read_roots is None else read_roots
        if read_roots is None and (model.source is None or not within(model.source.parent, roots)):
            # relative paths resolve against the first input folder (else the workflows folder)
            base = self.settings.input_dirs[0] if self.settings.input_dirs else self.settings.workflows_dir
            model.source = base.resolve() / "submitted.json"
        if inputs:
            model = apply_overrides(model, self.catalogue, inputs, roots, words=HTTP)
        if read_roots is None:
            self._find_files(model)
        return model

    def _find_files(self, model: Workflow) -> None:
        """A relative file param naming nothing beside the workflow is looked for in the input folders, then
        among uploads (by the name POST /api/uploads gave it); found, it points there, relative to the workflow."""
        base = model.base_dir
        for node in model.nodes.values():
            node_type = self.catalogue.get(node.type)
            for param in node_type.params if node_type else ():
                value = node.params.get(param.name)
                if not param.is_path or not isinstance(value, str) or not value or value.startswith("~") \
                        or os.path.isabs(value) or "\0" in value:
                    continue
                try:
                    if (base / value).exists():
                        continue
                    found = next((folder / value for folder in (*self.settings.input_dirs, self.settings.uploads_dir)
                                  if (folder / value).exists()), None)
                except OSError:  # a name too long for any folder: _check_paths or the node says so
                    continue
                if found is not None:  # links are left for _check_paths to follow
                    node.params[param.name] = Path(os.path.relpath(os.path.abspath(found), base.resolve())).as_posix()

    def _check_paths(self, flat: Workflow) -> None:
        """Refuse file params that point outside the readable folders now, not when the node runs.

        The nodes check again when they run (ctx.resolve_read), which also covers paths fed by links.
        """
        problems = []
        for node_id, node in flat.nodes.items():
            node_type = self.catalogue.get(node.type)
            for param in node_type.params:
                value = node.params.get(param.name)
                if not param.is_path or not value or param.name in node.inputs or not isinstance(value, str):
                    continue
                # validation has refused paths that cannot be resolved (a NUL byte, an unknown ~user)
                if not within(resolve_path(value, node.base_dir or flat.base_dir), self.settings.read_roots):
                    problems.append(Problem(
                        "path", f"node {node_id!r} ({node.type}), param {param.name!r}: {value!r} is outside the "
                        "folders this server lets runs read.", node=node_id, port=param.name,
                        hint="Upload the file (POST /api/uploads) or put it in an input folder of the server."))
        if problems:
            raise WorkflowInvalid(problems)

    def submit(self, workflow: Workflow | dict, *, inputs: dict[str, Any] | None = None, provider: str | None = None,
               use_cache: bool = True, force: Iterable[str] = (), origin: str = "api",
               on_event: Callable[[Event], None] | None = None, targets: Iterable[str] | None = None,
               read_roots: Iterable[Path | str] | None = None, batch: bool = False,
               direct: Iterable[str] = ()) -> RunRecord:
        """Queue a run and return its record at once; call from the event loop. Raises WorkflowInvalid.

        `batch` sends the model calls as Gemini Batch API jobs (half price, within 24 hours); the run holds a
        run slot only while a pass over the graph runs, not while it waits for the jobs; the calls of the nodes
        in `direct` go to Gemini directly, at the full price (as the command line's --direct).

        The editor also passes `targets` (run only these nodes and what they need) and `read_roots`
        (a local workflow: it keeps its own folder and may read there and in these folders). HTTP
        submissions pass neither and read only in the server's folders.
        """
        if len(self._tasks) >= self.settings.max_queued:
            raise QueueFull(f"{len(self._tasks)} runs are already waiting or running; try again when some finish.")
        force = list(dict.fromkeys(force))
        targets = sorted(set(targets)) if targets is not None else None
        local = read_roots is not None
        roots = tuple(Path(r).resolve() for r in read_roots) if local else self.settings.read_roots
        direct = sorted(set(direct))
        if direct and not batch:
            raise WorkflowInvalid([Problem("request", '"direct" goes with "batch": true.',
                                           hint='Add "batch": true to the options, or drop "direct".')])
        model = self.prepare(workflow, inputs, force, roots if local else None, direct)
        setup = self._setup(provider or "auto")
        if batch:
            from ..batch.runner import unavailable
            reason = unavailable(setup.provider)
            if reason:
                raise WorkflowInvalid([Problem("provider", reason[0], hint=reason[1])])
        original = (from_dict(workflow) if isinstance(workflow, dict) else workflow).to_dict()  # canonical form
        named = Subgraphs(self.catalogue, roots).interface(model).outputs
        record = self.store.create(RunRecord(
            id=new_run_id(), workflow=original, name=model.name, inputs=dict(inputs or {}), origin=origin,
            base_dir=str(model.base_dir) if local else self._folder_name(model.base_dir),
            outputs={name: {"node": o.node, "output": o.port, "type": o.type, "description": o.output.description}
                     for name, o in named.items()},
            options={"provider": provider or "auto", "use_cache": use_cache, "force": force, "targets": targets,
                     **({"batch": True} if batch else {}), **({"direct": direct} if direct else {}),
                     **({"read_roots": [str(r) for r in roots]} if local else {})}))
        self._logs[record.id] = EventLog(self.store.events_path(record.id))
        self._listeners[record.id] = [on_event] if on_event else []
        options = setup.apply(RunOptions(out_dir=self.store.outputs(record.id), cache=self.cache if use_cache
                                         else None, force=frozenset(force), read_roots=roots,
                                         targets=frozenset(targets) if targets is not None else None,
                                         limits=self.settings.run_limits, words=HTTP))
        task = asyncio.get_running_loop().create_task(self._run(record, model, options, setup),
                                                      name=f"flowbanana-run:{record.id}")
        task.add_done_callback(lambda _: self._end_unstarted(record, setup))
        self._tasks[record.id] = task
        return record

    def rerun(self, run_id: str, origin: str | None = None) -> RunRecord:
        """The same workflow, inputs and options again; unchanged nodes come from the cache."""
        old = self.get(run_id)
        workflow = from_dict(old.workflow)
        folder = self._folders.get(old.base_dir) if old.base_dir else None  # an HTTP run's folder, by name
        if folder is not None or (old.base_dir and Path(old.base_dir).is_absolute()):
            workflow.source = (folder or Path(old.base_dir)).resolve() / "submitted.json"
        return self.submit(workflow, inputs=old.inputs, provider=old.options.get("provider"),
                           use_cache=old.options.get("use_cache", True), force=old.options.get("force", ()),
                           targets=old.options.get("targets"), read_roots=old.options.get("read_roots"),
                           batch=old.options.get("batch", False), direct=old.options.get("direct", ()), origin=origin or f"rerun of {old.id}")

    def _folder_name(self, folder: Path) -> str:
        """The name an HTTP run's base folder (the workflows folder or an input folder) goes by in its record."""
        return next((name for name, path in self._folders.items() if path.resolve() == folder.resolve()),
                    folder.name)

    def publisher(self, record: RunRecord) -> Publisher:
        """How the run's events and record are shown outside: the server's folders (and for a local run, the
        workflow's own folder and the folders it may read) by name, never by path."""
        publisher = self._publishers.get(record.id)
        if publisher is None:
            local = [Path(p) for p in (record.base_dir, *record.options.get("read_roots", ()))
                     if p and Path(p).is_absolute()]
            publisher = Publisher(self.store.outputs(record.id), [*self._folders.items(),
                                                                  *((p.name, p) for p in local)])
            if record.active:
                self._publishers[record.id] = publisher
        return publisher

    def public_json(self, record: RunRecord) -> dict[str, Any]:
        """The record as GET /api/runs/{id} shows it: JSON-safe (NaN from a pack's meta becomes null), and
        naming no folder of this machine by its path."""
        data = json.loads(json.dumps(record.to_json(), default=str), parse_constant=lambda _: None)
        return self.publisher(record).clean(data)

    def _setup(self, provider: str) -> RunSetup:
        try:
            return prepare_run(provider, words=HTTP)
        except (ProviderUnavailable, ConfigError) as exc:
            raise WorkflowInvalid([Problem("provider", str(exc), hint="Choose provider auto, gemini or offline; "
                                           "gemini needs GEMINI_API_KEY in the server's environment.")]) from None

    def _limiter(self, setup: RunSetup, own: CallLimiter) -> CallLimiter:
        """One limiter per provider for the whole server, so parallel runs share its requests per minute."""
        return self._limiters.setdefault(setup.provider.cache_id, own)

    # -- running --------------------------------------------------------------------------------------------

    async def _run(self, record: RunRecord, workflow: Workflow, options: RunOptions, setup: RunSetup) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.settings.max_runs)
        loop = asyncio.get_running_loop()
        loop_thread = threading.get_ident()

        def listener(event: Event) -> None:  # node code may report progress from a worker thread
            if threading.get_ident() == loop_thread:
                self._on_event(record, event)
            else:
                loop.call_soon_threadsafe(self._on_event, record, event)

        async def run_pass(execution: Execution, final: bool = True) -> RunResult:
            async with self._slots:
                execution.limiter = self._limiter(setup, execution.limiter)
                if final:  # a batch run's passes that only collect calls stay out of sight
                    execution.run_id = record.id
                    self._executions[record.id] = execution
                return await execution.run()

        try:
            if record.options.get("batch"):
                result, usage = await self._run_batch(record, workflow, options, setup, listener, run_pass)
            else:
                result = await run_pass(Execution(workflow, self.catalogue, options, on_event=listener))
                usage = setup.usage(result)
            if result is None:  # a batch run stopped while it waited
                record.status = INTERRUPTED if self._closing else CANCELLED
                record.error = ("stopped while waiting for its batch jobs, which go on at Google: run it again to "
                                "pick them up (nothing is submitted twice)")
            else:
                record.status = result.status
                record.usage = usage
                record.seconds = round(result.seconds, 4)
                publisher = self.publisher(record)
                for node_id, node in result.to_json()["nodes"].items():
                    record.nodes[node_id] = publisher.clean(node)
        except asyncio.CancelledError:
            record.status = INTERRUPTED if self._closing else CANCELLED
            record.error = "the server stopped" if self._closing else "cancelled before it started"
        except WorkflowInvalid as exc:
            record.status = FAILED
            record.error = self.publisher(record).text("; ".join(p.message for p in exc.problems))
        except NodeError as exc:  # a batch run the Batch API refused or lost
            from ..batch.runner import NotBatchable
            if isinstance(exc, NotBatchable):
                record.not_batched = dict(exc.nodes)
            record.status = FAILED
            record.error = self.publisher(record).text(f"{exc.message} {exc.hint}".strip())
        except Exception as exc:  # the queue must outlive any one run
            log.exception("run %s crashed", record.id)
            record.status, record.error = FAILED, self.publisher(record).text(f"{type(exc).__name__}: {exc}")
        finally:
            if self._closing and record.status in (CANCELLED, RUNNING):
                record.status, record.error = INTERRUPTED, "the server stopped while this run was running"
                for node in record.nodes.values():
                    if node.get("status") in ("cancelled", "running", "waiting"):
                        node["status"] = INTERRUPTED
            record.finished = time.time()
            self._finish(record)
            await setup.aclose()

    async def _run_batch(self, record: RunRecord, workflow: Workflow, options: RunOptions, setup: RunSetup,
                         listener: Callable[[Event], None], run_pass) -> tuple[RunResult | None, dict[str, Any]]:
        """The run through Batch API jobs, its state kept under the runs folder's batch/ (by this run's id), so
        that a re-run after a restart finds the jobs at Google instead of submitting them again."""
        from ..batch.runner import BatchRun, RunSpec
        from ..batch.store import BatchStore
        spec = RunSpec(workflow=workflow.to_dict(), source=str(workflow.source) if workflow.source else None,
                       out_dir=str(options.out_dir), cache_dir=str(options.cache.root) if options.cache else None,
                       force=sorted(options.force), read_roots=[str(r) for r in options.read_roots],
                       direct=record.options.get("direct", []))
        store = BatchStore(self.settings.runs_dir / "batch")

        def say(line: str) -> None:
            record.batch = [*record.batch[-49:], line]
            listener(Event("batch_status", None, {"message": line}))

        batch = BatchRun(store.new_run(dataclasses.asdict(spec), spec.digest(), run_id=record.id), self.catalogue,
                         setup.provider, options, store, say=say, run_pass=run_pass)
        self._batches[record.id] = batch
        record.status, record.started = RUNNING, time.time()
        self._save_soon(record)
        try:
            result = await batch.run(on_event=listener)
        finally:
            self._batches.pop(record.id, None)
        return result, batch.book.usage(result) if result is not None else {}

    def _end_unstarted(self, record: RunRecord, setup: RunSetup) -> None:
        """A task cancelled before its first step never enters `_run`; record its end here."""
        if record.finished is None:
            record.status = INTERRUPTED if self._closing else CANCELLED
            record.error = "the server stopped" if self._closing else "cancelled before it started"
            record.finished = time.time()
            self._finish(record)
            asyncio.get_running_loop().create_task(setup.aclose())

    def _finish(self, record: RunRecord) -> None:
        self._unsaved.discard(record.id)
        record.files = self._walk_outputs(record.id)
        tokens, cost = summarise_usage(record.nodes)
        record.usage = {**record.usage, "tokens": tokens}
        record.cost = record.usage.get("cost_usd", cost)
        self.store.save(record, wait=True)  # when the stream says run_finished, run.json is final
        self._executions.pop(record.id, None)
        self._tasks.pop(record.id, None)
        self._listeners.pop(record.id, None)
        self._publishers.pop(record.id, None)
        event_log = self._logs.pop(record.id, None)
        if event_log:  # the stream ends with the final status (interrupted, say, where the executor saw cancelled)
            final = self._finals.pop(record.id, {"event": "run_finished", "node": None, "time": time.time(),
                                                  "run_id": record.id})
            event_log.append({**final, "status": record.status, "error": record.error})
            event_log.close()

    def _on_event(self, record: RunRecord, event: Event) -> None:
        data = self.publisher(record).event(event.to_json())
        event_log = self._logs.get(record.id)
        if event.kind == "run_finished":
            self._finals[record.id] = data  # logged by _finish, once the record is final
        elif event_log and not event_log.closed:
            event_log.append(data)
        for callback in self._listeners.get(record.id, ()):
            try:
                callback(event)
            except Exception:
                log.exception("run %s: event listener failed", record.id)
        node = record.nodes.setdefault(event.node, {}) if event.node else None
        kind = event.kind
        if kind == "run_started":
            record.status, record.started = RUNNING, time.time()
            record.nodes = {n: {"status": "waiting"} for n in event.data.get("nodes", [])}
        elif kind == "node_started":
            node["status"] = "running"
        elif kind == "node_progress":
            node["progress"] = event.data.get("fraction")
        elif kind in ("node_finished", "node_cached"):
            node.update(status="done" if kind == "node_finished" else "cached", seconds=event.data.get("seconds"),
                        outputs=data.get("outputs", {}), meta=data.get("meta", {}))
            node.pop("progress", None)
        elif kind == "node_failed":
            node.update(status="failed", error=event.data.get("error"), hint=event.data.get("hint"),
                        seconds=event.data.get("seconds"))
        elif kind == "node_skipped":
            node.update(status="skipped", error=event.data.get("reason"))
        elif kind == "node_cancelled":
            node.update(status="cancelled", seconds=event.data.get("seconds"))
        if kind not in _SILENT and kind != "run_finished":
            self._save_soon(record)

    def _save_soon(self, record: RunRecord) -> None:
        """Write the record at most every SAVE_INTERVAL seconds while it runs, so a big run stays linear."""
        if record.id not in self._unsaved:
            self._unsaved.add(record.id)
            asyncio.get_running_loop().call_later(SAVE_INTERVAL, self._save_now, record)

    def _save_now(self, record: RunRecord) -> None:
        if record.id in self._unsaved:
            self._unsaved.discard(record.id)
            record.files = self._walk_outputs(record.id)
            tokens, record.cost = summarise_usage(record.nodes)
            record.usage = {**record.usage, "tokens": tokens}
            self.store.save(record)
            if record.id in self._logs:
                self._logs[record.id].flush()

    def _walk_outputs(self, run_id: str) -> list[str]:
        root = self.store.outputs(run_id)
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) if root.is_dir() else []

    # -- asking -----------------------------------------------------------------------------------------------

    def get(self, run_id: str) -> RunRecord:
        """The run's record; KeyError if there is no such run."""
        record = self.store.get(run_id)
        if record is None:
            raise KeyError(run_id)
        return record

    def list_runs(self, limit: int = 50, offset: int = 0,
                  where: Callable[[RunRecord], bool] | None = None) -> tuple[list[RunRecord], int]:
        """A page of runs (those `where` accepts), newest first, and how many there are in all."""
        return self.store.page(limit, offset, where)

    def open_workflow(self, run_id: str) -> Workflow:
        """The workflow exactly as it was submitted (inputs not applied; see `get(id).inputs`)."""
        return from_dict(self.get(run_id).workflow)

    def files(self, run_id: str) -> list[Path]:
        """The run's output files, as paths on this machine."""
        record = self.get(run_id)
        root = self.store.outputs(record.id)
        return [root / name for name in record.files]

    def thumbnail(self, run_id: str) -> str | None:
        """The first image the run wrote (relative name), for a history list."""
        return next((f for f in self.get(run_id).files if f.lower().endswith(IMAGE_SUFFIXES)), None)

    def file(self, run_id: str, name: str) -> Path:
        """One output file by its relative name; FileNotFoundError for anything outside the run's outputs."""
        root = self.store.outputs(self.get(run_id).id).resolve()
        try:
            path = (root / name).resolve()
            if within(path, (root,)) and path.is_file():
                return path
        except (OSError, ValueError):  # a NUL byte, a name too long: no such file either
            pass
        raise FileNotFoundError(name)

    def execution(self, run_id: str) -> Execution | None:
        """The live Execution while the run is executing (its results hold the in-memory images)."""
        return self._executions.get(run_id)

    def subscribe(self, run_id: str, listener: Callable[[Event], None]) -> None:
        """Call `listener` with each further executor event of a queued or running run."""
        self._listeners.setdefault(self.get(run_id).id, []).append(listener)

    async def events(self, run_id: str, after: int = -1) -> AsyncIterator[dict[str, Any]]:
        """The run's events as JSON, from the start (or after seq `after`), live until the run ends."""
        self.get(run_id)
        event_log = self._logs.get(run_id)
        if event_log is not None:
            async for event in event_log.follow(after):
                yield event
            return
        for event in self.store.read_events(run_id):
            if event.get("seq", -1) > after:
                yield event

    async def wait(self, run_id: str) -> RunRecord:
        """The record once the run has ended."""
        task = self._tasks.get(run_id)
        if task is not None:
            await asyncio.wait([task])
        return self.get(run_id)

    # -- stopping ---------------------------------------------------------------------------------------------

    def cancel(self, run_id: str) -> RunRecord:
        """Stop a run: a waiting one never starts; a running one keeps what finished. No-op once it ended."""
        record = self.get(run_id)
        execution = self._executions.get(run_id)
        if run_id in self._batches:
            self._batches[run_id].cancel()  # its jobs go on at Google; a re-run picks them up
        elif execution is not None:
            execution.cancel()
        elif run_id in self._tasks:
            self._tasks[run_id].cancel()
        return record

    async def delete(self, run_id: str) -> None:
        """Remove an ended run, its record, events and files; ValueError while it is queued or running."""
        record = self.get(run_id)
        if record.active:
            raise ValueError(f"run {run_id} is {record.status}; cancel it first.")
        folder = self.store.forget(record.id)
        await asyncio.to_thread(shutil.rmtree, folder, True)

    async def close(self) -> None:
        """Stop every run; unfinished ones are recorded as interrupted, so a restart can run them again."""
        self._closing = True
        tasks = list(self._tasks.values())
        for run_id in list(self._tasks):
            self.cancel(run_id)
        if tasks:
            await asyncio.wait(tasks, timeout=10)
        await asyncio.to_thread(self.store.flush)

