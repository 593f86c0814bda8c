"""The provider a batch run's passes use: answers from batch jobs, a note of every call still to submit.

One `Book` lives for a whole batch run and is shared by every pass over the graph: the outcomes fetched
from jobs (answers on disk, errors in memory), the calls of nodes that go direct (made once, kept), and
the calls a pass asked for that have no outcome yet. A call without an outcome raises `Deferred`, which
fails only that item; the pass goes on and records every other call it reaches. A noted call is written to
a spool file as its JSONL line, in a worker thread, so that its images need not stay in memory until submitted.
"""
from __future__ import annotations

import asyncio
import copy
import threading
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..limits import CallLimiter
from ..node_api import NodeError
from ..providers.base import Answer, Request, Stats
from ..providers.gemini import GeminiProvider
from ..providers.models import BATCH_PRICE_FACTOR, batch_refusal
from ..providers.setup import usage_of
from ..results import RunResult
from .store import BatchStore
from .wire import answer_from, jsonl_line, request_key


class Deferred(NodeError):
    """The call is waiting for a batch job (or, in the last pass, is in none)."""


@dataclass(frozen=True)
class Spooled:
    """A noted call whose JSONL line is in the spool file, at `offset`."""
    model: str
    offset: int
    length: int


class Book:
    def __init__(self, gemini: GeminiProvider, store: BatchStore, direct: frozenset[str] = frozenset()):
        self.gemini = gemini
        self.store = store
        self.direct_nodes = direct            # node ids whose calls go direct
        self.errors: dict[str, dict] = {}     # key -> {"error": ...} found by this run
        self.direct: dict[str, Answer] = {}   # key -> the answer of a direct call made by this run
        self.wanted: dict[str, Request | Spooled] = {}  # key -> call asked for in this pass, with no outcome yet
        self.spool: Path | None = None        # the file noted calls are written to, when the run gives one
        self._spooling = threading.Lock()
        self.refused: dict[str, str] = {}     # node id -> why the Batch API cannot take its calls (model table)
        self.used: set[str] = set()           # keys answered from batch jobs
        self.read: set[str] = set()           # keys whose stored answer a pass read, refusals included
        self.stats = Stats()                  # what the run's calls cost, each counted once
        self.batch_cost = 0.0                 # the part of stats.cost_usd paid at batch prices

    def outcome(self, key: str) -> dict | None:
        if key in self.errors:
            return self.errors[key]
        answer = self.store.answer(key)
        if answer is not None:
            self.read.add(key)
        return answer

    def note(self, wanted: dict, key: str, request: Request) -> None:
        """Write the call's line to the spool (in a worker thread) and keep only where it is."""
        data = (jsonl_line(key, request) + "\n").encode()
        with self._spooling, self.spool.open("ab") as spool:
            offset = spool.tell()
            spool.write(data)
        if key in wanted:
            wanted[key] = Spooled(request.model, offset, len(data))

    def write_jobs(self, stem: Path, calls: list[tuple[str, Request | Spooled]], limit: int) -> list[tuple[Path, list[str]]]:
        """The calls as JSONL input files `stem-1.jsonl`, `stem-2.jsonl`... of at most `limit` bytes each (a line is
        never split), line by line from the spool or made now for a call not spooled; each file is one job.
        Returns each file with the keys of its calls."""
        files: list[tuple[Path, list[str]]] = []
        job, size = None, 0
        try:
            with self.spool.open("rb") if self.spool else nullcontext() as spool:
                for key, call in calls:
                    if isinstance(call, Spooled):
                        spool.seek(call.offset)
                        line = spool.read(call.length)
                    else:
                        line = (jsonl_line(key, call) + "\n").encode()
                    if job is None or (size + len(line) > limit and files[-1][1]):
                        if job is not None:
                            job.close()
                        path = stem.with_name(f"{stem.name}-{len(files) + 1}.jsonl")
                        job, size = path.open("wb"), 0
                        files.append((path, []))
                    job.write(line)
                    size += len(line)
                    files[-1][1].append(key)
        finally:
            if job is not None:
                job.close()
        return files

    def usage(self, result: RunResult) -> dict:
        """The summary's usage, with what the batched calls would have cost directly."""
        usage = usage_of(BatchProvider(self), result)
        if self.used:
            usage["batch"] = {"calls": len(self.used), "cost_usd": round(self.batch_cost, 4),
                              "direct_cost_usd": round(self.batch_cost / BATCH_PRICE_FACTOR, 4)}
        return usage


class BatchProvider:
    """Stands in for the Gemini provider in a pass; the name marks results that came through batch jobs."""
    name = "gemini batch"
    offline = False

    def __init__(self, book: Book):
        self.book = book
        self.cache_id = book.gemini.cache_id  # a batched result is cached under the key a direct call would use
        self.stats = book.stats

    async def generate(self, request: Request, limiter: CallLimiter,
                       notify: Callable[[str], None] | None = None) -> Answer:
        book = self.book
        key = request_key(request)
        if request.origin in book.direct_nodes:
            if key not in book.direct:
                answer = await book.gemini.generate(request, limiter, notify)
                self.stats.add(answer)
                self.stats.calls += 1 + answer.retries
                self.stats.retries += answer.retries
                book.direct[key] = answer
            return copy.copy(book.direct[key])
        refusal = batch_refusal(request.model, request.search, request.image)
        if refusal:  # the run stops before submitting and names the node (runner.py)
            book.refused.setdefault(request.origin, refusal)
            raise Deferred(f"{refusal}.", "Send this node's calls direct (--direct), at the full price.")
        outcome = book.outcome(key)
        if outcome is None:
            book.wanted[key] = request  # before any await: a node asking several calls at once is heard in full
            if book.spool is not None:  # if this is cancelled (a sibling call failed first), it is written later
                try:
                    await asyncio.to_thread(book.note, book.wanted, key, request)
                except NodeError:  # a call that cannot be sent at all (too big) fails its node, in no job
                    book.wanted.pop(key, None)
                    raise
            raise Deferred("this call is in no batch job yet.", "Run again with --batch to submit it.")
        answer = answer_from(outcome, request, book.gemini)
        if key not in book.used:
            book.used.add(key)
            self.stats.add(answer)
            self.stats.calls += 1
            self.book.batch_cost += answer.cost_usd or 0.0
        return answer
