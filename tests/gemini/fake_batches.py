"""The fake Gemini's Batch API and Files API, as google-genai's `client.batches` and `client.files` use them.

Routes (Developer API, `v1beta` or `v1`):
  POST   /{v}/models/{model}:batchGenerateContent   inline requests, or `fileName` of an uploaded JSONL
  GET    /{v}/batches/{id}    GET /{v}/batches      POST /{v}/batches/{id}:cancel    DELETE /{v}/batches/{id}
  POST   /upload/{v}/files    the resumable upload: `start` answers with an upload URL, then `upload, finalize`
  GET    /{v}/files/{id}      GET /{v}/files/{id}:download?alt=media (results files only, as at Google)

A job is an Operation whose `metadata` is the batch (`state` BATCH_STATE_PENDING, RUNNING, SUCCEEDED,
FAILED, CANCELLED or EXPIRED); when it succeeds, `metadata.output` holds `inlinedResponses` (an inline
job) or a `responsesFile` of JSONL lines `{"key", "response"}` or `{"key", "error"}` (a file job).
Each request is answered exactly as generateContent would answer it; a request the server would refuse
becomes that item's `error` (a google.rpc.Status with its gRPC code), the rest of the job still succeeds.

Control from a test: `delay` (seconds from create to the end, half PENDING, half RUNNING), `hold()` /
`release()` (jobs stay RUNNING until released), `end_with(state, ...)` (the next jobs' end states),
`fail_requests(text, fault)` (every request whose prompt contains `text` gets the generateContent fault),
`lose_next_create()` (the job is made but the answer is a 503, as when a response is lost on the way).
A model the fake marks `batch=False` is refused at create; a request with Google Search grounding fails its item.
"""
from __future__ import annotations

import datetime
import itertools
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field

END_STATES = ("SUCCEEDED", "FAILED", "CANCELLED", "EXPIRED")
INLINE_LIMIT = 20 * 1024 * 1024  # bytes in one create request, as Google documents for inline jobs
GRPC = {400: (3, "INVALID_ARGUMENT"), 403: (7, "PERMISSION_DENIED"), 404: (5, "NOT_FOUND"),
        429: (8, "RESOURCE_EXHAUSTED"), 500: (13, "INTERNAL"), 503: (14, "UNAVAILABLE")}
_CREATE = re.compile(r"^/(v1|v1beta)/models/([^/:]+):batchGenerateContent$")
_JOB = re.compile(r"^/(v1|v1beta)/batches/([^/:?]+)(:cancel)?$")
_LIST = re.compile(r"^/(v1|v1beta)/batches$")
_UPLOAD = re.compile(r"^/upload/(v1|v1beta)/files$")
_FILE = re.compile(r"^(?:/download)?/(v1|v1beta)/files/([^/:?]+)(:download)?$")


@dataclass
class Job:
    name: str
    model: str
    display_name: str
    keys: list[str]                # one per request, in order (the request's metadata key, or its line's key)
    answers: list[dict]            # per request: {"response": ...} or {"error": ...}, as Google returns them
    from_file: bool
    created: float = field(default_factory=time.monotonic)
    created_at: str = field(default_factory=lambda: _now())
    end: str = "SUCCEEDED"
    ended: str | None = None       # set when cancelled early
    results_file: str | None = None


@dataclass
class StoredFile:
    name: str
    display_name: str
    mime_type: str
    data: bytes
    source: str                    # UPLOADED or GENERATED (only generated files can be downloaded)


class FakeBatches:
    """The batch and file state of one fake server; `gemini` answers each request as generateContent would."""

    def __init__(self, gemini):
        self.gemini = gemini
        gemini.routes.append(self.route)
        self.delay = 0.0
        self.inline_limit = INLINE_LIMIT
        self.jobs: dict[str, Job] = {}
        self.files: dict[str, StoredFile] = {}
        self.creates: list[Job] = []             # every job created, in order: nothing may be submitted twice
        self.uploads: list[StoredFile] = []
        self.calls: list = []                    # every batched request the fake accepted (fake_gemini.Call)
        self._held = False
        self._lose_create = False
        self._ends: deque[str] = deque()
        self.request_faults: list[tuple[str, str]] = []  # (text in the prompt, fault)
        self._pending_uploads: dict[str, dict] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # -- control from tests ------------------------------------------------------------------------

    def hold(self) -> None:
        """Jobs created or running stay RUNNING until `release()`."""
        self._held = True

    def release(self) -> None:
        self._held = False
        self._lose_create = False

    def end_with(self, *states: str) -> None:
        """The next jobs end in these states, one each (then SUCCEEDED)."""
        assert set(states) <= set(END_STATES), f"end states are {END_STATES}"
        self._ends.extend(states)

    def fail_requests(self, text: str, fault: str) -> None:
        """Every batched request whose prompt contains `text` gets `fault` (one of fake_gemini.FAULTS)."""
        self.request_faults.append((text, fault))

    def lose_next_create(self) -> None:
        self._lose_create = True

    def state(self, job: Job) -> str:
        if job.ended:
            return job.ended
        age = time.monotonic() - job.created
        if age < self.delay / 2:
            return "PENDING"
        if self._held or age < self.delay:
            return "RUNNING"
        return job.end

    # -- routing -----------------------------------------------------------------------------------

    def route(self, method: str, path: str, headers: dict, raw: bytes, base_url: str):
        """(status, body, headers) for a batch or file route; None for any other path."""
        bare = path.split("?", 1)[0]
        if method == "POST" and "upload_id=" in path and bare.startswith("/upload/"):
            return self._upload_chunk(path, headers, raw, base_url)
        matched = next(((kind, m) for kind, pattern in (("create", _CREATE), ("job", _JOB), ("list", _LIST),
                                                          ("upload", _UPLOAD), ("file", _FILE))
                        if (m := pattern.match(bare))), None)
        if matched is None:
            return None
        if headers.get("x-goog-api-key") != self.gemini.key:
            return _status(400, "API key not valid. Please pass a valid API key.")
        kind, match = matched
        if kind == "create" and method == "POST":
            return self._create(match.group(2), raw)
        if kind == "job" and method == "GET" and not match.group(3):
            return self._get(match.group(2))
        if kind == "job" and method == "POST" and match.group(3):
            return self._cancel(match.group(2))
        if kind == "job" and method == "DELETE":
            return (200, {}, {}) if self.jobs.pop(f"batches/{match.group(2)}", None) else self._missing(path)
        if kind == "list" and method == "GET":
            return self._list(path)
        if kind == "upload" and method == "POST":
            return self._upload_start(headers, raw, base_url)
        if kind == "file" and method == "GET":
            return self._file(match.group(2), bool(match.group(3)), base_url)
        return _status(404, f"no route for {method} {bare}")

    # -- batches -----------------------------------------------------------------------------------

    def _create(self, model: str, raw: bytes):
        if len(raw) > self.inline_limit:
            return _status(400, f"Request payload size exceeds the limit: {self.inline_limit} bytes.")
        try:
            batch = json.loads(raw)["batch"]
            source = batch["inputConfig"]
        except (ValueError, KeyError, TypeError):
            return _status(400, "* BatchGenerateContentRequest.batch.input_config: input_config is required")
        if not batch.get("displayName"):
            return _status(400, "* BatchGenerateContentRequest.batch.display_name: display_name is required")
        if "fileName" in source:
            stored = self.files.get(source["fileName"])
            if stored is None:
                return _status(404, f"File {source['fileName']} not found.")
            try:
                lines = [json.loads(line) for line in stored.data.decode().splitlines() if line.strip()]
                items = [(str(line["key"]), line["request"]) for line in lines]
            except (ValueError, KeyError, TypeError) as exc:
                return _status(400, f"Invalid JSONL input file: {exc}")
        else:
            requests = (source.get("requests") or {}).get("requests") or []
            items = [(str((r.get("metadata") or {}).get("key", i)), r.get("request") or {})
                     for i, r in enumerate(requests)]
        if not items:
            return _status(400, "* BatchGenerateContentRequest.batch: the batch has no requests")
        if not (self.gemini.model_spec(model) or {}).get("batch", True):
            return _status(400, f"models/{model} is not supported for batchGenerateContent.")
        with self._lock:
            job = Job(name=f"batches/fake{next(self._ids):04d}", model=model, display_name=batch["displayName"],
                      keys=[key for key, _ in items], answers=[self._answer(model, r) for _, r in items],
                      from_file="fileName" in source, end=self._ends.popleft() if self._ends else "SUCCEEDED")
            self.jobs[job.name] = job
            self.creates.append(job)
            lost, self._lose_create = self._lose_create, False
        if lost:
            return _status(503, "The service is currently unavailable.")
        return 200, self._operation(job, "PENDING"), {}  # just queued, however short the delay

    def _answer(self, model: str, request: dict) -> dict:
        """What generateContent would answer this request, as a batch item (a refusal is an `error`)."""
        prompt = " ".join(p.get("text", "") for c in request.get("contents") or [] for p in c.get("parts", []))
        fault = next((f for text, f in self.request_faults if text in prompt), None)
        if request.get("tools"):  # grounding is not offered in batch mode (as flowbanana's model table assumes)
            return {"error": {"code": 3, "message": "Search as tool is not supported in batch mode.",
                              "status": "INVALID_ARGUMENT"}}
        status, body = self.gemini.answer_request(model, request, fault, record=self.calls)
        if status == 200:
            return {"response": body}
        error = body["error"]
        code, name = GRPC.get(status, (2, "UNKNOWN"))
        return {"error": {"code": code, "message": error["message"], "status": name}}  # the SDK takes no details

    def _get(self, job_id: str):
        job = self.jobs.get(f"batches/{job_id}")
        return (200, self._operation(job), {}) if job else self._missing(f"batches/{job_id}")

    def _cancel(self, job_id: str):
        job = self.jobs.get(f"batches/{job_id}")
        if job is None:
            return self._missing(f"batches/{job_id}")
        if self.state(job) not in END_STATES:
            job.ended = "CANCELLED"
        return 200, {}, {}

    def _list(self, path: str):
        query = dict(p.split("=", 1) for p in path.partition("?")[2].split("&") if "=" in p)
        size = int(query.get("pageSize", 50))
        start = int(query.get("pageToken", 0) or 0)
        names = list(self.jobs)[::-1]  # newest first
        page = [self._operation(self.jobs[n]) for n in names[start:start + size]]
        body = {"operations": page}
        if start + size < len(names):
            body["nextPageToken"] = str(start + size)
        return 200, body, {}

    def _operation(self, job: Job, state: str | None = None) -> dict:
        state = state or self.state(job)
        done = state in END_STATES
        answered = len(job.answers) if state == "SUCCEEDED" else 0
        failed = sum("error" in a for a in job.answers) if answered else 0
        metadata = {"@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatch",
                    "name": job.name, "model": f"models/{job.model}", "displayName": job.display_name,
                    "createTime": job.created_at, "updateTime": _now(), "state": f"BATCH_STATE_{state}",
                    "batchStats": {"requestCount": str(len(job.answers)),
                                   "successfulRequestCount": str(answered - failed),
                                   "failedRequestCount": str(failed),
                                   "pendingRequestCount": str(len(job.answers) - answered)}}
        operation = {"name": job.name, "metadata": metadata}
        if done:
            metadata["endTime"] = _now()
            operation["done"] = True
        if state == "SUCCEEDED":
            output = self._output(job)
            metadata["output"] = output
            operation["response"] = {"@type": "type.googleapis.com/google.ai.generativelanguage.v1beta."
                                              "GenerateContentBatchOutput", **output}
        elif done:
            operation["error"] = {"code": 13 if state == "FAILED" else 1 if state == "CANCELLED" else 4,
                                  "message": {"FAILED": "The batch failed.", "CANCELLED": "The batch was cancelled.",
                                              "EXPIRED": "The batch expired: it did not finish within 48 hours."
                                              }[state]}
        return operation

    def _output(self, job: Job) -> dict:
        if not job.from_file:
            return {"inlinedResponses": {"inlinedResponses": [
                {**answer, "metadata": {"key": key}} for key, answer in zip(job.keys, job.answers)]}}
        if job.results_file is None:
            lines = "".join(json.dumps({"key": key, **answer}) + "\n" for key, answer in zip(job.keys, job.answers))
            stored = StoredFile(f"files/batch-{job.name.split('/')[-1]}", f"{job.display_name} results",
                                "application/jsonl", lines.encode(), "GENERATED")
            self.files[stored.name] = stored
            job.results_file = stored.name
        return {"responsesFile": job.results_file}

    # -- files -------------------------------------------------------------------------------------

    def _upload_start(self, headers: dict, raw: bytes, base_url: str):
        if headers.get("x-goog-upload-protocol") != "resumable" or headers.get("x-goog-upload-command") != "start":
            return _status(400, "Only resumable uploads are supported.")
        try:
            meta = (json.loads(raw or b"{}").get("file") or {})
        except ValueError:
            return _status(400, "Invalid JSON payload.")
        upload_id = f"up{next(self._ids):04d}"
        self._pending_uploads[upload_id] = {
            "meta": meta, "data": bytearray(),
            "mime": headers.get("x-goog-upload-header-content-type") or meta.get("mimeType", "")}
        url = f"{base_url}/upload/v1beta/files?upload_id={upload_id}&upload_protocol=resumable"
        return 200, b"", {"X-Goog-Upload-URL": url, "X-Goog-Upload-Status": "active"}

    def _upload_chunk(self, path: str, headers: dict, raw: bytes, base_url: str):
        upload_id = re.search(r"upload_id=([^&]+)", path).group(1)
        pending = self._pending_uploads.get(upload_id)
        if pending is None or int(headers.get("x-goog-upload-offset", -1)) != len(pending["data"]):
            return _status(400, "Unknown upload, or a chunk at the wrong offset.")
        pending["data"] += raw
        if "finalize" not in headers.get("x-goog-upload-command", ""):
            return 200, b"", {"X-Goog-Upload-Status": "active"}
        del self._pending_uploads[upload_id]
        meta = pending["meta"]
        name = meta.get("name") or f"files/fakefile{next(self._ids):04d}"
        stored = StoredFile(name, meta.get("displayName", ""), pending["mime"], bytes(pending["data"]), "UPLOADED")
        self.files[name] = stored
        self.uploads.append(stored)
        return 200, {"file": self._file_json(stored, base_url)}, {"X-Goog-Upload-Status": "final"}

    def _file(self, file_id: str, download: bool, base_url: str):
        stored = self.files.get(f"files/{file_id}")
        if stored is None:
            return self._missing(f"files/{file_id}")
        if not download:
            return 200, self._file_json(stored, base_url), {}
        if stored.source != "GENERATED":
            return _status(400, "Only generated files can be downloaded.")
        return 200, stored.data, {"Content-Type": "application/octet-stream"}

    @staticmethod
    def _file_json(stored: StoredFile, base_url: str) -> dict:
        info = {"name": stored.name, "displayName": stored.display_name, "mimeType": stored.mime_type,
                "sizeBytes": str(len(stored.data)), "createTime": _now(), "state": "ACTIVE",
                "uri": f"{base_url}/v1beta/{stored.name}", "source": stored.source}
        if stored.source == "GENERATED":
            info["downloadUri"] = f"{base_url}/download/v1beta/{stored.name}:download?alt=media"
        return info

    @staticmethod
    def _missing(what: str):
        return _status(404, f"Requested entity was not found: {what}.")


def _status(code: int, message: str):
    name = GRPC.get(code, (2, "UNKNOWN"))[1]
    return code, {"error": {"code": code, "message": message, "status": name}}, {}


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
