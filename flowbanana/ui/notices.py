"""Toasts in flowbanana's colours, shared by the editor and app pages so a kind of notice looks the same in both."""
from __future__ import annotations

from nicegui import ui

NOTICE_COLOURS = {"info": "blue-grey-8", "warning": "orange-9", "negative": "red-9", "positive": "green-8"}


def notify(message: str, kind: str, **options) -> None:
    """`ui.notify` with the colour of `kind` (info, warning, negative, positive); other options pass through."""
    ui.notify(message, color=NOTICE_COLOURS.get(kind, NOTICE_COLOURS["info"]), **options)
