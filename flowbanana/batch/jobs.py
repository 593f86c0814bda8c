"""Gemini's Batch and Files APIs through google-genai's `client.aio.batches` and `client.aio.files`.

A job goes inline while its requests stay under Google's inline limit, else as a JSONL file uploaded
through the Files API (at most 2 GB: the runner splits a model's calls into as many jobs as that takes). Creating a job is never simply retried: after a failure whose outcome is unknown
(a timeout, a 5xx) the job is looked for by its display name first, so one job is never made twice.
"""
from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Awaitable, Callable

from ..node_api import NodeError
from ..providers.gemini import GeminiProvider
from ..providers.keys import scrub
from ..providers.retry import RETRY_STATUS
from .wire import inlined, outcome_of_inlined

log = logging.getLogger("flowbanana.batch")

INLINE_LIMIT = 19 * 1024 * 1024  # Google takes inline jobs up to 20 MB; the rest of the request needs room too
FILE_LIMIT = 2_000_000_000       # the Files API takes files up to 2 GB: a model's calls beyond it go as several jobs
LIST_PAGES = 10                  # how far back (pages of 100 jobs) a job is looked for by display name


class BatchError(NodeError):
    """The Batch API refused or lost something; `message` and `hint` say what and what to do."""


class BatchApi:
    def __init__(self, gemini: GeminiProvider):
        self.gemini = gemini  # its SDK client, retry policy and key (to blot out of messages)

    async def submit(self, model: str, requests: Path, display_name: str):
        """Create one job from a JSONL file of requests; returns the SDK's BatchJob and "inline" or "file"."""
        from google.genai import types
        aio = await self.gemini._aio()
        if requests.stat().st_size <= INLINE_LIMIT:
            source, src = "inline", [inlined(line) for line in requests.read_text().splitlines() if line]
        else:
            uploaded = await self._call(f"uploading the requests of {display_name!r}", lambda: aio.files.upload(
                file=str(requests), config=types.UploadFileConfig(display_name=display_name, mime_type="jsonl")))
            source, src = "file", uploaded.name
        config = types.CreateBatchJobConfig(display_name=display_name)
        for attempt in range(1, self.gemini.retry.attempts + 1):
            try:
                return await aio.batches.create(model=model, src=src, config=config), source
            except Exception as exc:
                if not _transient(exc) or attempt == self.gemini.retry.attempts:
                    raise self._error(f"creating batch job {display_name!r}", exc) from None
            found = await self.find(display_name)  # the request may have reached Google after all
            if found is not None:
                return found, source
            await asyncio.sleep(self.gemini.retry.delay(attempt))
        raise AssertionError("unreachable")

    async def get(self, name: str):
        aio = await self.gemini._aio()
        return await self._call(f"checking batch job {name}", lambda: aio.batches.get(name=name))

    async def find(self, display_name: str):
        """The newest job created under `display_name`, or None."""
        aio = await self.gemini._aio()
        pager = await self._call("listing batch jobs", lambda: aio.batches.list(config={"page_size": 100}))
        seen = 0
        async for job in pager:
            if job.display_name == display_name:
                return job
            seen += 1
            if seen >= 100 * LIST_PAGES:
                break
        return None

    async def results(self, job, keys: list[str], scratch: Path) -> dict[str, dict]:
        """Each key's outcome in a finished job: {"response": ...} or {"error": ...}."""
        dest = job.dest
        if dest is not None and dest.inlined_responses is not None:
            found = {}
            for i, response in enumerate(dest.inlined_responses):
                key = (response.metadata or {}).get("key") or (keys[i] if i < len(keys) else None)
                if key:
                    found[key] = outcome_of_inlined(response)
            return found
        if dest is None or not dest.file_name:
            return {}
        aio = await self.gemini._aio()
        scratch.mkdir(parents=True, exist_ok=True)
        path = scratch / f"{job.name.replace('/', '-')}.jsonl"
        await self._call(f"downloading the results of {job.name}",
                         lambda: aio.files.download(file=dest.file_name, destination=str(path)))
        found = {}
        try:
            with path.open(encoding="utf-8") as lines:
                for line in lines:
                    if line.strip():
                        row = json.loads(line)
                        found[str(row.get("key"))] = {k: v for k, v in row.items() if k in ("response", "error")}
        finally:
            path.unlink(missing_ok=True)
        return found

    async def _call(self, what: str, make: Callable[[], Awaitable]):
        """`make()`, retried while Gemini is busy or unreachable."""
        for attempt in range(1, self.gemini.retry.attempts + 1):
            try:
                return await make()
            except Exception as exc:
                if not _transient(exc) or attempt == self.gemini.retry.attempts:
                    raise self._error(what, exc) from None
                log.info("%s: %s; retrying", what, scrub(str(exc), self.gemini._secret))
            await asyncio.sleep(self.gemini.retry.delay(attempt))
        raise AssertionError("unreachable")

    def _error(self, what: str, exc: Exception) -> BatchError:
        from google.genai import errors
        detail = scrub(str(getattr(exc, "message", None) or exc), self.gemini._secret)[:300]
        if isinstance(exc, errors.APIError):
            said = f"Gemini answered {exc.code} {exc.status or ''}: {detail}"
            if exc.code == 404:
                return BatchError(f"{what}: {said}", "Google keeps batch jobs and their results for a limited "
                                                     "time; run again with --batch to submit the calls again.")
            if exc.code in (401, 403) or (exc.code == 400 and "api key" in detail.lower()):
                return BatchError(f"{what}: {said}", "Check that the key is valid and its project has the Gemini "
                                                     "API (and billing, which the Batch API needs) enabled.")
            return BatchError(f"{what}: {said}")
        return BatchError(f"{what}: could not reach Gemini ({type(exc).__name__}: {detail})",
                          "Check the network connection, then run again: nothing is submitted twice.")


def _transient(exc: Exception) -> bool:
    from google.genai import errors
    if isinstance(exc, errors.APIError):
        return exc.code in RETRY_STATUS
    return isinstance(exc, (ConnectionError, OSError, TimeoutError)) or type(exc).__module__.split(".")[0] in (
        "aiohttp", "httpx", "httpx2")


def state_of(job) -> str:
    """"RUNNING", "SUCCEEDED", ... from the SDK's JOB_STATE_ names."""
    state = getattr(job.state, "value", None) or str(job.state or "JOB_STATE_UNSPECIFIED")
    return state.removeprefix("JOB_STATE_")
