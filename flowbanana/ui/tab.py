"""What the editor's dialogs (mask painter, before/after, sharing, sweeps) and routes may use of a browser tab,
and the one way their routes read a request body.

They take a `Tab`, not the editor: editor.py builds the dialogs and provides this surface, and the dialogs know
only this module, so no two ui modules import each other.
"""
from __future__ import annotations

import weakref
from typing import Protocol

from fastapi import HTTPException, Request
from nicegui import ui

from ..workflow import Workflow
from .document import Document
from .runner import EditorConfig, RunController


class Tab(Protocol):
    token: str                # names the tab in the URLs of uploads and routes
    config: EditorConfig
    doc: Document
    runner: RunController
    header: ui.element        # where UI made from a background task (a dialog, a download) belongs

    def notice(self, message: str, kind: str, timeout: int = 7000) -> None:
        """A dismissible notification in the editor's colours."""

    def refresh(self, select: list[str] | None = None, form: bool = True) -> None:
        """Send what changed in `doc` to the canvas, the side panel and the autosave."""

    async def confirm_discard(self) -> bool:
        """Ask before unsaved changes are thrown away; True to go ahead."""

    def open_workflow(self, workflow: Workflow) -> None:
        """Show another workflow in this tab (old results go with the old workflow)."""

    def prepare_save(self) -> None:
        """Bring the workflow's `requires` up to date before it is written or shared."""

    def run(self, targets: set[str] | None = None, force: set[str] = frozenset()) -> None:
        """Run the workflow (or only `targets` and what they need)."""

    def uploaded(self, node_id: str, param: str, value: str) -> None:
        """A file sent for a file or mask param is now its value."""


async def read_body(request: Request, limit: int, what: str) -> bytes:
    """A POST body read as it streams in, refused (413) as soon as it passes `limit` bytes."""
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise HTTPException(413, f"{what} up to {limit >> 20} MB")
    return bytes(data)


TABS: "weakref.WeakValueDictionary[str, Tab]" = weakref.WeakValueDictionary()  # token -> open tab
