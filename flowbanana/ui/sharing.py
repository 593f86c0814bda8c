"""Sharing from the editor: open an image that carries its workflow or a .zip bundle, and export a bundle.
A plain picture dropped on the canvas becomes a Load image node for it instead.

Files reach the server by HTTP POST (a drop on the canvas, File > Open), never through the websocket;
`sources.open_workflow` does the reading and `bundle.py` every check a bundle from a stranger needs.
"""
from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from fastapi import HTTPException, Request
from fastapi.responses import Response
from nicegui import app, background_tasks, run, ui

from ..bundle import export_bundle
from ..errors import Problem, WorkflowInvalid
from ..server.uploads import UploadRefused
from ..sources import open_workflow
from ..workflow import Workflow
from .library import file_name
from .runner import EditorConfig
from .tab import TABS, Tab, read_body
from .uploads import IMAGE_SUFFIXES, store_upload

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
    incoming = config.media.root / "incoming" / uuid.uuid4().hex  # a folder of its own: the file keeps its name,
    incoming.mkdir(parents=True)                                   # which is what every message about it says
    shown = Path(name).name
    path = incoming / (shown if 0 < len(shown.encode()) <= 200 and "\0" not in shown else f"dropped{suffix}")
    try:
        path.write_bytes(data)
        bundles = config.cache_dir / "bundles" if config.cache_dir else None
        return open_workflow(path, bundles)
    finally:
        shutil.rmtree(incoming, ignore_errors=True)


async def open_shared(editor: Tab, name: str, data: bytes, at: tuple[float, float] | None = None) -> None:
    """Open what was dropped or picked, after asking about unsaved changes; problems become a notice. A picture
    dropped `at` a point of the canvas that carries no workflow becomes a Load image node there; one whose embedded
    workflow cannot be read is a message saying why."""
    picture = Path(name).suffix.lower() in IMAGE_SUFFIXES
    try:
        if picture and Path(name).suffix.lower() not in SHARED_SUFFIXES:
            raise WorkflowInvalid([Problem("no_workflow", f"{name} cannot carry a flowbanana workflow.")])
        workflow = await run.io_bound(read_shared, editor.config, name, data)
    except WorkflowInvalid as exc:  # a plain picture becomes a node; one whose workflow is damaged is said so
        if picture and at is not None and exc.problems[0].code == "no_workflow":
            await load_image_node(editor, name, data, at)
            return
        editor.notice(f"Cannot open {name}: {exc.problems[0]}", "negative", timeout=9000)
        return
    if workflow.source and workflow.source.suffix.lower() != ".json":
        workflow.source = None  # an image's workflow is saved as a new file, never over the image
    with editor.header:
        if await editor.confirm_discard():
            editor.open_workflow(workflow)
            editor.notice(f"Opened “{workflow.name}” from {name}", "positive", timeout=2500)


async def load_image_node(editor: Tab, name: str, data: bytes, at: tuple[float, float]) -> None:
    """A Load image node at `at` reading the picture, kept where the workflow's runs may read it (as an upload)."""
    try:
        value = await run.io_bound(store_upload, name, data, editor.doc.workflow.source, editor.config.uploads_dir)
    except UploadRefused as exc:
        editor.notice(f"Cannot use {name}: {exc}", "negative", timeout=9000)
        return
    with editor.header:
        with editor.doc.group():
            node_id = editor.doc.add_node("image.load", *at)
            editor.doc.set_param(node_id, "path", value)
        editor.refresh(select=[node_id])


def add_open_route() -> None:
    """POST /flowbanana/open?tab=&name=[&x=&y=] with the file as the body (an image with a workflow, or a bundle;
    a picture dropped at x, y on the canvas)."""

    @app.post(OPEN_ROUTE)
    async def receive(request: Request, tab: str, name: str, x: float | None = None,
                      y: float | None = None) -> Response:
        editor = TABS.get(tab)
        if editor is None:
            raise HTTPException(403, "unknown editor tab; reload the page")
        dropped = x is not None and y is not None
        suffix = Path(name).suffix.lower()
        if suffix not in SHARED_SUFFIXES and not (dropped and suffix in IMAGE_SUFFIXES):
            raise HTTPException(415, "drop a workflow .json, a picture, or a .zip bundle")
        data = await read_body(request, MAX_SHARED_BYTES, "files")
        background_tasks.create(open_shared(editor, Path(name).name, data, (x, y) if dropped else None),
                                name="flowbanana-open-shared")
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
