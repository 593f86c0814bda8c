"""One node's run: gather its inputs, call it once or once per item, consult the cache item by item.

A node fed a list on a single-value input runs once per item, each item cached on its own (a batch
that failed half way re-pays only for what failed). Items arrive from the node's sources (an upstream
ItemStream, or a whole list a finished node made) as each is ready, and leave through this node's own
ItemStream as each is made, so a chain of nodes works on several rows at once; see streams.py.

An image's digest is the cache key of the call that made it (not a hash of its pixels), so a cached
picture is passed, keyed and saved without being decoded; pixels are hashed only for images made by
nodes that are not cached, and nothing is hashed in a run without a cache.
"""
from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import networkx as nx

from .cache import CacheWriteError, Damaged, list_digest, node_key, path_digest, value_digest
from .images import ImageRef, Opened, is_image
from .node_api import Input, NodeContext, NodeError, NodeType, resolve_path, within
from .pixels import image_bytes
from .results import CACHED, DONE, FAILED, SKIPPED, NodeResult
from .streams import ItemStream, ListSource, Missing, Settled
from .validation import resolved_params
from .workflow import Node

if TYPE_CHECKING:
    from .executor import Execution

MIN_WINDOW = 16          # items a node may run ahead of its slowest reader (at least; more with more concurrency)
PROGRESS_EVERY_ITEM = 100  # up to this many items a mapped node reports each one; beyond, at most every:
PROGRESS_SECONDS = 0.25


@dataclass(slots=True)
class _Call:
    """One call of a node function, or its cached result."""
    outputs: dict[str, Any]  # as made (pictures in memory), for the readers waiting for them
    kept: dict[str, Any]     # what the result keeps: the cache's refs once written
    digests: dict[str, Any]
    meta: dict[str, Any]
    hit: bool


class NodeRun:
    def __init__(self, execution: Execution, node_id: str, node: Node, node_type: NodeType):
        self.ex = execution
        self.node_id = node_id
        self.node = node
        self.type = node_type
        self.base_dir = node.base_dir or execution.workflow.base_dir  # a subgraph's own folder for its nodes
        self.cache = execution.options.cache if node_type.cacheable else None
        self.keyed = execution.options.cache is not None  # digests only matter to a run that has a cache
        self.started = False
        self.held = 0  # bytes of images in memory this node's items added to the run's (RunLimits)
        self.done = 0
        self._reported = 0.0
        self._files: dict[int, list[str]] = {}  # the files each call named (for a run stopped half way)

    async def run(self) -> NodeResult:
        kwargs, digests, identities, sources = self._gather()
        base = self._key_parts(digests, exclude=set(sources))
        if not sources:
            key = node_key(base) if self.cache else None
            call = await self._item(0, 1, kwargs, identities, key)
            self.ex.keep_list_digests(self.node_id, call.digests)
            return NodeResult(CACHED if call.hit else DONE, outputs=call.outputs, meta=call.meta,
                              digests={k: _combine(d) for k, d in call.digests.items()})
        return await self._run_items(kwargs, identities, sources, base)

    def files(self) -> list[str]:
        """The files this node's calls named, in item order: those of a run stopped half way included."""
        return [f for index in sorted(self._files) for f in self._files[index]]

    # ---- item by item

    async def _run_items(self, kwargs: dict, identities: dict, sources: dict, base: dict) -> NodeResult:
        count, final = self._count(sources)
        stream = ItemStream(self.node_id, count or 0, final, self._list_lengths(),
                            max(MIN_WINDOW, 2 * self.ex.options.concurrency))
        for source, port in sources.values():
            source.attach(self.node_id, port, stream.wake)
        self.ex.opened(self.node_id, stream)
        # each item's outcome (a _Call, or the exception it ended with), kept as its task ends: a finished task
        # and its coroutine are let go, so what a node holds per item is only what its result lists
        outcomes: list = []
        running: set[asyncio.Task] = set()
        mismatch = None
        try:
            while True:
                try:
                    count, final = self._count(sources)
                except NodeError as exc:  # the lists turned out to differ in length: make no more items
                    mismatch = exc
                    break
                if count is not None:
                    stream.resize(count, final)
                if count is None or len(outcomes) >= count:
                    if final:
                        break
                    await stream.changed()
                    continue
                await stream.room(len(outcomes))
                task = asyncio.create_task(self._one(len(outcomes), kwargs, identities, sources, base, stream))
                task.add_done_callback(partial(_landed, outcomes, running, len(outcomes)))
                running.add(task)
                outcomes.append(None)
            while running:
                await asyncio.wait(set(running))
        except asyncio.CancelledError:
            for task in running:
                task.cancel()
            if running:
                await asyncio.wait(set(running))
            raise
        finally:
            for source, _ in sources.values():
                source.detach(self.node_id)
            stream.close()
        if mismatch:
            raise mismatch
        return self._result([o for o in outcomes[:stream.count] if o is not None])

    async def _one(self, index: int, kwargs: dict, identities: dict, sources: dict, base: dict,
                   stream: ItemStream) -> _Call | Missing | None:
        """Item `index`: its inputs as they come, then the call; None when the lists turn out not to pair."""
        try:
            kwargs, identities = dict(kwargs), dict(identities)
            item_key, positional = {}, True
            for name, (source, port) in sources.items():
                value, digest, row = await source.get(port, index, self.node_id)
                kwargs[name], identities[name] = value, digest
                item_key[name] = self._link_digest(name, value, digest)
                positional = positional and row
            if not positional and len(sources) > 1 and not await self._paired(sources, stream):
                return None
            key = node_key({**base, "item": item_key}) if self.cache else None
            started = time.perf_counter()
            call = await self._item(index, stream.count, kwargs, identities, key)
            self._check_lengths(call.outputs, stream.list_ports)
            stream.settle(index, Settled(call.outputs, call.digests, call.meta, call.hit, aligned=positional,
                                         seconds=time.perf_counter() - started))
            stream.keep(index, call.kept)
            call.outputs = call.kept  # the pictures stay only with the readers that have yet to take them
        except Missing as missing:
            stream.settle(index, Settled(None, error=missing.reason, cause=missing.node_id))
            return missing
        except BaseException:
            if stream.items[index] is None:
                stream.settle(index, Settled(None, error="it failed on this item", cause=self.node_id))
            raise
        finally:
            for source, _ in sources.values():
                source.release(index, self.node_id)
            stream.finish(index)
        self._progress(stream.count)
        return call

    def _list_lengths(self) -> dict[str, int | None]:
        """Each list output, with how long each item's list is when the node says so (Output.length)."""
        params = resolved_params(self.node, self.type)
        return {o.name: params[o.length] if o.length and o.length not in self.node.inputs else None
                for o in self.type.outputs if o.list}

    def _check_lengths(self, outputs: dict[str, Any], lengths: dict[str, int | None]) -> None:
        for port, k in lengths.items():
            value = outputs.get(port)
            if k is not None and (not isinstance(value, list) or len(value) != k):
                got = len(value) if isinstance(value, list) else type(value).__name__
                raise NodeError(f"{self.type.id} gave {got} values on {port!r}, but its "
                                f"{self.type.output_port(port).length} is {k}.",
                                "This is a bug in the node pack: the list must be as long as it says.")

    async def _paired(self, sources: dict, stream: ItemStream) -> bool:
        """An item whose position no longer is its row's (a list before it gave several values for one row) is
        paired with the others only once every list's length is final and they agree."""
        while True:
            try:
                count, final = self._count(sources)
            except NodeError:
                return False
            if final:
                return True
            await stream.changed()

    def _count(self, sources: dict) -> tuple[int | None, bool]:
        """How many items to make, and whether that is final; an error when final lengths differ."""
        lengths = {name: source.length(port) for name, (source, port) in sources.items()}
        final = {name: n for name, (n, is_final) in lengths.items() if is_final}
        if len(set(final.values())) > 1:
            (a, la), (b, lb) = sorted(final.items(), key=lambda kv: kv[1])[::len(final) - 1]
            raise NodeError(f"input {a!r} is a list of {la} items but {b!r} is a list of {lb}; lists are "
                            "paired item by item, so they must be the same length.",
                            "Make the lists the same length, or pick one item with list.pick.")
        known = {n for n, _ in lengths.values()}
        if None in known or len(known) > 1:  # wait until the lists say how long they are
            return None, False
        return known.pop(), len(final) == len(lengths)

    def _progress(self, count: int) -> None:
        self.done += 1
        now = time.monotonic()
        due = count <= PROGRESS_EVERY_ITEM or self.done >= count or now - self._reported >= PROGRESS_SECONDS
        if count > 1 and due:
            self._reported = now
            self.ex.emit("node_progress", self.node_id, fraction=min(1.0, self.done / count),
                         message=f"{self.done} of {count} items", items=self.done, total=count)

    def _result(self, outcomes: list) -> NodeResult:
        count = len(outcomes)
        for outcome in outcomes:
            if isinstance(outcome, asyncio.CancelledError):
                raise outcome
        failures = [(i, o) for i, o in enumerate(outcomes)
                    if isinstance(o, BaseException) and not isinstance(o, Missing)]
        if failures:
            i, exc = failures[0]
            message = exc.message if isinstance(exc, NodeError) else f"{type(exc).__name__}: {exc}"
            kept = sum(isinstance(o, _Call) for o in outcomes)
            raise NodeError(f"item {i + 1} of {count}: {message}" + (
                f" ({len(failures)} items failed)" if len(failures) > 1 else ""),
                (exc.hint + " " if isinstance(exc, NodeError) and exc.hint else "") +
                (f"The {kept} other items are cached: running again repeats only the failed ones."
                 if kept and self.cache else ""))
        calls = [o for o in outcomes if isinstance(o, _Call)]
        outputs: dict[str, list] = {o.name: [] for o in self.type.outputs}
        digests: dict[str, list[str]] = {o.name: [] for o in self.type.outputs}
        for call in calls:
            for port in self.type.outputs:
                value, digest = call.kept[port.name], call.digests[port.name]
                if port.list and isinstance(value, list):
                    outputs[port.name].extend(value)
                    digests[port.name].extend(digest)
                else:
                    outputs[port.name].append(value)
                    digests[port.name].append(_combine(digest))
        for name, values in outputs.items():
            _refuse(self.ex.options.limits.items_problem(len(values), f"output {name!r}"))
        self.ex.keep_list_digests(self.node_id, digests)
        meta = {"items": [c.meta for c in calls]}
        files = [f for c in calls for f in c.meta.get("files", [])]
        if files:
            meta["files"] = files
        combined = {k: list_digest(v) if self.keyed else "" for k, v in digests.items()}
        missing = [o for o in outcomes if isinstance(o, Missing)]
        if missing:  # an upstream node did not make some items: those are skipped, the rest is kept
            cause = missing[0].node_id
            upstream = self.ex.results.get(cause)
            state = "failed" if upstream is None or upstream.status == FAILED else "did not finish"
            return NodeResult(SKIPPED, outputs=outputs, meta=meta, digests=combined,
                              error=f"skipped because it needs node {cause!r}, which {state} "
                                    f"({len(missing)} of {count} items; the other {len(calls)} are done)")
        status = CACHED if calls and all(c.hit for c in calls) else DONE
        return NodeResult(status, outputs=outputs, meta=meta, digests=combined)

    # ---- inputs and keys

    def _single(self, name: str) -> bool:
        port = self.type.port(name)
        return not (isinstance(port, Input) and port.list)

    def _gather(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, str], dict[str, tuple]]:
        """The node function's keyword arguments, the digests its cache key is made of, what made each single
        input (its digest), and the sources of the inputs it takes item by item."""
        results = self.ex.results
        kwargs: dict[str, Any] = resolved_params(self.node, self.type)
        digests: dict[str, Any] = {}
        identities: dict[str, str] = {}
        sources: dict[str, tuple] = {}
        for port in self.type.inputs:
            if port.name not in self.node.inputs:
                kwargs[port.name] = [] if port.list else None
        for name, links in self.node.inputs.items():
            if self._single(name):
                link = links[0]
                stream = self.ex.streams.get(link.node) if link.node not in results else None
                if stream is not None:
                    sources[name] = (stream, link.output)
                    continue
                value, digest = results[link.node].outputs[link.output], results[link.node].digests[link.output]
                if isinstance(value, list):
                    sources[name] = (ListSource(value, self.ex.list_digests(link.node, link.output, value)),
                                     link.output)
                else:
                    kwargs[name], identities[name] = value, digest
                    digests[name] = self._link_digest(name, value, digest)
            else:  # a link from a node that did not finish reaches only a partial port: it gives None
                values = [results[l.node].outputs[l.output] if results[l.node].ok else None for l in links]
                kwargs[name] = [item for v in values for item in (v if isinstance(v, list) else [v])]
                digests[name] = [results[l.node].digests[l.output] if results[l.node].ok else "missing" for l in links]
        return kwargs, digests, identities, sources

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

    # ---- one call

    async def _item(self, index: int, count: int, kwargs: dict[str, Any], identities: dict[str, str],
                    key: str | None) -> _Call:
        """One call of the node function, or its cached result. The cache is written before the call counts as
        made, so whatever a reader does with it (a file saved) is never ahead of the cache: a run killed at any
        point re-pays at most the calls that were in flight."""
        if key and self.node_id not in self.ex.force:
            try:
                entry = await asyncio.to_thread(self.cache.get, key, self.ex.options.limits.max_pixels)
            except Damaged as exc:
                entry = None
                self.ex.emit("node_warning", self.node_id, message=f"{exc}; running the node again (its result "
                                                                   "replaces the damaged one).")
            if entry is not None:
                self._keep(entry["outputs"])
                return _Call(entry["outputs"], entry["outputs"], entry["digests"], entry["meta"], True)
        if not self.started:
            self.started = True
            self.ex.emit("node_started", self.node_id, type=self.type.id)
        ctx = self._context(index, count, identities)
        opened = Opened()
        try:
            return await self._call(ctx, opened, kwargs, key)
        finally:  # stopped or not, nothing of this call is named from now on (a node in a thread may go on)
            if files := ctx.gate.stop():
                self._files[index] = files

    async def _call(self, ctx: NodeContext, opened: Opened, kwargs: dict[str, Any], key: str | None) -> _Call:
        try:
            call_kwargs = {name: opened.open(value, whole=not self._single(name)) for name, value in kwargs.items()}
            if self.type.wants_ctx:
                call_kwargs["ctx"] = ctx
            if self.type.is_async:
                returned = await self.type.fn(**call_kwargs)
            else:
                returned = await asyncio.get_running_loop().run_in_executor(None, partial(self.type.fn, **call_kwargs))
            outputs = {k: _unchanged(v, opened) for k, v in self._outputs(returned).items()}
        finally:
            opened.close()
        self._keep(outputs)
        digests = await self._digests(outputs, key)
        call = _Call(outputs, outputs, digests, ctx.meta, False)
        if key:
            try:
                kept = await asyncio.to_thread(self.cache.put, key, outputs, digests, ctx.meta)
            except CacheWriteError as exc:  # the result is good: used now, only not kept for the next run
                self.ex.cache_failed(self.node_id, exc)
            else:
                if kept is not None:
                    call.kept = kept
        return call

    async def _digests(self, outputs: dict[str, Any], key: str | None) -> dict[str, Any]:
        """Each output's digest (a list's item by item): what made an image, or the content of anything else."""
        if not self.keyed:
            return {k: [""] * len(v) if isinstance(v, list) else "" for k, v in outputs.items()}
        forced = self.ex.run_id if self.node_id in self.ex.force else ""  # a forced call makes new pictures

        def digest(port: str, value: Any, n: int | None) -> str:
            if isinstance(value, ImageRef) and value.digest:
                return value.digest
            if key and is_image(value):
                return hashlib.sha256(f"{key}:{port}:{n}:{forced}".encode()).hexdigest()
            return value_digest(value)

        def work() -> dict[str, Any]:
            return {k: [digest(k, v, n) for n, v in enumerate(value)] if isinstance(value, list) else
                    digest(k, value, None) for k, value in outputs.items()}
        hashing_pixels = key is None and any(is_image(v) for value in outputs.values()
                                             for v in (value if isinstance(value, list) else [value]))
        return await asyncio.to_thread(work) if hashing_pixels else work()

    def _keep(self, outputs: dict[str, Any]) -> None:
        """Count one item's outputs against the run's limits (whatever pack made them), or refuse them: pixels
        per image, items per list, and the image memory the run holds (pictures kept in the cache as refs to
        their files hold none)."""
        limits = self.ex.options.limits
        for name, value in outputs.items():
            if isinstance(value, list):
                _refuse(limits.items_problem(len(value), f"output {name!r}"))
            for item in value if isinstance(value, list) else [value]:
                if is_image(item):
                    _refuse(limits.pixels_problem(*item.size, f"output {name!r}"))
        adding = image_bytes(list(outputs.values()))
        _refuse(limits.memory_problem(self.ex.held_bytes, adding))
        self.ex.held_bytes += adding
        self.held += adding

    def _context(self, index: int, count: int, identities: dict[str, str]) -> NodeContext:
        def report(kind: str, **data: Any) -> None:
            if kind == "progress" and count > 1:
                data["fraction"] = (index + data["fraction"]) / count
            self.ex.emit(f"node_{kind}", self.node_id, **data)
        return NodeContext(node_id=self.node_id, node_type=self.type, base_dir=self.base_dir,
                           out_dir=self.ex.out_dir, read_roots=self.ex.read_roots,
                           resources={**self.ex.options.resources, "limiter": self.ex.limiter}, report=report,
                           item_index=index, item_count=count, workflow=self.ex.workflow_dict,
                           lineage=partial(self._lineage, index, count), limits=self.ex.options.limits,
                           held=lambda: self.ex.held_bytes, words=self.ex.options.words, identities={k: v for k, v in identities.items() if isinstance(v, str) and v})

    def _lineage(self, index: int, count: int) -> list[dict]:
        graph = self.ex.graph
        records = []
        for node_id in nx.topological_sort(graph.subgraph(nx.ancestors(graph, self.node_id))):
            result, stream = self.ex.results.get(node_id), self.ex.streams.get(node_id)
            if result is not None:
                if not result.ok:
                    continue
                items = result.meta.get("items")
                metas = [result.meta] if items is None else [items[index]] if len(items) == count else items
                seconds, cached = result.seconds, result.status == CACHED
            elif stream is not None and stream.count == count and index < len(stream.items) and \
                    stream.items[index] is not None:  # still making its items: this one's record
                item = stream.items[index]
                metas, seconds, cached = [item.meta], item.seconds, item.hit
            else:
                continue
            for meta in metas:
                meta = {k: v for k, v in meta.items() if k != "files"}
                if meta:
                    records.append({"node": node_id, "type": self.ex.nodes[node_id].type, "meta": meta,
                                    "seconds": seconds, "cached": cached})
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


def _unchanged(value: Any, opened: Opened) -> Any:
    """An output that is an input handed over unread goes on as that input's ref (no copy, no new digest)."""
    if isinstance(value, list):
        return [_unchanged(v, opened) for v in value]
    return opened.ref_of(value) or value


def _refuse(problem: tuple[str, str] | None) -> None:
    if problem:
        raise NodeError(*problem)


def _landed(outcomes: list, running: set, index: int, task: asyncio.Task) -> None:
    """Keep what item `index`'s task ended with (as asyncio.gather with return_exceptions would) and let it go."""
    running.discard(task)
    outcomes[index] = asyncio.CancelledError() if task.cancelled() else task.exception() or task.result()


def _combine(digest: str | list[str]) -> str:
    return digest if isinstance(digest, str) else list_digest(digest)
