"""Whatever a command prints (file names, workflow names and descriptions, node values, warnings, errors, problems,
pack descriptions), a control character in it reaches the terminal as an escape, never as itself: a hostile
file cannot write the clipboard (OSC 52), clear the screen, retitle the window or reorder text (bidi)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKS = Path(__file__).parents[1] / "packs"
HOSTILE = {
    "osc52": "\x1b]52;c;ZWNobyBwd25lZA==\x07",
    "clear": "\x1b[2J\x1b[H",
    "title": "\x1b]0;owned\x1b\\",
    "c1_csi": "\x9b31m",
    "bidi": "\u202eevil\u202c",
    "carriage": "ok\rfake",
    "bell_backspace": "x\x07\x08\x7f",
}
# what a terminal obeys: C0 controls but line feed and tab, DEL and C1, bidi overrides and isolates
OBEYED = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def flowbanana(*args, cwd):
    env = {**os.environ, "FLOWBANANA_NODES_PATH": str(PACKS)}
    return subprocess.run([sys.executable, "-m", "flowbanana", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)


def assert_shown_not_sent(done, what):
    for name, stream in (("stdout", done.stdout), ("stderr", done.stderr)):
        found = OBEYED.search(stream)
        assert found is None, f"{what}: {name} sends {found.group()!r}: {stream[:600]!r}"
    assert "Traceback" not in done.stderr, done.stderr


EVIL = "".join(HOSTILE.values())  # one string holding the whole corpus, so each print path is tried once


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A workflow folder where names, texts, a pack and file names all carry the corpus."""
    root = tmp_path_factory.mktemp("evil")
    (root / f"rows{EVIL}.csv").write_text("n\n1\n2\n3\n")
    (root / "run.json").write_text(json.dumps({
        "format": "flowbanana/workflow", "version": 2, "name": f"Evil{EVIL}", "description": EVIL,
        "nodes": {"t": {"type": "text.text", "params": {"text": f"value{EVIL}"}},
                  "show": {"type": "test.show", "inputs": {"value": "t.text"}},
                  "csv": {"type": "list.from_csv", "params": {"path": f"rows{EVIL}.csv", "limit": 1}},
                  "rows": {"type": "test.collect", "inputs": {"items": ["csv.items"]}},
                  "bad": {"type": "image.load", "params": {"path": f"rows{EVIL}.csv"}},
                  "e": {"type": "evil.node"}, "c": {"type": "evil.crash"}}}))
    (root / "invalid.json").write_text(json.dumps({
        "format": "flowbanana/workflow", "version": 2, "name": f"Evil{EVIL}",
        "nodes": {f"n{EVIL}": {"type": "image.load", "params": {"path": f"gone{EVIL}.png"}},
                  "t": {"type": "text.template", "params": {"template": "{x}"}},
                  "u": {"type": f"no.such{EVIL}"},
                  "show": {"type": "test.show", "inputs": {"value": "t.text"}}}}))
    (root / "packs").mkdir()
    (root / "packs" / "evil.py").write_text(f'''
from flowbanana.node_api import TEXT, NodeError, Output, Pack, Param
pack = Pack("evil", version="1.0.0", description={EVIL!r})
@pack.node("evil.node", description={EVIL!r}, params=[Param.text("p", {EVIL!r}, description={EVIL!r})],
           outputs=[Output("text", TEXT, description={EVIL!r})], output=True)
def node(p):
    raise NodeError({EVIL!r} + " failed", "hint " + {EVIL!r})
@pack.node("evil.crash", outputs=[Output("text", TEXT)], output=True)
def crash():
    raise RuntimeError({EVIL!r})
''')
    return root


PACK = ("--nodes-dir", "packs")


@pytest.mark.parametrize("args, code", [
    (("run", "run.json", "--no-cache", "--out", "o", *PACK), 1),                  # summary, values, warnings, errors
    (("run", "run.json", "--dry-run", "--no-cache", *PACK), 1),
    (("run", "run.json", "--help", *PACK), 0),                                   # a workflow's description
    (("validate", "invalid.json"), 2),                                           # problems
    (("run", "invalid.json", "--no-cache"), 2),
    (("run", "run.json", "--set", f"{EVIL}=1", *PACK), 2),                       # usage errors
    (("validate", f"missing{EVIL}.json"), 2),                                    # file names
    (("inspect", f"missing{EVIL}.png"), 2),
    (("nodes", *PACK), 0),                                                       # a pack's descriptions
    (("nodes", "evil.node", *PACK), 0),
])
def test_every_print_path_shows_control_characters_instead_of_sending_them(folder, args, code):
    done = flowbanana(*args, cwd=folder)
    assert done.returncode == code, (done.stdout, done.stderr)
    assert_shown_not_sent(done, " ".join(args))
    shown = done.stdout + done.stderr
    assert "\\x1b]52;c;ZWNobyBwd25lZA==\\x07" in shown or "\\x1b" in shown  # there, as an escape
