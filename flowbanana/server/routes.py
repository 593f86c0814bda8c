"""The /api routes: a thin HTTP skin over RunService, the catalogue, validation and the workflows folder."""
from __future__ import annotations

from typing import Any, AsyncIterator
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, ConfigDict, Field

from .. import __version__
from ..errors import Problem, WorkflowInvalid
from ..subgraph import catalogue_json, saved_nodes
from ..validation import validate
from ..workflow import from_dict, load
from .endpoints import Endpoints
from .runs import QueueFull, RunService
from .security import UPLOAD_TYPES
from .store import RunRecord
from .uploads import UploadRefused, save_upload

API_PREFIX = "/api"
_WORKFLOW_BODY = Body(description="A workflow document (format flowbanana/workflow).",
                      examples=[{"format": "flowbanana/workflow", "version": 2, "name": "hello",
                                 "nodes": {"t": {"type": "text.text", "params": {"text": "hi"}}}}])


class RunOptionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provider: str | None = Field(None, description="Image provider; left out: the server's default.")
    no_cache: bool = Field(False, description="Run every node; read and write no cache.")
    force: list[str] = Field(default_factory=list, description="Nodes to run again even when cached.")
    batch: bool = Field(False, description="Send the model calls as Gemini Batch API jobs: half the price, done "
                                           "within 24 hours; the run waits for them without holding a run slot.")
    direct: list[str] = Field(default_factory=list, description="With batch: nodes whose calls go to Gemini "
                              "directly, at the full price (those the Batch API cannot take).")


class RunRequest(BaseModel):
    """A workflow given inline, or by the name of a saved one, plus input overrides and options."""
    model_config = ConfigDict(extra="forbid")
    workflow: dict[str, Any] | None = Field(None, description="The workflow document itself.")
    name: str | None = Field(None, description="A saved workflow in the workflows folder, instead of `workflow`.")
    inputs: dict[str, Any] = Field(default_factory=dict, description="Workflow inputs or NODE.PARAM -> value.")
    options: RunOptionsIn = Field(default_factory=RunOptionsIn)


def invalid(exc: WorkflowInvalid, status: int = 422) -> JSONResponse:
    """Every problem at once, shaped exactly like `flowbanana validate --json`."""
    return JSONResponse({"detail": "the workflow is not valid", "problems": [p.to_json() for p in exc.problems]},
                        status_code=status)


def api_router(service: RunService, endpoints: Endpoints) -> APIRouter:
    """Routes to mount under /api; every handler reads and writes through `service` (saved workflows' own
    endpoints through `endpoints`)."""
    settings = service.settings
    router = APIRouter(tags=["flowbanana"])

    async def get_record(run_id: str) -> RunRecord:  # async: in-memory, no trip through the thread pool
        try:
            return service.get(run_id)
        except KeyError:
            raise HTTPException(404, f"no run {run_id!r}; GET /api/runs lists them.") from None

    def runs_url(request: Request) -> str:  # not url_for: it tries every route in turn
        return f"{str(request.base_url).rstrip('/')}{API_PREFIX}/runs"

    def run_url(record: RunRecord, request: Request) -> str:
        return f"{runs_url(request)}/{record.id}"

    def run_json(record: RunRecord, request: Request) -> dict[str, Any]:
        base = run_url(record, request)
        data = service.public_json(record)
        data["files"] = [{"name": f, "url": f"{base}/files/{f}"} for f in record.files]
        kept = set(record.files)
        for node in data["nodes"].values():  # each node's own files, to download beside its outputs
            written = (node.get("meta") or {}).get("files") or []
            node["files"] = [{"name": f, "url": f"{base}/files/{f}"} for f in written if f in kept]
        for output in data["outputs"].values():  # the workflow's named outputs, once their node has made them
            output["value"] = (data["nodes"].get(output["node"], {}).get("outputs") or {}).get(output["output"])
        data["links"] = {"self": base, "events": f"{base}/events", "cancel": f"{base}/cancel",
                         "rerun": f"{base}/rerun"}
        return data

    def summary_json(record: RunRecord, base: str) -> dict[str, Any]:
        thumb = service.thumbnail(record.id)
        return {**record.summary(), "url": base, "thumbnail": f"{base}/files/{thumb}" if thumb else None}

    def workflow_path(name: str):
        try:
            return endpoints.path(name)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None

    def queued(record: RunRecord, request: Request) -> JSONResponse:
        return JSONResponse(run_json(record, request), status_code=202, headers={"location": run_url(record, request)})

    @router.get("/health", summary="Whether the server is up")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "flowbanana": __version__}

    @router.get("/nodes", summary="The node catalogue and the saved workflows usable as nodes (as `flowbanana nodes "
                                  "--json --workflows DIR`)")
    def nodes() -> dict[str, Any]:
        return catalogue_json(service.catalogue, saved_nodes(settings.workflows_dir, service.catalogue))

    @router.post("/validate", summary="Every problem in a workflow (as `flowbanana validate --json`)")
    def validate_workflow(workflow: dict[str, Any] = _WORKFLOW_BODY) -> dict[str, Any]:
        try:
            problems = service.problems(workflow)
        except WorkflowInvalid as exc:
            problems = exc.problems
        return {"valid": all(p.severity != "error" for p in problems), "problems": [p.to_json() for p in problems]}

    @router.post("/runs", status_code=202, summary="Queue a run",
                 responses={422: {"description": "The workflow or its inputs are not valid"}})
    async def submit(body: RunRequest, request: Request):
        if (body.workflow is None) == (body.name is None):
            return invalid(WorkflowInvalid([Problem("request", "give either \"workflow\" (the document) or "
                                                               "\"name\" (a saved workflow), not both or neither.")]))
        try:
            if body.name is not None:
                path = workflow_path(body.name)
                if not path.is_file():
                    raise HTTPException(404, f"no saved workflow {body.name!r}; GET /api/workflows lists them.")
                workflow = load(path)
            else:
                workflow = body.workflow
            record = service.submit(workflow, inputs=body.inputs, provider=body.options.provider,
                                    use_cache=not body.options.no_cache, force=body.options.force,
                                    batch=body.options.batch, direct=body.options.direct)
        except WorkflowInvalid as exc:
            return invalid(exc)
        except QueueFull as exc:
            raise HTTPException(429, str(exc), headers={"retry-after": "10"}) from None
        return queued(record, request)

    @router.get("/runs", summary="Past and current runs, newest first")
    async def list_runs(request: Request, limit: int = Query(50, ge=1, le=500),
                        offset: int = Query(0, ge=0)) -> dict[str, Any]:
        records, total = service.list_runs(limit, offset)
        base = runs_url(request)
        return {"runs": [summary_json(r, f"{base}/{r.id}") for r in records], "total": total, "limit": limit,
                "offset": offset, "next": offset + limit if offset + limit < total else None}

    @router.get("/runs/{run_id}", summary="One run: status, nodes, outputs with URLs, usage and cost")
    async def get_run(request: Request, record: RunRecord = Depends(get_record)) -> dict[str, Any]:
        return run_json(record, request)

    @router.get("/runs/{run_id}/events", response_class=EventSourceResponse,
                summary="The run's events as Server-Sent Events, replayed from the start")
    async def run_events(record: RunRecord = Depends(get_record),
                         last_event_id: str | None = Header(None)) -> AsyncIterator[ServerSentEvent]:
        after = int(last_event_id) if last_event_id and last_event_id.isdigit() else -1
        async for event in service.events(record.id, after):
            yield ServerSentEvent(data=event, event=event["event"], id=str(event["seq"]))

    @router.post("/runs/{run_id}/cancel", status_code=202, summary="Stop a queued or running run")
    async def cancel(request: Request, record: RunRecord = Depends(get_record)):
        if not record.active:
            raise HTTPException(409, f"run {record.id} has already ended ({record.status}).")
        return JSONResponse(run_json(service.cancel(record.id), request), status_code=202)

    @router.post("/runs/{run_id}/rerun", status_code=202, summary="Run the same workflow and inputs again")
    async def rerun(request: Request, record: RunRecord = Depends(get_record)):
        try:
            new = service.rerun(record.id)
        except WorkflowInvalid as exc:
            return invalid(exc)
        except QueueFull as exc:
            raise HTTPException(429, str(exc), headers={"retry-after": "10"}) from None
        return JSONResponse(run_json(new, request), status_code=202)

    @router.delete("/runs/{run_id}", status_code=204, summary="Remove an ended run and its files")
    async def delete_run(record: RunRecord = Depends(get_record)) -> Response:
        try:
            await service.delete(record.id)
        except ValueError as exc:
            raise HTTPException(409, str(exc)) from None
        return Response(status_code=204)

    @router.get("/runs/{run_id}/files/{name:path}", summary="Download one output file of a run",
                response_class=FileResponse)
    def run_file(name: str, record: RunRecord = Depends(get_record)):
        try:
            path = service.file(record.id, name)
        except FileNotFoundError:
            raise HTTPException(404, f"run {record.id} has no output file {name!r}.") from None
        inline = path.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp", ".gif")
        return FileResponse(path, content_disposition_type="inline" if inline else "attachment",
                            filename=path.name)

    @router.get("/workflows", summary="The saved workflows, each with its interface and its own run endpoint")
    def workflows(request: Request) -> dict[str, Any]:
        found = []
        for path in sorted(settings.workflows_dir.glob("*.json")):
            entry: dict[str, Any] = {"name": path.stem}
            try:
                endpoint = endpoints.get(path.stem)
                entry |= {"title": endpoint.workflow.name, "description": endpoint.workflow.description,
                          "inputs": {k: v.to_dict() for k, v in endpoint.workflow.inputs.items()},
                          "interface": endpoint.interface.to_json(),
                          "run": f"{str(request.base_url).rstrip('/')}{API_PREFIX}/workflows/{quote(path.stem)}/run"}
            except (ValueError, WorkflowInvalid) as exc:
                entry["problems"] = [p.to_json() for p in exc.problems] if isinstance(exc, WorkflowInvalid) else \
                    [Problem("name", str(exc)).to_json()]
            found.append(entry)
        return {"workflows": found}

    @router.post("/workflows/{name}/run", status_code=202, summary="Run a saved workflow by its own endpoint",
                 description="Each saved workflow also has an operation of its own in this document, with a request "
                             "schema made from its inputs: `POST /api/workflows/NAME/run`.",
                 responses={404: {"description": "No saved workflow of that name"},
                            422: {"description": "An input does not fit, or the workflow is not valid"}})
    async def run_saved(name: str, request: Request, body: dict[str, Any] | None = Body(None)):
        path = workflow_path(name)
        try:
            endpoint = await run_in_threadpool(endpoints.get, path.stem)
            run = endpoint.validate(body)
            record = service.submit(endpoint.workflow, inputs=endpoint.inputs(run), provider=run.options.provider,
                                    use_cache=not run.options.no_cache, force=run.options.force)
        except FileNotFoundError:
            raise HTTPException(404, f"no saved workflow {name!r}; GET /api/workflows lists them.") from None
        except WorkflowInvalid as exc:
            return invalid(exc)
        except QueueFull as exc:
            raise HTTPException(429, str(exc), headers={"retry-after": "10"}) from None
        return queued(record, request)

    @router.get("/workflows/{name}", summary="One saved workflow document")
    def get_workflow(name: str) -> dict[str, Any]:
        path = workflow_path(name)
        if not path.is_file():
            raise HTTPException(404, f"no saved workflow {name!r}; GET /api/workflows lists them.")
        try:
            return load(path).to_dict()
        except WorkflowInvalid as exc:
            return invalid(exc)

    @router.put("/workflows/{name}", summary="Save a workflow document (its validation problems are returned)")
    def put_workflow(name: str, workflow: dict[str, Any] = _WORKFLOW_BODY):
        path = workflow_path(name)
        try:
            model = from_dict(workflow)
        except WorkflowInvalid as exc:
            return invalid(exc)
        existed = path.is_file()
        settings.workflows_dir.mkdir(parents=True, exist_ok=True)
        model.save(path)
        problems = validate(model, service.catalogue)
        return JSONResponse({"name": path.stem, "problems": [p.to_json() for p in problems]},
                            status_code=200 if existed else 201)

    @router.post("/uploads", status_code=201, summary="Upload an input image; returns the name to load it by",
                 openapi_extra={"requestBody": {"required": True, "content": {
                     t: {"schema": {"type": "string", "format": "binary"}} for t in UPLOAD_TYPES}}})
    async def upload(request: Request) -> JSONResponse:
        data = await request.body()
        try:
            path = await run_in_threadpool(save_upload, data, settings.uploads_dir, settings.max_image_pixels)
        except UploadRefused as exc:
            raise HTTPException(exc.status, str(exc)) from None
        return JSONResponse({"path": path.name, "bytes": len(data)}, status_code=201)

    return router
