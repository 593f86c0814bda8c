"""The mask editor: paint the area to change over the picture it applies to, in a dialog of its own.

The browser keeps the mask as pixels while painting and sends the finished PNG by HTTP POST (never
through the websocket, which carries about 1 MB at most). The server checks it, writes it as a
greyscale PNG named by its content next to the workflow (`masks/`; for an unsaved workflow the
editor's uploads folder) and sets the node's mask param to it, so undo, save, reload and bundles
all see an ordinary file. Saving a workflow elsewhere carries its masks along (`carry_masks`).
"""
from __future__ import annotations

import asyncio
import hashlib
import io
import re
import shutil
import warnings
import weakref
from pathlib import Path
from typing import Protocol

from fastapi import HTTPException, Request
from fastapi.responses import PlainTextResponse
from nicegui import app, background_tasks, run, ui
from PIL import Image, ImageOps

from ..catalogue import Catalogue
from ..node_api import resolve_path, within
from ..pixels import eight_bit
from ..porttypes import IMAGE, MASK
from ..workflow import Workflow
from .media import MediaStore
from .tab import Tab, read_body


MASKS = "masks"
MASK_ROUTE = "/flowbanana/mask"
MAX_MASK_BYTES = 64 * 2**20
RUN_WAIT_SECONDS = 300  # how long "Run and paint" waits for the picture before giving up on reopening
IDLE_TICKS = 50  # tenths of a second with no run going (not started yet, or its results still coming)


class MaskRefused(ValueError):
    """What the browser sent is not a mask we keep; the message says why."""


class MaskPainter(ui.element, component="flowbanana_mask_editor.js"):
    """Our own Vue component: the picture, the mask as pixels, the tools. `spec` says what to paint on."""

    def __init__(self, *, on_cancel, on_run):
        super().__init__()
        self._props["spec"] = None
        self.on("cancel", lambda e: on_cancel())
        self.on("run", lambda e: on_run())

    def show(self, spec: dict) -> None:
        self._props["spec"] = spec
        self.update()


# ---- which node holds the mask, and where its file lives ---------------------------------------
def mask_param(catalogue: Catalogue, workflow: Workflow, node_id: str) -> tuple[str, str] | None:
    """(node, param) of the painted mask for `node_id`: its own mask param, or that of a node feeding one
    of its MASK inputs (the inpaint node's mask from mask.paint); None when there is none."""
    node = workflow.nodes.get(node_id)
    node_type = catalogue.get(node.type) if node else None
    if node_type is None:
        return None
    own = next((p.name for p in node_type.params if p.kind == "mask" and p.name not in node.inputs), None)
    if own:
        return node_id, own
    for port in node_type.inputs:
        if port.type != MASK:
            continue
        for link in node.inputs.get(port.name, []):
            source = workflow.nodes.get(link.node)
            source_type = catalogue.get(source.type) if source else None
            found = next((p.name for p in source_type.params if p.kind == "mask"), None) if source_type else None
            if found and found not in source.inputs:
                return link.node, found
    return None


def image_source(catalogue: Catalogue, workflow: Workflow, node_id: str) -> str | None:
    """The node whose picture the mask is painted over: the one linked into the mask node's IMAGE input."""
    node = workflow.nodes.get(node_id)
    node_type = catalogue.get(node.type) if node else None
    for port in node_type.inputs if node_type else ():
        links = node.inputs.get(port.name) or []
        if port.type == IMAGE and links:
            return links[0].node
    return None


def loaded_file(catalogue: Catalogue, workflow: Workflow, uploads_dir: Path, node_id: str) -> Path | None:
    """The readable file a node loads by its first file param (image.load's picture), if it has one."""
    node = workflow.nodes.get(node_id)
    node_type = catalogue.get(node.type) if node else None
    for param in node_type.params if node_type else ():
        if param.kind == "file" and param.name not in node.inputs:
            return readable(workflow, uploads_dir, node.params.get(param.name))
    return None


def mask_folder(workflow: Workflow, uploads_dir: Path) -> Path:
    return workflow.source.parent / MASKS if workflow.source else uploads_dir / MASKS


def readable(workflow: Workflow, uploads_dir: Path, value: str | None) -> Path | None:
    """The file a path param names, if it exists where the editor's runs may read (beside the workflow, uploads)."""
    if not value or not isinstance(value, str):
        return None
    try:
        path = resolve_path(value, workflow.base_dir)
        return path if within(path, (workflow.base_dir, uploads_dir)) and path.is_file() else None
    except (OSError, ValueError):  # a NUL byte, an unknown ~user: nothing to show
        return None


def store_mask(workflow: Workflow, uploads_dir: Path, node_id: str, data: bytes) -> str:
    """Check the PNG the browser sent and keep it beside the workflow (see `keep_mask`); return the param value."""
    path = keep_mask(mask_folder(workflow, uploads_dir), node_id, data)
    return f"{MASKS}/{path.name}" if workflow.source else str(path)


def keep_mask(folder: Path, node_id: str, data: bytes) -> Path:
    """Check the PNG the browser sent and keep it in `folder` as greyscale, named by content.

    A name made of the content means a repaint never overwrites a file an older version (undo) points at.
    """
    if len(data) > MAX_MASK_BYTES:
        raise MaskRefused(f"the mask is {len(data) >> 20} MB; at most {MAX_MASK_BYTES >> 20} MB are kept.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
                image.load()
                mask = eight_bit(image).convert("L")
    except Exception as exc:  # Pillow raises many types for broken or hostile files
        raise MaskRefused(f"not a readable PNG mask ({type(exc).__name__}).") from None
    encoded = io.BytesIO()
    mask.save(encoded, format="PNG", optimize=True)
    digest = hashlib.sha256(encoded.getvalue()).hexdigest()[:12]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{re.sub(r'[^A-Za-z0-9_-]+', '-', node_id)}-{digest}.png"
    if not path.exists():
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(encoded.getvalue())
        tmp.replace(path)
    return path


def carry_masks(workflow: Workflow, catalogue: Catalogue, dest_dir: Path) -> bool:
    """Before the workflow is saved into `dest_dir`: copy masks kept anywhere else into `dest_dir/masks` and
    point at them by relative path, so the file and its masks travel together. True if a param changed."""
    changed = False
    for node in workflow.nodes.values():
        node_type = catalogue.get(node.type)
        for param in node_type.params if node_type else ():
            value = node.params.get(param.name)
            if param.kind != "mask" or not value or not isinstance(value, str):
                continue
            source = Path(value) if Path(value).is_absolute() else workflow.base_dir / value
            if not source.is_file() or source.resolve().parent == (dest_dir / MASKS).resolve():
                continue
            target = dest_dir / MASKS / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                shutil.copyfile(source, target)
            node.params[param.name] = f"{MASKS}/{target.name}"
            changed = True
    return changed


class MaskTarget(Protocol):
    """What a painted mask is sent to: an editor tab's mask dialog, or an app page's mask input."""

    async def receive(self, node: str, param: str, data: bytes) -> str:
        """Keep the PNG for `param` of `node` and return the value it now has; HTTPException if it has none."""


MASK_TARGETS: "weakref.WeakValueDictionary[str, MaskTarget]" = weakref.WeakValueDictionary()  # token -> target


def add_mask_route() -> None:
    """POST /flowbanana/mask?tab=&node=&param= with the PNG as the body: keep it and set the param."""

    @app.post(MASK_ROUTE)
    async def receive(request: Request, tab: str, node: str, param: str) -> PlainTextResponse:
        target = MASK_TARGETS.get(tab)
        if target is None:
            raise HTTPException(403, "unknown editor tab; reload the page")
        data = await read_body(request, MAX_MASK_BYTES, "masks")
        try:
            return PlainTextResponse(await target.receive(node, param, data))
        except MaskRefused as exc:
            raise HTTPException(400, str(exc)) from None


def picture(media: MediaStore, path: Path, kind: str) -> dict | None:
    """A file shown in the page by URL (through the media store), or None if it is not a picture; `kind` "mask"
    reads it as greyscale. Blocking: call in a thread."""
    try:
        with Image.open(path) as opened:
            image = ImageOps.exif_transpose(opened) if kind == "image" else eight_bit(opened).convert("L")
            image.load()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    return media.add(image, hashlib.sha256(str(path).encode()).hexdigest()[:8])


# ---- the dialog ----------------------------------------------------------------------------------
class MaskDialog:
    """One per tab: opens the painter over the picture feeding the mask node, with the mask painted so far."""

    def __init__(self, editor: Tab):
        self.editor = editor
        MASK_TARGETS[editor.token] = self
        self.node: str | None = None
        with ui.dialog().props("maximized persistent transition-show=fade transition-hide=fade") as self.dialog:
            self.painter = MaskPainter(on_cancel=self.dialog.close, on_run=self._run_for_image) \
                .classes("w-full h-full")

    async def open(self, node_id: str) -> None:
        editor = self.editor
        found = mask_param(editor.config.catalogue, editor.doc.workflow, node_id)
        if found is None:
            editor.notice("This node has no mask to paint: link a Paint mask node (mask.paint) into its mask.",
                           "warning")
            return
        self.node, param = found
        workflow = editor.doc.workflow
        node = workflow.nodes[self.node]
        image = await self._picture(self.node)
        mask_file = readable(workflow, editor.config.uploads_dir, node.params.get(param))
        mask = await run.io_bound(picture, editor.config.media, mask_file, "mask") if mask_file and image else None
        self.painter.show({"node": self.node, "param": param, "title": node.title or self.node,
                           "token": editor.token, "image": image, "mask": mask and mask["full"],
                           "source": self._source(self.node)})
        self.dialog.open()

    async def receive(self, node: str, param: str, data: bytes) -> str:
        editor = self.editor
        target = editor.doc.workflow.nodes.get(node)
        node_type = editor.config.catalogue.get(target.type) if target else None
        if node_type is None:
            raise HTTPException(409, f"there is no node {node!r} any more")
        if not node_type.param(param) or node_type.param(param).kind != "mask":
            raise HTTPException(400, f"{node_type.id} has no mask param {param!r}")
        value = await run.io_bound(store_mask, editor.doc.workflow, editor.config.uploads_dir, node, data)
        editor.uploaded(node, param, value)
        self.dialog.close()
        editor.notice(f"Mask saved as {Path(value).name}", "positive", timeout=2000)
        return value

    def _source(self, node_id: str) -> str | None:
        return image_source(self.editor.config.catalogue, self.editor.doc.workflow, node_id)

    async def _picture(self, node_id: str) -> dict | None:
        """The picture under the mask: the linked node's latest result, else the image file it loads."""
        source = self._source(node_id)
        if source is None:
            return None
        for entry in self.editor.runner.history.get(source, []):
            if entry.get("images"):
                return entry["images"][0]
        path = loaded_file(self.editor.config.catalogue, self.editor.doc.workflow, self.editor.config.uploads_dir,
                           source)
        return await run.io_bound(picture, self.editor.config.media, path, "image") if path else None

    def _run_for_image(self) -> None:
        """Run what makes the picture, then reopen the painter over it."""
        source = self.node and self._source(self.node)
        if not source:
            self.editor.notice("Link an image into the mask node's image input first.", "warning")
            return
        self.dialog.close()
        made = len(self.editor.runner.history.get(source, []))
        self.editor.run(targets={source})
        background_tasks.create(self._reopen(self.node, source, made), name="flowbanana-mask-reopen")

    async def _reopen(self, node_id: str, source: str, made: int) -> None:
        """Reopen once the source has a new result; give up when no run has been going for a while (it was
        refused or failed: the node says why) or the run takes too long."""
        runner, idle = self.editor.runner, 0
        for _ in range(RUN_WAIT_SECONDS * 10):
            if len(runner.history.get(source, [])) > made:
                with self.editor.header:
                    await self.open(node_id)
                return
            idle = 0 if runner.running else idle + 1
            if idle > IDLE_TICKS:
                return
            await asyncio.sleep(0.1)
