"""Sharing from the editor: open an image that carries its workflow or a .zip bundle, and export a bundle.

Files reach the server by HTTP POST (a drop on the canvas, File > Open), never through the websocket;
`sources.open_workflow` does the reading and `bundle.py` every check a bundle from a stranger needs.
"""
from __future__ import annotations

import uuid
from pathlib import Path

from fastapi import HTTPException, Request
from fastapi.responses import Response
from nicegui import app, background_tasks, run, ui

from ..bundle import export_bundle
from ..errors import Problem, WorkflowInvalid
from ..sources import open_workflow
from ..workflow import Workflow
from .library import file_name
from .runner import EditorConfig
from .tab import TABS, Tab, read_body

OPEN_ROUTE = "/flowbanana/open"
SHARED_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".zip")
MAX_SHARED_BYTES = 512 * 2**20


def read_shared(config: EditorConfig, name: str, data: bytes) -> Workflow:
    """The workflow inside an image or a bundle someone sent (blocking: call from a thread).

    A bundle unpacks into a folder of its own under the cache, which its runs may read; the sent
    file itself is kept only while it is read.
    """
    suffix = Path(name).suffix.lower()
    if suffix not in SHARED_SUFFIXES:
        raise WorkflowInvalid([Problem("file", f"{name} is not an image or a .zip bundle.")])
    incoming = config.media.root / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    path = incoming / f"{uuid.uuid4().hex}{suffix}"
    path.write_bytes(data)
    try:
        bundles = config.cache_dir / "bundles" if config.cache_dir else None
        return open_workflow(path, bundles)
    finally:
        path.unlink(missing_ok=True)


async def open_shared(editor: Tab, name: str, data: bytes) -> None:
    """Open what was dropped or picked, after asking about unsaved changes; problems become a notice."""
    try:
        workflow = await run.io_bound(read_shared, editor.config, name, data)
    except WorkflowInvalid as exc:
        editor.notice(f"Cannot open {name}: {exc.problems[0]}", "negative", timeout=9000)
        return
    if workflow.source and workflow.source.suffix.lower() != ".json":
        workflow.source = None  # an image's workflow is saved as a new file, never over the image
    with editor.header:
        if await editor.confirm_discard():
            editor.open_workflow(workflow)
            editor.notice(f"Opened “{workflow.name}” from {name}", "positive", timeout=2500)


def add_open_route() -> None:
    """POST /flowbanana/open?tab=&name= with the file as the body (an image with a workflow, or a bundle)."""

    @app.post(OPEN_ROUTE)
    async def receive(request: Request, tab: str, name: str) -> Response:
        editor = TABS.get(tab)
        if editor is None:
            raise HTTPException(403, "unknown editor tab; reload the page")
        if Path(name).suffix.lower() not in SHARED_SUFFIXES:
            raise HTTPException(415, "drop a workflow .json, an image saved by flowbanana, or a .zip bundle")
        data = await read_body(request, MAX_SHARED_BYTES, "files")
        background_tasks.create(open_shared(editor, Path(name).name, data), name="flowbanana-open-shared")
        return Response(status_code=202)


async def download_bundle(editor: Tab) -> None:
    """File > Export bundle: the workflow and every file it references as one .zip, downloaded by URL."""
    editor.prepare_save()
    name = file_name(editor.doc.workflow.name, ".zip")
    folder = editor.config.media.root / "exports" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    try:
        path = await run.io_bound(export_bundle, editor.doc.workflow, editor.config.catalogue, folder / name,
                                  (editor.config.uploads_dir,))
    except (WorkflowInvalid, OSError) as exc:
        problems = getattr(exc, "problems", None)
        message = "; ".join(p.message for p in problems[:3]) if problems else str(exc)
        editor.notice(f"Not exported: {message}", "negative", timeout=9000)
        return
    with editor.header:
        ui.download.file(path, name)
