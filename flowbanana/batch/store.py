"""Batch runs on disk: what each run is, the jobs it submitted, and the answers they brought back.

    <root>/runs/<id>/run.json     the run (its spec, status and jobs), replaced atomically on every change
    <root>/answers/<kk>/<key>.json  one successful answer per call key, shared by every run

A job is written down before it is submitted (state SUBMITTING, with the display name it is created under)
and again with its name as soon as the API returns it, so a crash at any point leaves either nothing at
Google or a job that the next run finds by name or, failing that, by display name. The root is
$FLOWBANANA_BATCH_DIR, else $XDG_STATE_HOME/flowbanana/batch (~/.local/state/flowbanana/batch).
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Callable, Iterator

SUBMITTING = "SUBMITTING"
FINAL_STATES = ("SUCCEEDED", "PARTIALLY_SUCCEEDED", "FAILED", "CANCELLED", "EXPIRED")
WAITING, DONE = "waiting", "done"   # a run's status: jobs out, or the graph finished


def default_root() -> Path:
    if os.environ.get("FLOWBANANA_BATCH_DIR"):
        return Path(os.environ["FLOWBANANA_BATCH_DIR"])
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return state / "flowbanana" / "batch"


def unfinished(job: dict) -> bool:
    """Out at Google (or maybe: SUBMITTING), or finished with answers not yet fetched."""
    return job["state"] not in FINAL_STATES or (job["state"] in ("SUCCEEDED", "PARTIALLY_SUCCEEDED")
                                                and not job.get("collected"))


class BatchStore:
    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root else default_root()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time across processes (two runs may collect jobs of the same run)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- runs --------------------------------------------------------------------------------------

    def _run_file(self, run_id: str) -> Path:
        return self.root / "runs" / run_id / "run.json"

    def new_run(self, spec: dict, digest: str, run_id: str | None = None) -> dict:
        """A run written down; `run_id` names it after a run of the caller's (the server's), else a new id."""
        run_id = run_id or time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        record = {"id": run_id, "created": time.time(), "status": WAITING, "spec": spec, "digest": digest,
                  "jobs": []}
        with self._locked():
            _write(self._run_file(run_id), record)
        return record

    def run(self, run_id: str) -> dict | None:
        try:
            return json.loads(self._run_file(run_id).read_text())
        except (OSError, ValueError):
            return None

    def runs(self) -> list[dict]:
        """Every run, newest first."""
        found = (self.run(p.name) for p in (self.root / "runs").glob("*") if p.is_dir())
        return sorted((r for r in found if r), key=lambda r: r["created"], reverse=True)

    def update(self, run_id: str, change: Callable[[dict], Any]) -> dict:
        """Read the run, apply `change` to it, write it back atomically, all under the lock."""
        with self._locked():
            record = self.run(run_id)
            change(record)
            _write(self._run_file(run_id), record)
        return record

    def update_job(self, run_id: str, display_name: str, **fields: Any) -> None:
        def change(record: dict) -> None:
            for job in record["jobs"]:
                if job["display_name"] == display_name:
                    job.update(fields)
        self.update(run_id, change)

    def drop_job(self, run_id: str, display_name: str) -> None:
        self.update(run_id, lambda r: r.__setitem__("jobs", [j for j in r["jobs"]
                                                             if j["display_name"] != display_name]))

    def covering(self, keys: set[str]) -> dict[str, tuple[str, dict]]:
        """For each key already in an unfinished job of any run: (run id, job)."""
        found: dict[str, tuple[str, dict]] = {}
        for record in self.runs():
            for job in record["jobs"]:
                if unfinished(job):
                    for key in keys.intersection(job["keys"]):
                        found[key] = (record["id"], job)
        return found

    # -- answers -----------------------------------------------------------------------------------

    def _answer_file(self, key: str) -> Path:
        return self.root / "answers" / key[:2] / f"{key}.json"

    def answer(self, key: str) -> dict | None:
        try:
            return json.loads(self._answer_file(key).read_text())
        except (OSError, ValueError):
            return None

    def put_answer(self, key: str, outcome: dict) -> None:
        _write(self._answer_file(key), outcome)

    def drop_answers(self, keys) -> None:
        for key in keys:
            path = self._answer_file(key)
            path.unlink(missing_ok=True)
            with suppress(OSError):
                path.parent.rmdir()  # once empty

    def drop_run(self, run_id: str) -> None:
        shutil.rmtree(self._run_file(run_id).parent, ignore_errors=True)


def _write(path: Path, data: dict) -> None:
    """Write then rename: a crash leaves the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
