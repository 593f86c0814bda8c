"""Runs on disk: one folder per run holding its record (run.json), its events and its output files.

The record is rewritten atomically as the run progresses, so a crash leaves the last complete
state; a server that starts up marks the runs it finds unfinished as interrupted.
"""
from __future__ import annotations

import json
import logging
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

log = logging.getLogger("flowbanana.server")
QUEUED, RUNNING, INTERRUPTED = "queued", "running", "interrupted"
ACTIVE = frozenset({QUEUED, RUNNING})
RUN_ID = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{6}$")
RECORD, EVENTS, OUTPUTS = "run.json", "events.jsonl", "outputs"


def new_run_id(now: float | None = None) -> str:
    """Sortable by creation time (to the second), unique by its random tail."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime(now or time.time())) + "-" + secrets.token_hex(3)


@dataclass
class RunRecord:
    """Everything known about one run; `to_json()` is what GET /api/runs/{id} returns (URLs added there)."""
    id: str
    workflow: dict[str, Any]
    name: str
    inputs: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    origin: str = "api"                       # who submitted it: api, editor, rerun of <id>
    base_dir: str | None = None               # the folder its relative paths resolved against
    status: str = QUEUED                      # queued, running, done, failed, cancelled, interrupted
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    seconds: float | None = None
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # the workflow's named outputs: node, output
    files: list[str] = field(default_factory=list)   # relative to the run's outputs folder
    usage: dict[str, Any] = field(default_factory=dict)
    cost: float | None = None                 # estimated, in US dollars, when the nodes report one
    error: str | None = None
    batch: list[str] = field(default_factory=list)   # a batch run's news: jobs submitted, their states
    not_batched: dict[str, str] = field(default_factory=dict)  # a batch run stopped for these nodes (-> why):
    #                                                            the ones to send in "direct"

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def direct_cost(self) -> float | None:
        """What the run would have cost with every call made directly, when some went through the Batch API."""
        batch = self.usage.get("batch")
        if not batch or self.cost is None:
            return None
        return round(self.cost - batch["cost_usd"] + batch["direct_cost_usd"], 6)

    def to_json(self) -> dict[str, Any]:
        direct = {"direct_cost": self.direct_cost} if self.direct_cost is not None else {}
        return {name: getattr(self, name) for name in self.__dataclass_fields__} | direct

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "RunRecord":
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})

    def summary(self) -> dict[str, Any]:
        """The short form for lists: no workflow body, no per-node detail (a batch run: its direct cost too)."""
        direct = {"direct_cost": self.direct_cost} if self.direct_cost is not None else {}
        return {k: getattr(self, k) for k in ("id", "name", "status", "origin", "created", "started", "finished",
                                              "seconds", "cost", "error")} | direct | {"files": len(self.files)}


class RecordWriter:
    """Writes files atomically on a thread of its own, so the event loop never waits on the disk.

    Only the newest text of each file matters: a write that was overtaken is skipped.
    """

    def __init__(self):
        self._pending: dict[Path, tuple[int, str]] = {}
        self._written: dict[Path, int] = {}
        self._version = 0
        self._busy = False
        self._cond = threading.Condition()
        self._io = threading.Lock()
        threading.Thread(target=self._work, name="flowbanana-records", daemon=True).start()

    def put(self, path: Path, text: str, wait: bool = False) -> None:
        with self._cond:
            self._version += 1
            version = self._version
            if not wait:
                self._pending[path] = (version, text)
                self._cond.notify_all()
                return
            self._pending.pop(path, None)
        self._write(path, version, text)

    def flush(self, timeout: float = 30) -> None:
        with self._cond:
            self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)

    def _work(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending)
                batch, self._pending, self._busy = self._pending, {}, True
            for path, (version, text) in batch.items():
                self._write(path, version, text)
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def _write(self, path: Path, version: int, text: str) -> None:
        with self._io:
            if self._written.get(path, 0) > version:
                return
            self._written[path] = version
            tmp = path.with_name(f".{path.name}.tmp")
            try:
                tmp.write_text(text, encoding="utf-8")
                os.replace(tmp, path)
            except OSError:
                log.exception("cannot write %s", path)


class RunStore:
    """The runs folder. The in-memory index answers every question; the disk is written behind it."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()  # resolved once: run folders below it need no resolving
        self.root.mkdir(parents=True, exist_ok=True)
        self._records: dict[str, RunRecord] = {}
        self._writer = RecordWriter()
        self._load()

    def _load(self) -> None:
        for folder in self.root.iterdir():
            if not RUN_ID.match(folder.name):
                continue
            try:
                record = RunRecord.from_json(json.loads((folder / RECORD).read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError):
                continue  # a folder without a readable record is not a run we can show
            if record.active:
                record.status = INTERRUPTED
                record.error = "the server stopped while this run was " + ("waiting" if record.started is None
                                                                          else "running")
                for node in record.nodes.values():
                    if node.get("status") in ("waiting", "running"):
                        node["status"] = INTERRUPTED
                self.save(record, wait=True)
                self._end_events(record)
            self._records[record.id] = record

    def _end_events(self, record: RunRecord) -> None:
        """Close an interrupted run's event log the way a finished run's ends, for listeners that wait for it."""
        seq = sum(1 for _ in self.read_events(record.id))
        event = {"seq": seq, "event": "run_finished", "node": None, "time": time.time(), "run_id": record.id,
                 "status": record.status, "error": record.error}
        with self.events_path(record.id).open("a", encoding="utf-8") as f:
            f.write(json.dumps(event) + "\n")

    def folder(self, run_id: str) -> Path:
        if not RUN_ID.match(run_id):
            raise KeyError(run_id)
        return self.root / run_id

    def outputs(self, run_id: str) -> Path:
        return self.folder(run_id) / OUTPUTS

    def events_path(self, run_id: str) -> Path:
        return self.folder(run_id) / EVENTS

    def create(self, record: RunRecord) -> RunRecord:
        (self.folder(record.id) / OUTPUTS).mkdir(parents=True)
        self.save(record, wait=True)  # a run that was accepted survives a crash
        return record

    def save(self, record: RunRecord, wait: bool = False) -> None:
        """Keep `record` as the run's state; on disk soon, or before returning with `wait`."""
        self._records[record.id] = record
        text = json.dumps(record.to_json(), indent=1, sort_keys=True, default=str)
        self._writer.put(self.folder(record.id) / RECORD, text, wait)

    def forget(self, run_id: str) -> Path:
        """Drop a run from the index; its folder, returned, is the caller's to remove."""
        self._records.pop(run_id, None)
        return self.folder(run_id)

    def flush(self) -> None:
        self._writer.flush()

    def get(self, run_id: str) -> RunRecord | None:
        return self._records.get(run_id)

    def newest_first(self) -> list[RunRecord]:
        return sorted(self._records.values(), key=lambda r: (r.created, r.id), reverse=True)

    def page(self, limit: int, offset: int = 0,
             where: Callable[[RunRecord], bool] | None = None) -> tuple[list[RunRecord], int]:
        records = [r for r in self.newest_first() if where(r)] if where else self.newest_first()
        return records[offset:offset + limit], len(records)

    def read_events(self, run_id: str) -> Iterator[dict[str, Any]]:
        try:
            with self.events_path(run_id).open(encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        yield json.loads(line)
        except (FileNotFoundError, KeyError):
            return
        except ValueError:
            return  # a line cut short by a crash ends the replay
