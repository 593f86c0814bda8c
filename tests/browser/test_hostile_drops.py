"""A hostile file dropped on the editor's canvas (malformed or deeply nested JSON, a workflow of the wrong shape, a
picture whose embedded workflow or run record is bad or too big, a damaged bundle) gives a clear message in the
editor and leaves the open workflow as it was: no traceback, no JavaScript error, no half-opened graph."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from test_editor import STATE, nodes
from test_mask_and_sharing import drop_file

GOOD = {"format": "flowbanana/workflow", "version": 2, "name": "good", "nodes": {"t": {"type": "text.text"}}}
RECORD = {"flowbanana": "0.1.0", "node": "save", "steps": [], "providers": []}


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def png(path: Path, workflow: str | None = None, record: str | None = None, ztxt: str | None = None) -> bytes:
    info = PngImagePlugin.PngInfo()
    if workflow is not None:
        info.add_itxt("flowbanana.workflow", workflow, zip=True)
    if record is not None:
        info.add_itxt("flowbanana.run", record, zip=True)
    if ztxt is not None:
        info.add_text("flowbanana.workflow", ztxt, zip=True)
    Image.new("RGB", (8, 8), "red").save(path, pnginfo=info)
    return path.read_bytes()


# (file name, its bytes from a folder, MIME type, what the editor's message says)
HOSTILE = [
    ("malformed.json", lambda d: b'{"format": "flowbanana/workflow", "nodes": {', "application/json",
     "malformed.json is not a flowbanana workflow: not valid JSON at line 1"),
    ("deep.json", lambda d: deep(100_000).encode(), "application/json", "more than 100 levels deep"),
    ("list.json", lambda d: b"[]", "application/json", "a workflow file must hold a JSON object"),
    ("shape.json", lambda d: json.dumps({**GOOD, "nodes": {"a": "not a node"}}).encode(), "application/json",
     "node 'a' needs a \"type\""),
    ("binary.json", lambda d: bytes(range(256)), "application/json", "binary.json is not a flowbanana workflow"),
    ("listed.png", lambda d: png(d / "listed.png", workflow="[]"), "image/png",
     "Cannot open listed.png: cannot read listed.png: its embedded workflow is a list, not an object"),
    ("broken.png", lambda d: png(d / "broken.png", workflow="{not json"), "image/png",
     "its flowbanana metadata is not readable JSON"),
    ("deep.png", lambda d: png(d / "deep.png", workflow=deep(100_000)), "image/png", "more than 100 levels deep"),
    ("untyped.png", lambda d: png(d / "untyped.png", workflow=json.dumps({**GOOD, "nodes": {"a": {}}})),
     "image/png", "node 'a' needs a \"type\""),
    ("steps.png", lambda d: png(d / "steps.png", workflow=json.dumps(GOOD),
                                record=json.dumps({**RECORD, "steps": "gen"})), "image/png",
     "its run record's \"steps\" is not a list of steps"),
    ("huge.png", lambda d: png(d / "huge.png", ztxt="{" + " " * (12 * 2**20) + "}"), "image/png",
     "its metadata is too large to read safely"),
    ("junk.zip", lambda d: b"PK\x03\x04 not really a zip", "application/zip",
     "junk.zip is not a zip file, or it is damaged"),
]


@pytest.mark.parametrize("name, make, mime, words", HOSTILE, ids=[case[0] for case in HOSTILE])
def test_a_hostile_drop_is_a_clear_message_and_changes_nothing(page, tmp_path, name, make, mime, words):
    before = nodes(page)
    path = tmp_path / name
    path.write_bytes(make(tmp_path))
    drop_file(page, path, mime)
    message = page.locator(".q-notification", has_text=words)
    message.wait_for()
    text = message.inner_text()
    assert "Traceback" not in text and "Error:" not in text
    assert nodes(page) == before  # the open workflow stays as it was
    assert page.evaluate(f"Object.keys({STATE}.nodes).length") == len(before)
