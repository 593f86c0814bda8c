"""`flowbanana ui`: the editor's page, its routes for result images and uploads, and `ui.run`."""
from __future__ import annotations

from pathlib import Path

from fastapi import HTTPException, Request
from fastapi.responses import FileResponse, PlainTextResponse
from nicegui import app, ui

from ..cache import default_cache_dir
from ..catalogue import Catalogue
from .app_mode import add_app_pages
from .editor import FILES_ROUTE, Editor
from .mask_editor import add_mask_route
from .media import ROUTE, MediaStore
from .runner import EditorConfig
from .sharing import add_open_route
from .tab import TABS, read_body
from .uploads import MAX_UPLOAD, store_upload

HERE = Path(__file__).parent


def setup(config: EditorConfig) -> None:
    """Register the page and routes (once per process) on NiceGUI's app."""
    ui.add_css(HERE / "flowbanana_canvas.css", shared=True)
    ui.add_css(HERE / "flowbanana_annotations.css", shared=True)
    ui.add_css(HERE / "flowbanana_dialogs.css", shared=True)
    ui.add_css(HERE / "flowbanana_app.css", shared=True)

    if not config.app:
        @ui.page("/", title="flowbanana")
        def index() -> None:
            Editor(config)
    add_app_pages(config)

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
        value = store_upload(name, data, editor.doc.workflow.source, editor.config.uploads_dir)
        editor.uploaded(node, param, value)
        return PlainTextResponse(value)

    add_mask_route()
    add_open_route()
    app.on_shutdown(config.media.close)


def main(file: Path | None, host: str, port: int, workflows: Path, out: Path, catalogue: Catalogue,
         cache_dir: Path | None = None, app_mode: bool = False) -> None:
    from ..server import ServerSettings, add_api

    media = MediaStore()
    config = EditorConfig(catalogue=catalogue, workflows_dir=workflows.resolve(), out_root=out.resolve(),
                          cache_dir=cache_dir or default_cache_dir(), media=media,
                          uploads_dir=(out / "uploads").resolve(), file=file, app=app_mode)
    setup(config)
    # the HTTP API beside the editor, and its front door (Host/Origin checks, a token off loopback) for both
    # editor runs go through its run queue too (config.service), so they share its history and limits
    config.service = add_api(app, ServerSettings(host=host, port=port, workflows_dir=workflows,
                                                 runs_dir=config.runs_dir, cache_dir=config.cache_dir), catalogue)
    settings = config.service.settings
    what = f"app {file.name!r}" if app_mode else "editor"
    print(f"flowbanana {what} on {settings.base_url}/ (API at /api, docs at /docs)", flush=True)
    if settings.token:
        print(f"token: {settings.token}  (open {settings.base_url}/?token={settings.token})", flush=True)
    ui.run(host=host, port=port, reload=False, show=False, title="flowbanana", dark=True,
           favicon="🍌", show_welcome_message=False, reconnect_timeout=10.0,
           use_colors=False)  # the CLI's output is guarded: colour codes would show as \x1b[...
