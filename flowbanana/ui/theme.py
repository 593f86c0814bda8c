"""flowbanana's dark theme and colours, one place for the editor and the app pages."""
from __future__ import annotations

from nicegui import ui


def apply_theme() -> None:
    """Dark mode, the banana-yellow palette and an edge-to-edge content area, for the page being built."""
    ui.dark_mode(True)
    ui.colors(primary="#f7d046", secondary="#2a2d34", accent="#f7d046", dark="#1b1c21", dark_page="#141518",
              positive="#66bb6a", negative="#ef5350")
    ui.query(".nicegui-content").classes("p-0 gap-0")
