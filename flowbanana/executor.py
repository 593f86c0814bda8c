"""Run a validated workflow: each node as soon as what it needs is ready, on asyncio.

Independent branches overlap; sync node functions run in a thread pool; a node fed a list on a
single-value port runs once per item (noderun.py), and starts as soon as the node making that list
has opened its stream of items (streams.py), so items travel down a chain one by one; a node that
takes a whole list waits for it. A failing node skips only what depends on it.
"""
from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import networkx as nx

from .cache import Cache, value_digest
from .catalogue import Catalogue
from .errors import Problem, WorkflowInvalid
from .events import Event
from .graph import build_graph
from .limits import CallLimiter, RunLimits
from .node_api import Input, NodeError
from .noderun import NodeRun
from .results import CACHED, CANCELLED, DONE, FAILED, SKIPPED, NodeResult, RunResult, describe
from .streams import ItemStream
from .subgraph import Subgraphs
from .sweep import expand
from .validation import check
from .words import CLI, Words
from .workflow import Workflow

log = logging.getLogger("flowbanana.executor")


@dataclass
class RunOptions:
    out_dir: Path | None = None                 # default: ./outputs/<workflow name>
    cache: Cache | None = None                  # None: run everything, store nothing
    concurrency: int = 4                        # provider requests in flight at once
    rpm: int | dict[str, int] = 0               # provider requests per minute per model (0: unlimited)
    force: frozenset[str] = frozenset()         # nodes to run again even when cached
    read_roots: tuple[Path, ...] = ()           # folders readable besides the workflow's own
    targets: frozenset[str] | None = None       # run only these nodes and what they need
    resources: dict[str, Any] = field(default_factory=dict)  # shared services, e.g. the image provider
    limits: RunLimits = RunLimits()             # pixels per image, items per list, image memory per run
    words: Words = CLI                          # how messages name what to set (the CLI's, Python's, HTTP's)


def default_out_dir(workflow: Workflow) -> Path:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", workflow.name).strip("-").lower() or "workflow"
    return Path("outputs") / slug


class Execution:
    """One run of one workflow. `await run()` once; `cancel()` from anywhere stops it."""

    def __init__(self, workflow: Workflow, catalogue: Catalogue, options: RunOptions | None = None,
                 on_event: Callable[[Event], None] | None = None):
        self.workflow = workflow
        self.catalogue = catalogue
        self.options = options or RunOptions()
        self.run_id = uuid.uuid4().hex[:12]
        self.results: dict[str, NodeResult] = {}
        self._listeners = [on_event] if on_event else []
        self._cancelled = False
        self._tasks: dict[asyncio.Task, str] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.out_dir = (self.options.out_dir or default_out_dir(workflow)).resolve()
        self.workflow_dict: dict = {}  # what nodes may embed in the files they write (subgraphs embedded)
        self.limiter = CallLimiter(self.options.concurrency, self.options.rpm)
        self.read_roots = tuple(dict.fromkeys(Path(p).resolve() for p in (workflow.base_dir, *self.options.read_roots)))
        self.streams: dict[str, ItemStream] = {}      # nodes making their items now, for the nodes they feed
        self._launched: set[str] = set()
        self._list_digests: dict[tuple[str, str], list[str]] = {}  # finished nodes' list outputs, item by item
        self._cache_warned = False
        self.held_bytes = 0  # memory of the images in this run's results (RunLimits.max_image_bytes bounds it)

    def subscribe(self, listener: Callable[[Event], None]) -> None:
        self._listeners.append(listener)

    def emit(self, kind: str, node: str | None = None, **data: Any) -> None:
        event = Event(kind, node, data)
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:  # a broken listener must not break the run
                log.exception("event listener failed on %s", kind)

    def cancel(self) -> None:
        """Stop the run: running nodes are cancelled, waiting ones skipped, finished results kept."""
        if self._loop and self._loop.is_running() and not _in_loop(self._loop):
            self._loop.call_soon_threadsafe(self.cancel)
            return
        self._cancelled = True
        for task in self._tasks:
            task.cancel()

    async def run(self) -> RunResult:
        with _fewer_collections():
            return await self._run()

    async def _run(self) -> RunResult:
        self._loop = asyncio.get_running_loop()
        self.flat = check(self.workflow, self.catalogue, self.options.read_roots, self.options.words)
        expansion = expand(self.flat.workflow, self.catalogue)  # a sweep: one copy per cell of what it varies
        self.nodes = expansion.workflow.nodes
        self.workflow_dict = Subgraphs(self.catalogue, self.options.read_roots).embed(self.workflow).to_dict()
        self.force = {c for node_id in self.options.force for n in self.flat.node_ids(node_id)
                      for c in expansion.ids(n)}
        started = time.perf_counter()
        graph = build_graph(expansion.workflow)
        if self.options.targets is not None:
            wanted = {c for target in self.options.targets for n in self.flat.node_ids(target)
                      for c in expansion.ids(n) if c in graph}
            for target in list(wanted):
                wanted |= nx.ancestors(graph, target)
            graph = graph.subgraph(wanted).copy()
        self.graph = graph
        self._check_folders()
        self.emit("run_started", run_id=self.run_id, workflow=self.workflow.name,
                  nodes=list(nx.topological_sort(graph)), out_dir=str(self.out_dir))
        for node_id in nx.topological_sort(graph):
            if self.nodes[node_id].disabled and node_id not in self.results:
                self._skip(node_id, "the node is disabled")
                self._skip_descendants(graph, node_id, f"it needs node {node_id!r}, which is disabled")
        for node_id in nx.topological_sort(graph):
            self._launch_if_ready(node_id)
        while self._tasks:
            done, _ = await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                node_id = self._tasks.pop(task)
                self.streams.pop(node_id, None)
                if not self.results[node_id].ok:
                    reason = "the run was cancelled" if self._cancelled else f"it needs node {node_id!r}, which " \
                        f"{'failed' if self.results[node_id].status == FAILED else 'did not finish'}"
                    self._skip_descendants(graph, node_id, reason)
                    continue
                for child in graph.successors(node_id):
                    self._launch_if_ready(child)
        for node_id in graph:
            if node_id not in self.results:
                self._skip(node_id, "the run was cancelled")
        status = CANCELLED if self._cancelled else FAILED if any(
            r.status == FAILED for r in self.results.values()) else DONE
        result = RunResult(status=status, nodes={n: self.results[n] for n in graph}, out_dir=self.out_dir,
                           seconds=time.perf_counter() - started,
                           aliases={name: (link.node, link.output) for name, link in self.flat.outputs.items()},
                           named={name: (o.node, o.port) for name, o in self.flat.interface.outputs.items()})
        self.emit("run_finished", run_id=self.run_id, status=status, seconds=result.seconds,
                  counts={s: result.count(s) for s in (DONE, CACHED, FAILED, SKIPPED, CANCELLED)})
        return result

    def _check_folders(self) -> None:
        """The folders the run writes must take files before any node runs (and any model call is paid for)."""
        problems = []
        writes = any((t := self.catalogue.get(self.nodes[n].type)) and t.output and t.wants_ctx for n in self.graph)
        if writes and (reason := unwritable(self.out_dir)):
            problems.append(Problem("out_dir", f"the output folder {self.out_dir} cannot be written: {reason}.",
                                    hint="Choose an output folder you can write to."))
        cache = self.options.cache
        if cache is not None and (reason := unwritable(cache.root)):
            problems.append(Problem("cache_dir", f"the cache folder {cache.root} cannot be written: {reason}.",
                                    hint="Choose a cache folder you can write to, or run without the cache."))
        if problems:
            raise WorkflowInvalid(problems)

    def cache_failed(self, node_id: str, error: Exception) -> None:
        """A result could not be written to the cache: said once per run; the run uses the result and goes on."""
        if self._cache_warned:
            return
        self._cache_warned = True
        self.emit("node_warning", node_id, message=f"{error}: this run's results are used but not all kept, so a "
                                                   "later run makes those again. Check the disk's free space and "
                                                   "the cache folder's permissions.")

    def opened(self, node_id: str, stream: ItemStream) -> None:
        """`node_id` makes its items one by one from now on: the nodes it feeds item by item may start."""
        self.streams[node_id] = stream
        for child in self.graph.successors(node_id):
            self._launch_if_ready(child)

    def _launch_if_ready(self, node_id: str) -> None:
        """Start a node once each node it needs is done, or is making items it takes one by one."""
        if self._cancelled or node_id in self.results or node_id in self._launched:
            return
        for parent in self.graph.predecessors(node_id):
            result = self.results.get(parent)
            if result is None and not (parent in self.streams and self._item_by_item(parent, node_id)):
                return
            if result is not None and not result.ok and not self._partial(self.graph, parent, node_id):
                return
        self._launched.add(node_id)
        task = asyncio.create_task(self._run_node(node_id), name=f"flowbanana:{node_id}")
        self._tasks[task] = node_id

    def _item_by_item(self, parent: str, node_id: str) -> bool:
        """Whether every link from `parent` feeds a single-value port of `node_id` (a whole-list port waits)."""
        node_type = self.catalogue.get(self.nodes[node_id].type)
        return all(not (isinstance(port := node_type.port(name), Input) and port.list)
                   for _, name in self.graph.edges[parent, node_id]["links"])

    def keep_list_digests(self, node_id: str, digests: dict[str, Any]) -> None:
        for port, digest in digests.items():
            if isinstance(digest, list):
                self._list_digests[node_id, port] = digest

    def list_digests(self, node_id: str, port: str, values: list) -> list[str]:
        """The digests of a finished node's list output, item by item."""
        known = self._list_digests.get((node_id, port))
        if known is not None and len(known) == len(values):
            return known
        if self.options.cache is None:
            return [""] * len(values)
        return [value_digest(v) for v in values]

    def _skip(self, node_id: str, reason: str) -> None:
        self.results[node_id] = NodeResult(SKIPPED, error=reason)
        self.emit("node_skipped", node_id, reason=reason)

    def _skip_descendants(self, graph: nx.DiGraph, node_id: str, reason: str) -> None:
        """Skip what needs `node_id` and has not started (a node taking its items one by one goes on with the
        items it has); a node taking it only on partial ports runs without it once it may."""
        gone = {node_id}
        for child in nx.topological_sort(graph.subgraph(nx.descendants(graph, node_id))):
            lost = [p for p in graph.predecessors(child) if p in gone]
            if not lost or child in self.results or child in self._launched:
                continue
            if all(self._partial(graph, p, child) for p in lost):
                self._launch_if_ready(child)
                continue
            self._skip(child, f"skipped because {reason}")
            gone.add(child)

    def _partial(self, graph: nx.DiGraph, source: str, target: str) -> bool:
        node_type = self.catalogue.get(self.nodes[target].type)
        return all(getattr(node_type.port(port), "partial", False) for _, port in graph.edges[source, target]["links"])

    async def _run_node(self, node_id: str) -> None:
        node = self.nodes[node_id]
        node_type = self.catalogue.get(node.type)
        started = time.perf_counter()
        node_run = NodeRun(self, node_id, node, node_type)
        try:
            result = await node_run.run()
        except asyncio.CancelledError:  # the files its calls named before the stop are whole: they are reported
            files = node_run.files()
            result = NodeResult(CANCELLED, error="cancelled while running", meta={"files": files} if files else {})
        except NodeError as exc:
            result = NodeResult(FAILED, error=exc.message, hint=exc.hint)
        except OSError as exc:  # the disk or the system said no: not the pack's fault
            result = NodeResult(FAILED, error=os_error_text(exc), hint="The operating system refused: check that "
                                "the file or folder exists, that you may read or write it, and that the disk has room.")
        except Exception as exc:
            log.debug("node %s (%s) raised", node_id, node.type, exc_info=True)
            pack = node_type.pack.name if node_type.pack else "?"
            result = NodeResult(FAILED, error=f"{type(exc).__name__}: {exc}",
                                hint=f"This is unexpected in {node.type} (pack {pack}); turn on "
                                     f"{self.options.words.debug} for the traceback and report it to the pack's "
                                     "authors.")
        result.seconds = time.perf_counter() - started
        if not result.ok:
            self.held_bytes -= node_run.held  # its items' images are not kept
        self.results[node_id] = result
        if result.status == FAILED:
            self.emit("node_failed", node_id, error=f"node {node_id!r} ({node.type}): {result.error}",
                      hint=result.hint, seconds=result.seconds)
        elif result.status == CANCELLED:
            self.emit("node_cancelled", node_id, seconds=result.seconds, meta=result.meta)
        elif result.status == SKIPPED:
            self.emit("node_skipped", node_id, reason=result.error, seconds=result.seconds, meta=result.meta)
        else:
            self.emit("node_cached" if result.status == CACHED else "node_finished", node_id,
                      seconds=result.seconds, outputs={k: describe(v) for k, v in result.outputs.items()},
                      meta=result.meta)


_running = 0
_thresholds = gc.get_threshold()


@contextlib.contextmanager
def _fewer_collections():
    """While runs go on, objects alive before them are frozen out of collections and the youngest generation is
    collected 50 times less often: a run makes many small objects that live as long as it does (results, events,
    items), and with the default thresholds full collections took 40% of a 10,000-node run (bench/)."""
    global _running, _thresholds
    if _running == 0:
        _thresholds = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(_thresholds[0] * 50, *_thresholds[1:])
    _running += 1
    try:
        yield
    finally:
        _running -= 1
        if _running == 0:
            gc.set_threshold(*_thresholds)
            gc.unfreeze()


def unwritable(folder: Path) -> str | None:
    """Why no file can be made in `folder` (which need not exist yet: it is made when needed), or None."""
    existing = folder.absolute()
    try:
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            return f"{existing} is a file, not a folder"
    except OSError as exc:  # a name too long, say
        return os_error_text(exc)
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is read-only"
    return None


def os_error_text(exc: OSError) -> str:
    """An OSError as people read it: what went wrong, and with which file ("Permission denied: out/a.png")."""
    what = exc.strerror or str(exc) or type(exc).__name__
    return f"{what}: {exc.filename}" if exc.filename else what


def _in_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


async def execute(workflow: Workflow, catalogue: Catalogue, options: RunOptions | None = None,
                  on_event: Callable[[Event], None] | None = None) -> RunResult:
    return await Execution(workflow, catalogue, options, on_event).run()

