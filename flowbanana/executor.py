"""Run a validated workflow: each node as soon as what it needs is done, on asyncio.

Independent branches overlap; sync node functions run in a thread pool; a node fed a list on a
single-value port runs once per item (each item cached on its own, so a batch that failed half
way re-pays only for what failed); a failing node skips only what depends on it.
"""
from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable

import networkx as nx
from PIL import Image

from .cache import Cache, list_digest, node_key, path_digest, value_digest
from .catalogue import Catalogue
from .events import Event
from .graph import build_graph
from .limits import CallLimiter
from .node_api import Input, NodeContext, NodeError, NodeType, resolve_path, within
from .results import CACHED, CANCELLED, DONE, FAILED, SKIPPED, NodeResult, RunResult, describe
from .subgraph import Subgraphs
from .sweep import expand
from .validation import check, resolved_params
from .workflow import Node, Workflow

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
        self.events: list[Event] = []
        self._listeners = [on_event] if on_event else []
        self._cancelled = False
        self._tasks: dict[asyncio.Task, str] = {}
        self._launched: set[str] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.out_dir = (self.options.out_dir or default_out_dir(workflow)).resolve()
        self.workflow_dict: dict = {}  # what nodes may embed in the files they write (subgraphs embedded)
        self.limiter = CallLimiter(self.options.concurrency, self.options.rpm)
        self.read_roots = (workflow.base_dir, *self.options.read_roots)

    def subscribe(self, listener: Callable[[Event], None]) -> None:
        self._listeners.append(listener)

    def emit(self, kind: str, node: str | None = None, **data: Any) -> None:
        event = Event(kind, node, data)
        self.events.append(event)
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
        self._loop = asyncio.get_running_loop()
        self.flat = check(self.workflow, self.catalogue, self.options.read_roots)
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
        self.emit("run_started", run_id=self.run_id, workflow=self.workflow.name,
                  nodes=list(nx.topological_sort(graph)), out_dir=str(self.out_dir))
        waiting = self._waiting = {n: graph.in_degree(n) for n in graph}
        for node_id in nx.topological_sort(graph):
            if self.nodes[node_id].disabled and node_id not in self.results:
                self._skip(node_id, "the node is disabled")
                self._skip_descendants(graph, node_id, f"it needs node {node_id!r}, which is disabled")
        for node_id, count in waiting.items():
            if count == 0 and node_id not in self.results:
                self._launch(node_id)
        while self._tasks:
            done, _ = await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                node_id = self._tasks.pop(task)
                if not self.results[node_id].ok:
                    reason = "the run was cancelled" if self._cancelled else f"it needs node {node_id!r}, which " \
                        f"{'failed' if self.results[node_id].status == FAILED else 'did not finish'}"
                    self._skip_descendants(graph, node_id, reason)
                    continue
                for child in graph.successors(node_id):
                    waiting[child] -= 1
                    if waiting[child] == 0 and child not in self.results:
                        self._launch(child)
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

    def _launch(self, node_id: str) -> None:
        if self._cancelled or node_id in self._launched:
            return
        self._launched.add(node_id)
        task = asyncio.create_task(self._run_node(node_id), name=f"flowbanana:{node_id}")
        self._tasks[task] = node_id

    def _skip(self, node_id: str, reason: str) -> None:
        self.results[node_id] = NodeResult(SKIPPED, error=reason)
        self.emit("node_skipped", node_id, reason=reason)

    def _skip_descendants(self, graph: nx.DiGraph, node_id: str, reason: str) -> None:
        """Skip what needs `node_id`; a node taking it only on partial ports runs without it once it may."""
        gone = {node_id}
        for child in nx.topological_sort(graph.subgraph(nx.descendants(graph, node_id))):
            lost = [p for p in graph.predecessors(child) if p in gone]
            if not lost or child in self.results:
                continue
            if all(self._partial(graph, p, child) for p in lost):
                self._waiting[child] -= len(lost)
                if self._waiting[child] == 0:
                    self._launch(child)
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
        try:
            result = await _NodeRun(self, node_id, node, node_type).run()
        except asyncio.CancelledError:
            result = NodeResult(CANCELLED, error="cancelled while running")
        except NodeError as exc:
            result = NodeResult(FAILED, error=exc.message, hint=exc.hint)
        except Exception as exc:
            log.debug("node %s (%s) raised", node_id, node.type, exc_info=True)
            pack = node_type.pack.name if node_type.pack else "?"
            result = NodeResult(FAILED, error=f"{type(exc).__name__}: {exc}",
                                hint=f"This is unexpected in {node.type} (pack {pack}); run with --debug for "
                                     "the traceback and report it to the pack's authors.")
        result.seconds = time.perf_counter() - started
        self.results[node_id] = result
        if result.status == FAILED:
            self.emit("node_failed", node_id, error=f"node {node_id!r} ({node.type}): {result.error}",
                      hint=result.hint, seconds=result.seconds)
        elif result.status == CANCELLED:
            self.emit("node_cancelled", node_id, seconds=result.seconds)
        else:
            self.emit("node_cached" if result.status == CACHED else "node_finished", node_id,
                      seconds=result.seconds, outputs={k: describe(v) for k, v in result.outputs.items()},
                      meta=result.meta)


def _in_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


class _NodeRun:
    """Gathers one node's inputs, maps it over list inputs, and consults the cache item by item."""

    def __init__(self, execution: Execution, node_id: str, node: Node, node_type: NodeType):
        self.ex = execution
        self.node_id = node_id
        self.node = node
        self.type = node_type
        self.base_dir = node.base_dir or execution.workflow.base_dir  # a subgraph's own folder for its nodes
        self.started = False

    async def run(self) -> NodeResult:
        kwargs, digests = self._gather()
        mapped = {name: value for name, value in kwargs.items() if isinstance(value, list) and self._single(name)}
        lengths = {name: len(value) for name, value in mapped.items()}
        if len(set(lengths.values())) > 1:
            (a, la), (b, lb) = sorted(lengths.items(), key=lambda kv: kv[1])[::len(lengths) - 1]
            raise NodeError(f"input {a!r} is a list of {la} items but {b!r} is a list of {lb}; lists are "
                            "paired item by item, so they must be the same length.",
                            "Make the lists the same length, or pick one item with list.pick.")
        base = self._key_parts(digests, exclude=set(mapped))
        cache = self.ex.options.cache if self.type.cacheable else None
        if not mapped:
            key = node_key(base) if cache else None
            outcome = await self._item(0, 1, kwargs, key, cache)
            outputs, item_digests, meta, hit = outcome
            return NodeResult(CACHED if hit else DONE, outputs=outputs, meta=meta,
                              digests={k: _combine(d) for k, d in item_digests.items()})
        count = next(iter(lengths.values()))
        done = 0

        async def one(i: int):
            nonlocal done
            item_kwargs = {**kwargs, **{name: value[i] for name, value in mapped.items()}}
            key = None
            if cache:
                item_digest = await _off_loop_if_heavy(
                    [value[i] for value in mapped.values()],
                    lambda: {name: self._link_digest(name, value[i], value_digest(value[i]))
                             for name, value in mapped.items()})
                key = node_key({**base, "item": item_digest})
            outcome = await self._item(i, count, item_kwargs, key, cache)
            done += 1
            if count > 1:
                self.ex.emit("node_progress", self.node_id, fraction=done / count, message=f"{done} of {count} items")
            return outcome

        outcomes = await asyncio.gather(*(one(i) for i in range(count)), return_exceptions=True)
        failures = [(i, o) for i, o in enumerate(outcomes) if isinstance(o, BaseException)]
        if failures:
            for _, exc in failures:
                if isinstance(exc, asyncio.CancelledError):
                    raise exc
            i, exc = failures[0]
            message = exc.message if isinstance(exc, NodeError) else f"{type(exc).__name__}: {exc}"
            kept = count - len(failures)
            raise NodeError(f"item {i + 1} of {count}: {message}" + (
                f" ({len(failures)} items failed)" if len(failures) > 1 else ""),
                (exc.hint + " " if isinstance(exc, NodeError) and exc.hint else "") +
                (f"The {kept} other items are cached: running again repeats only the failed ones." if kept and cache
                 else ""))
        outputs: dict[str, list] = {o.name: [] for o in self.type.outputs}
        output_digests: dict[str, list[str]] = {o.name: [] for o in self.type.outputs}
        for item_outputs, item_digests, _, _ in outcomes:
            for port in self.type.outputs:
                value, digest = item_outputs[port.name], item_digests[port.name]
                if port.list and isinstance(value, list):
                    outputs[port.name].extend(value)
                    output_digests[port.name].extend(digest)
                else:
                    outputs[port.name].append(value)
                    output_digests[port.name].append(_combine(digest))
        metas = [o[2] for o in outcomes]
        meta = {"items": metas}
        files = [f for m in metas for f in m.get("files", [])]
        if files:
            meta["files"] = files
        all_hit = count > 0 and all(o[3] for o in outcomes)
        return NodeResult(CACHED if all_hit else DONE, outputs=outputs, meta=meta,
                          digests={k: _combine(v) for k, v in output_digests.items()})

    def _single(self, name: str) -> bool:
        port = self.type.port(name)
        return not (isinstance(port, Input) and port.list)

    def _gather(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Keyword arguments for the node function, and the digests its cache key is made of."""
        results = self.ex.results
        kwargs: dict[str, Any] = resolved_params(self.node, self.type)
        digests: dict[str, Any] = {}
        for port in self.type.inputs:
            if port.name not in self.node.inputs:
                kwargs[port.name] = [] if port.list else None
        for name, links in self.node.inputs.items():
            # a link from a node that did not finish reaches only a partial port (see _skip_descendants)
            values = [results[l.node].outputs[l.output] if results[l.node].ok else None for l in links]
            link_digests = [results[l.node].digests[l.output] if results[l.node].ok else "missing" for l in links]
            if self._single(name):
                kwargs[name], digests[name] = values[0], self._link_digest(name, values[0], link_digests[0])
            else:
                kwargs[name] = [item for v in values for item in (v if isinstance(v, list) else [v])]
                digests[name] = link_digests
        return kwargs, digests

    def _path_key(self, value: str) -> dict[str, str]:
        """A path param's share of the cache key: the path, and what the file or folder holds now.

        Only paths the run may read are hashed (the node itself refuses the others, with a clear error).
        """
        try:
            resolved = resolve_path(value, self.base_dir)
            readable = within(resolved, self.ex.read_roots)
            return {"path": value, "content": path_digest(resolved) if readable else "not readable"}
        except (OSError, ValueError):  # a name too long, a NUL byte, an unknown ~user: the node says so
            return {"path": value, "content": "not readable"}

    def _link_digest(self, name: str, value: Any, digest: Any) -> Any:
        """A linked value's digest; a path linked into a path param keys on the file's content too."""
        param = self.type.param(name)
        if param is not None and param.is_path and isinstance(value, str) and value:
            return [digest, self._path_key(value)]
        return digest

    def _key_parts(self, digests: dict[str, Any], exclude: set[str]) -> dict[str, Any]:
        params = {}
        values = resolved_params(self.node, self.type)
        for param in self.type.params:
            if param.name in self.node.inputs:
                continue
            value = values[param.name] if param.sent_as is None else param.sent_as(values[param.name])
            if param.is_path and value:
                value = self._path_key(value)
            params[param.name] = value
        parts = {"type": self.type.id, "version": self.type.version, "params": params,
                 "inputs": {k: v for k, v in digests.items() if k not in exclude}}
        if self.type.uses_provider:
            provider = self.ex.options.resources.get("provider")
            parts["provider"] = getattr(provider, "cache_id", None) or type(provider).__name__
        return parts

    async def _item(self, index: int, count: int, kwargs: dict[str, Any], key: str | None,
                    cache: Cache | None) -> tuple[dict, dict, dict, bool]:
        """One call of the node function, or its cached result: (outputs, digests, meta, cache hit)."""
        if key and self.node_id not in self.ex.force:
            entry = await asyncio.to_thread(cache.get, key)
            if entry is not None:
                return entry["outputs"], entry["digests"], entry["meta"], True
        if not self.started:
            self.started = True
            self.ex.emit("node_started", self.node_id, type=self.type.id)
        ctx = self._context(index, count)
        call_kwargs = dict(kwargs, ctx=ctx) if self.type.wants_ctx else kwargs
        if self.type.is_async:
            returned = await self.type.fn(**call_kwargs)
        else:
            returned = await asyncio.get_running_loop().run_in_executor(None, partial(self.type.fn, **call_kwargs))
        outputs = self._outputs(returned)
        digests = await _off_loop_if_heavy(outputs, lambda: {k: _item_digest(v) for k, v in outputs.items()})
        if key and cache:
            await asyncio.to_thread(cache.put, key, outputs, digests, ctx.meta)
        return outputs, digests, ctx.meta, False

    def _context(self, index: int, count: int) -> NodeContext:
        def report(kind: str, **data: Any) -> None:
            if kind == "progress" and count > 1:
                data["fraction"] = (index + data["fraction"]) / count
            self.ex.emit(f"node_{kind}", self.node_id, **data)
        return NodeContext(node_id=self.node_id, node_type=self.type, base_dir=self.base_dir,
                           out_dir=self.ex.out_dir, read_roots=self.ex.read_roots,
                           resources={**self.ex.options.resources, "limiter": self.ex.limiter}, report=report,
                           item_index=index, item_count=count, workflow=self.ex.workflow_dict,
                           lineage=partial(self._lineage, index, count))

    def _lineage(self, index: int, count: int) -> list[dict]:
        graph = self.ex.graph
        records = []
        for node_id in nx.topological_sort(graph.subgraph(nx.ancestors(graph, self.node_id))):
            result = self.ex.results.get(node_id)
            if result is None or not result.ok:
                continue
            items = result.meta.get("items")
            metas = [result.meta] if items is None else [items[index]] if len(items) == count else items
            for meta in metas:
                meta = {k: v for k, v in meta.items() if k != "files"}
                if meta:
                    records.append({"node": node_id, "type": self.ex.nodes[node_id].type, "meta": meta,
                                    "seconds": result.seconds, "cached": result.status == CACHED})
        return records

    def _outputs(self, returned: Any) -> dict[str, Any]:
        names = [o.name for o in self.type.outputs]
        if len(names) == 1 and not (isinstance(returned, dict) and set(returned) == set(names)):
            return {names[0]: returned}
        if not names:
            return {}
        if not isinstance(returned, dict) or set(returned) != set(names):
            got = sorted(returned) if isinstance(returned, dict) else type(returned).__name__
            raise NodeError(f"{self.type.id} returned {got}, not its outputs {names}.",
                            "This is a bug in the node pack: its function must return a dict of its outputs.")
        return returned


async def _off_loop_if_heavy(values: Any, work: Callable[[], Any]) -> Any:
    """Hash pictures in a thread; small values are quicker to hash than to hand to one."""
    heavy = any(isinstance(v, Image.Image) or (isinstance(v, list) and any(isinstance(i, Image.Image) for i in v))
                for v in (values.values() if isinstance(values, dict) else values))
    return await asyncio.to_thread(work) if heavy else work()


def _item_digest(value: Any) -> Any:
    return [value_digest(v) for v in value] if isinstance(value, list) else value_digest(value)


def _combine(digest: str | list[str]) -> str:
    return digest if isinstance(digest, str) else list_digest(digest)


async def execute(workflow: Workflow, catalogue: Catalogue, options: RunOptions | None = None,
                  on_event: Callable[[Event], None] | None = None) -> RunResult:
    return await Execution(workflow, catalogue, options, on_event).run()

