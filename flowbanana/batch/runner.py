"""A run through Gemini's Batch API: find the calls, submit them, wait, then finish the graph as usual.

    1. A silent pass over the model nodes (and what they need) with a read-only cache and a scratch folder:
       every call without an outcome is noted instead of made (`provider.Deferred`).
    2. The noted calls that no job already holds become one job per model, written down before submitting.
    3. Jobs are polled with backoff until they end; answers go to the store, per-call errors to memory.
    4. Back to 1: a model node fed by another model node only asks once the first one is answered.
    5. The real pass: every node runs as in a direct run, model calls answered from the jobs, results cached
       under the keys a direct run uses, files written, events sent.

`detach` stops after 2 (or after finding jobs still out); `flowbanana resume RUN`, or the same command
again, carries on from the run's folder.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Awaitable, Callable

import networkx as nx

from ..cache import Cache
from ..catalogue import Catalogue
from ..events import Event
from ..executor import Execution, RunOptions
from ..graph import build_graph
from ..providers.gemini import GeminiProvider
from ..providers.keys import uses_vertex
from ..providers.setup import ReadOnlyCache
from ..results import CANCELLED, RunResult
from ..subgraph import Subgraphs
from ..sweep import expand, original_id
from ..workflow import Workflow, from_dict
from ..writing import process_alive
from . import jobs as batch_jobs
from .jobs import BatchApi, BatchError, state_of
from .provider import BatchProvider, Book
from .store import DONE, FINAL_STATES, SUBMITTING, BatchStore

def unavailable(provider) -> tuple[str, str] | None:
    """Why a batch run cannot go through `provider` (message, hint), or None when it can."""
    if provider.offline:
        return ("a batch run sends its model calls to Gemini's Batch API, so it needs Gemini: set an API key, or run "
                "without batch.", "The key goes in GEMINI_API_KEY (or the editor's settings).")
    if uses_vertex():
        return ("a batch run goes through the Gemini Developer API only: Vertex AI takes batch jobs from Cloud "
                "Storage or BigQuery, which flowbanana does not use.",
                "Run without batch to call Vertex AI directly, or use a Gemini API key.")
    return None


class NotBatchable(BatchError):
    """Calls the Batch API cannot take were found: `nodes` maps each of the workflow's nodes to send direct to why."""

    def __init__(self, message: str, hint: str, nodes: dict[str, str]):
        super().__init__(message, hint)
        self.nodes = nodes


MAX_ROUNDS = 50  # a model node fed by another one needs a round more; this many means no progress
_ENDED = {"FAILED": "failed", "CANCELLED": "was cancelled",
          "EXPIRED": "expired (Google expires a batch job that has not finished within 48 hours)"}


@dataclass
class RunSpec:
    """Everything needed to run the same workflow again later, from another process: kept in run.json."""
    workflow: dict
    source: str | None
    out_dir: str
    cache_dir: str | None
    force: list[str] = field(default_factory=list)
    read_roots: list[str] = field(default_factory=list)
    direct: list[str] = field(default_factory=list)      # nodes whose calls go direct
    nodes_dirs: list[str] = field(default_factory=list)  # node packs loaded from folders

    def digest(self) -> str:
        """Equal for the same workflow, inputs and folders: running it again resumes the same batch run."""
        same = {k: v for k, v in asdict(self).items() if k not in ("direct", "nodes_dirs")}
        return hashlib.sha256(json.dumps(same, sort_keys=True).encode()).hexdigest()

    def load(self) -> Workflow:
        workflow = from_dict(self.workflow)
        workflow.source = Path(self.source) if self.source else None
        return workflow

    def options(self) -> RunOptions:
        return RunOptions(out_dir=Path(self.out_dir), cache=Cache(Path(self.cache_dir)) if self.cache_dir else None,
                          force=frozenset(self.force), read_roots=tuple(Path(p) for p in self.read_roots))


@dataclass
class Poll:
    first: float = 5.0     # seconds before the second look at a job; the first is at once
    factor: float = 1.5
    longest: float = 120.0


class BatchRun:
    def __init__(self, record: dict, catalogue: Catalogue, gemini: GeminiProvider, options: RunOptions,
                 store: BatchStore, *, say: Callable[[str], None] = print, detach: bool = False,
                 poll: Poll = Poll(), run_pass: Callable[[Execution, bool], Awaitable[RunResult]] | None = None,
                 wait_hint: str = ""):
        """`options` come from RunSpec.options() passed through the run's RunSetup (limits, provider);
        `run_pass(execution, final)` runs one pass (a server takes a run slot for it: waiting takes none);
        `wait_hint` ends each "waiting" line (how to stop waiting, where the front end has a way)."""
        self.record = record
        self.spec = RunSpec(**record["spec"])
        self.workflow = self.spec.load()
        self.catalogue = catalogue
        self.options = options
        self.store = store
        self.say = say
        self.detach = detach
        self.poll = poll
        self.run_pass = run_pass or (lambda execution, final: execution.run())
        self.wait_hint = wait_hint
        self.gemini = gemini
        self.api = BatchApi(gemini)
        self.flat = Subgraphs(catalogue, options.read_roots).expand(self.workflow)[0]  # what runs, subgraphs opened
        copies = expand(self.flat.workflow, catalogue)  # and a sweep's copies of nodes, as the executor makes them
        direct = {c for node_id in self.spec.direct for n in self.flat.node_ids(node_id) for c in copies.ids(n)}
        self.book = Book(gemini, store, frozenset(direct))
        self.stopped = False
        self._stop = asyncio.Event()
        self._execution: Execution | None = None
        self._states: dict[str, str] = {}

    @property
    def id(self) -> str:
        return self.record["id"]

    def cancel(self) -> None:
        """Stop: a pass is cancelled as a direct run would be, waiting ends; jobs at Google go on."""
        self.stopped = True
        self._stop.set()
        if self._execution is not None:
            self._execution.cancel()

    async def run(self, on_event: Callable[[Event], None] | None = None) -> RunResult | None:
        """The finished run's result; None when detached with jobs still out, or stopped while waiting."""
        reason = unavailable(self.gemini)
        if reason:
            raise BatchError(*reason)
        scratch = Path(tempfile.mkdtemp(prefix="flowbanana-batch-"))
        self.book.spool = scratch / "calls.jsonl"
        try:
            for _ in range(MAX_ROUNDS):
                wanted = await self._collect(scratch)
                if self.stopped:
                    return None
                if self.book.refused:
                    raise self._refused()
                if not wanted:
                    return await self._finish(on_event)
                await self._submit(wanted, scratch)
                wanted = set(wanted)  # the calls' lines are at Google now: only their keys are needed
                if not await self._wait(wanted, scratch):
                    return None
            raise BatchError(f"the batch run {self.id} is still finding new calls after {MAX_ROUNDS} rounds.",
                             "A node makes a different call every time it runs; run it without --batch.")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _options(self, **changes) -> RunOptions:
        return replace(self.options, resources={**self.options.resources, "provider": BatchProvider(self.book)},
                       **changes)

    async def _collect(self, scratch: Path) -> dict:
        """A silent pass over the model nodes: the calls it could not answer."""
        self.book.wanted = {}
        nodes = self.flat.workflow.nodes
        if self.options.targets is not None:  # a run of some nodes (the editor's "run this node") asks only theirs
            graph = build_graph(self.flat.workflow)
            chosen = {n for target in self.options.targets for n in self.flat.node_ids(target) if n in graph}
            nodes = {n: nodes[n] for n in chosen.union(*(nx.ancestors(graph, n) for n in chosen))}
        targets = {n for n, node in nodes.items()
                   if (t := self.catalogue.get(node.type)) is not None and t.uses_provider and not node.disabled}
        if not targets:
            return {}
        cache = self.options.cache
        options = self._options(out_dir=scratch / "out", cache=ReadOnlyCache(cache.root) if cache else None,
                                targets=frozenset(targets))
        await self._pass(Execution(self.workflow, self.catalogue, options), final=False)
        return dict(self.book.wanted)

    def _refused(self) -> NotBatchable:
        """What to say when calls the Batch API cannot take were found: the nodes (as the workflow names them, for
        --direct, or the run request's "direct"), why, and how to send them direct in the front end's words. A run with no job yet is not kept."""
        nodes: dict[str, str] = {}
        for origin, why in self.book.refused.items():
            top = original_id(origin).split("/")[0]  # a sweep's copy, a node inside a subgraph: the node named
            nodes.setdefault(top if top in self.workflow.nodes else origin, why)
        submitted = bool(self.store.run(self.id)["jobs"])
        if not submitted:
            self.store.drop_run(self.id)
        listed = "; ".join(f"{node!r}: {why}" for node, why in nodes.items())
        flags = self.options.words.send_direct(list(nodes))
        one = len(nodes) == 1
        return NotBatchable(
            f"{'no more jobs were' if submitted else 'nothing was'} submitted: the Batch API cannot take the calls of "
            f"{len(nodes)} node{'' if one else 's'} ({listed}).",
            f"Add {flags} to send {'its' if one else 'their'} calls direct, at the full price (everything else "
            f"still goes through the batch); or change {'its' if one else 'their'} model or search, or run "
            "without batch.", nodes)

    async def _pass(self, execution: Execution, final: bool) -> RunResult:
        self._execution = execution
        try:
            return await self.run_pass(execution, final)
        finally:
            self._execution = None

    async def _submit(self, wanted: dict, scratch: Path) -> None:
        """One job per model for the calls no job holds yet (in this run or any other)."""
        held = self.store.covering(set(wanted))
        by_model: dict[str, list] = {}
        for key, call in wanted.items():
            if key not in held:
                by_model.setdefault(call.model, []).append((key, call))
        for index, (model, calls) in enumerate(by_model.items()):
            # one job per model, or several when its requests are more than one input file may hold
            parts = await asyncio.to_thread(self.book.write_jobs, scratch / f"model-{index}", calls,
                                            batch_jobs.FILE_LIMIT)
            for requests, keys in parts:
                if self.stopped:
                    return
                number = len(self.store.run(self.id)["jobs"]) + 1
                display = f"flowbanana {self.id} #{number}"
                job = {"display_name": display, "model": model, "keys": keys, "name": None, "state": SUBMITTING,
                       "pid": os.getpid(), "created": time.time(), "collected": False}
                self.store.update(self.id, lambda r: r["jobs"].append(job))
                made, source = await self.api.submit(model, requests, display)
                requests.unlink()
                state = state_of(made)
                self.store.update_job(self.id, display, name=made.name, state=state, source=source)
                self._states[made.name] = state
                self.say(f"submitted batch job {made.name}: {len(keys)} call{'s' if len(keys) != 1 else ''} to "
                         f"{model} ({source}), {state}")

    async def _wait(self, keys: set[str], scratch: Path) -> bool:
        """Poll the jobs holding `keys` until all have ended and their outcomes are fetched; False if detached
        while some are still out."""
        delay = self.poll.first
        started = time.monotonic()
        while True:
            out = []
            for run_id, job in {(r, j["display_name"]): (r, j) for r, j in self.store.covering(keys).values()}.values():
                if job["state"] == SUBMITTING:
                    if process_alive(job.get("pid")) and job.get("pid") != os.getpid():
                        out.append(job)  # another process is submitting it right now
                        continue
                    job = await self._recover(run_id, job)
                    if job is None:
                        continue  # it never reached Google: its calls go into a new job next round
                made = await self.api.get(job["name"]) if job["state"] not in FINAL_STATES else None
                state = state_of(made) if made is not None else job["state"]
                if self._states.get(job["name"]) != state:
                    self._states[job["name"]] = state
                    self.store.update_job(run_id, job["display_name"], state=state)
                    self.say(f"batch job {job['name']} ({len(job['keys'])} calls to {job['model']}): {state}")
                if state in FINAL_STATES:
                    await self._fetch(run_id, job, made or await self.api.get(job["name"]), state, scratch)
                else:
                    out.append(job)
            if not out:
                return True
            if self.detach or self.stopped:
                return False
            waited = time.monotonic() - started
            self.say(f"waiting for {len(out)} batch job{'s' if len(out) != 1 else ''} ({_duration(waited)} so far); "
                     f"next look in {_duration(delay)}." + (f" {self.wait_hint}" if self.wait_hint else ""))
            try:
                await asyncio.wait_for(self._stop.wait(), delay)
                return False
            except TimeoutError:
                pass
            delay = min(delay * self.poll.factor, self.poll.longest)

    async def _recover(self, run_id: str, job: dict) -> dict | None:
        """A job written down but not known to be created (its process stopped while submitting)."""
        found = await self.api.find(job["display_name"])
        if found is None:
            self.store.drop_job(run_id, job["display_name"])  # never reached Google: its calls go out again
            return None
        job = {**job, "name": found.name, "state": state_of(found)}
        self.store.update_job(run_id, job["display_name"], name=found.name, state=job["state"])
        return job

    async def _fetch(self, run_id: str, job: dict, made, state: str, scratch: Path) -> None:
        """A finished job's outcomes: answers to the store, errors to this run's book."""
        if state in ("SUCCEEDED", "PARTIALLY_SUCCEEDED"):
            outcomes = await self.api.results(made, job["keys"], scratch)
        else:
            outcomes = {}
        for key in job["keys"]:
            outcome = outcomes.get(key)
            if outcome is None:
                ended = "returned no answer for this call" if state in ("SUCCEEDED", "PARTIALLY_SUCCEEDED") else \
                    f"{_ENDED.get(state, state)} without answering this call"
                outcome = {"error": {"job": job["name"], "message": f"batch job {job['name']} {ended}"}}
            if "response" in outcome:
                await asyncio.to_thread(self.store.put_answer, key, outcome)
            else:
                self.book.errors[key] = outcome
        self.store.update_job(run_id, job["display_name"], collected=True)

    async def _finish(self, on_event) -> RunResult:
        result = await self._pass(Execution(self.workflow, self.catalogue, self._options(), on_event), final=True)
        if result.status != CANCELLED:  # every answer read has reached its node (and the cache); a refusal is
            self.store.drop_answers(self.book.read)  # asked again next time, as a direct run would
        if self.store.run(self.id)["jobs"]:
            self.store.update(self.id, lambda r: r.update(status=DONE, finished=time.time(), result=result.status))
        else:
            self.store.drop_run(self.id)  # everything was cached: nothing to remember
        return result


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"
