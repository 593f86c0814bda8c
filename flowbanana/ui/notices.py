"""Toasts in flowbanana's colours, shared by the editor and app pages so a kind of notice looks the same in both."""
from __future__ import annotations

from typing import Any, Callable

from nicegui import ui

NOTICE_COLOURS = {"info": "blue-grey-8", "warning": "orange-9", "negative": "red-9", "positive": "green-8"}


def notify(message: str, kind: str, **options) -> None:
    """`ui.notify` with the colour of `kind` (info, warning, negative, positive); other options pass through."""
    ui.notify(message, color=NOTICE_COLOURS.get(kind, NOTICE_COLOURS["info"]), **options)


def offer(message: str, kind: str, action: str, on_action: Callable[[], Any], **options) -> ui.notification:
    """A notice with a button `action` that calls `on_action` (and closes the notice); it stays until then or ✕."""
    note = ui.notification(message, color=NOTICE_COLOURS.get(kind, NOTICE_COLOURS["info"]), timeout=None,
                           multi_line=True, **options)
    note._props["options"]["actions"] = [{"label": action, "color": "white", "data-testid": "notice-action",
                                          ":handler": f"() => getElement({note.id}).$emit('action')"}]
    note.on("action", lambda: on_action())
    return note
