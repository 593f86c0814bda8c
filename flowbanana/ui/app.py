"""`flowbanana ui`: the editor's page, its routes for result images and uploads, and `ui.run`."""
from __future__ import annotations

import re
from pathlib import Path

from fastapi import HTTPException, Request
from fastapi.responses import FileResponse, PlainTextResponse
from nicegui import app, ui

from ..cache import default_cache_dir
from ..catalogue import Catalogue
from .editor import FILES_ROUTE, Editor
from .mask_editor import add_mask_route
from .media import ROUTE, MediaStore
from .runner import EditorConfig
from .sharing import add_open_route
from .tab import TABS, Tab, read_body

HERE = Path(__file__).parent
MAX_UPLOAD = 50 * 1024 * 1024
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"}


def setup(config: EditorConfig) -> None:
    """Register the page and routes (once per process) on NiceGUI's app."""
    ui.add_css(HERE / "flowbanana_canvas.css", shared=True)
    ui.add_css(HERE / "flowbanana_dialogs.css", shared=True)

    @ui.page("/", title="flowbanana")
    def index() -> None:
        Editor(config)

    @app.get(ROUTE + "/{name}")
    def media(name: str, download: int = 0) -> FileResponse:
        path = config.media.path(name)
        if path is None:
            raise HTTPException(404, "no such result image (results last as long as the editor runs)")
        headers = {"Cache-Control": "private, max-age=31536000, immutable"}
        return FileResponse(path, headers=headers, filename=name if download else None,
                            content_disposition_type="attachment" if download else "inline")

    @app.get(FILES_ROUTE + "/{tab}/{index}")
    def run_file(tab: str, index: int) -> FileResponse:
        editor = TABS.get(tab)
        path = editor.run_file(index) if editor else None
        if path is None:
            raise HTTPException(404, "no such file from this tab's last run")
        return FileResponse(path, filename=path.name)

    @app.post("/flowbanana/upload")
    async def upload(request: Request, tab: str, node: str, param: str, name: str) -> PlainTextResponse:
        editor = TABS.get(tab)
        if editor is None:
            raise HTTPException(403, "unknown editor tab; reload the page")
        data = await read_body(request, MAX_UPLOAD, "files")
        node_type = editor.doc.workflow.nodes.get(node) and editor.doc.node_type(editor.doc.workflow.nodes[node])
        spec = node_type.param(param) if node_type else None
        if spec is None or spec.kind != "file":
            raise HTTPException(400, f"node {node!r} has no file param {param!r}")
        suffix = Path(name).suffix.lower()
        if spec.file_types and suffix not in spec.file_types:
            raise HTTPException(415, f"{param} takes {', '.join(spec.file_types)} files, not {suffix or 'this'}")
        value = store_upload(editor, name, data)
        editor.uploaded(node, param, value)
        return PlainTextResponse(value)

    add_mask_route()
    add_open_route()
    app.on_shutdown(config.media.close)


def store_upload(editor: Tab, name: str, data: bytes) -> str:
    """Keep an uploaded file where the workflow may read it; return the param value that points at it.

    Next to a saved workflow it goes into `inputs/` (a relative path travels with the file);
    for an unsaved one into the editor's uploads folder, which runs from the editor may read.
    """
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(name).name).strip("-.") or "upload"
    source = editor.doc.workflow.source
    folder = source.parent / "inputs" if source else editor.config.uploads_dir
    if Path(safe).suffix.lower() in IMAGE_SUFFIXES:
        from ..server.uploads import save_upload  # checks the image whole, names it by its content
        path = save_upload(data, folder, 100_000_000)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        path, n = folder / safe, 1
        while path.exists() and path.read_bytes() != data:  # never replace a different file of that name
            n += 1
            path = folder / f"{Path(safe).stem}-{n}{Path(safe).suffix}"
        path.write_bytes(data)
    return str(path.relative_to(source.parent)) if source else str(path)


def main(file: Path | None, host: str, port: int, workflows: Path, out: Path, catalogue: Catalogue,
         cache_dir: Path | None = None) -> None:
    from ..server import ServerSettings, add_api

    media = MediaStore()
    config = EditorConfig(catalogue=catalogue, workflows_dir=workflows.resolve(), out_root=out.resolve(),
                          cache_dir=cache_dir or default_cache_dir(), media=media,
                          uploads_dir=(out / "uploads").resolve(), file=file)
    setup(config)
    # the HTTP API beside the editor, and its front door (Host/Origin checks, a token off loopback) for both
    # editor runs go through its run queue too (config.service), so they share its history and limits
    config.service = add_api(app, ServerSettings(host=host, port=port, workflows_dir=workflows,
                                                 runs_dir=config.runs_dir, cache_dir=config.cache_dir), catalogue)
    settings = config.service.settings
    print(f"flowbanana editor on {settings.base_url}/ (API at /api, docs at /docs)", flush=True)
    if settings.token:
        print(f"token: {settings.token}  (open {settings.base_url}/?token={settings.token})", flush=True)
    ui.run(host=host, port=port, reload=False, show=False, title="flowbanana", dark=True,
           favicon="🍌", show_welcome_message=False, reconnect_timeout=10.0)
