"""The settings dialog: an API key typed in the editor lives in the server's memory only (own server process,
so that no other test runs with it)."""
from __future__ import annotations

import pytest

from test_editor import STATE, add_from_palette, new_workflow

pytestmark = pytest.mark.browser
SECRET = "AIzaFAKE-not-a-real-key-0123456789"


def test_a_key_from_settings_is_used_and_written_nowhere(page, editor_server):
    badge = page.locator("[data-testid=provider-badge]")
    assert "offline preview" in badge.inner_text()
    badge.click()
    assert "API key in use: none" in page.get_by_text("API key in use").inner_text()
    page.get_by_label("Gemini API key").fill(SECRET)
    page.get_by_role("button", name="Use this key").click()
    page.get_by_text("Key set for this server process.").wait_for()
    assert "entered in this editor" in page.get_by_text("API key in use").inner_text()
    assert "Gemini" in badge.inner_text()
    page.get_by_role("button", name="Close").click()

    new_workflow(page)  # edits are autosaved: none of it may carry the key
    add_from_palette(page, "gemini.generate", 300, 200)
    page.keyboard.press("Control+s")
    page.locator("input[data-testid=save-name]").fill("with-key")
    page.locator("[data-testid=save-confirm]").click()
    page.get_by_text("Saved with-key.json").wait_for()
    page.wait_for_function(f"Object.keys({STATE}.nodes).length === 1")
    assert SECRET not in page.content()
    written = [p for p in editor_server.root.rglob("*") if p.is_file()]
    assert any(p.name == "with-key.json" for p in written)
    assert [p for p in written if SECRET.encode() in p.read_bytes()] == []
