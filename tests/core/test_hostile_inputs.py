"""Hostile workflow files and image metadata: every front door (open_workflow, `validate`, `run`, `inspect`, the
editor's drop) answers with a clear problem and exit 2, never a traceback; what inspect prints cannot drive
the terminal."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from flowbanana import provenance
from flowbanana.errors import WorkflowInvalid
from flowbanana.sources import open_workflow
from flowbanana.terminal import printable

PACKS = Path(__file__).parents[1] / "packs"
GOOD = {"format": "flowbanana/workflow", "version": 1, "name": "ok",
        "nodes": {"t": {"type": "text.text"}, "show": {"type": "test.show", "inputs": {"value": "t.text"}}}}
RECORD = {"flowbanana": "0.1.0", "node": "save", "created": "2025-01-01T00:00:00", "providers": [], "steps": []}


def deep(levels: int, opening: str = "[", closing: str = "]") -> str:
    return opening * levels + closing * levels


def nested_objects(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


# (file text, words the problem says)
HOSTILE_FILES = [
    (deep(100_000), "more than 100 levels deep"),
    (nested_objects(100_000), "more than 100 levels deep"),
    (json.dumps({**GOOD, "ui": json.loads(nested_objects(120))}), "more than 100 levels deep"),
    ("[]", "must hold a JSON object"),
    ('"flowbanana/workflow"', "must hold a JSON object"),
    (json.dumps({**GOOD, "nodes": []}), '"nodes" must be an object'),
    (json.dumps({**GOOD, "nodes": "t"}), '"nodes" must be an object'),
    (json.dumps({**GOOD, "nodes": {"t": {"params": {}}}}), 'needs a "type"'),
    (json.dumps({**GOOD, "nodes": {"t": ["text.text"]}}), 'needs a "type"'),
    (json.dumps({**GOOD, "nodes": {"t": {"type": 5}}}), 'needs a "type"'),
    (json.dumps({**GOOD, "nodes": {"t": {"type": "text.text", "title": ["x"]}}}), '"title" must be text'),
    (json.dumps({**GOOD, "version": 10**400}), "this flowbanana reads up to version"),
    ('{"format": "flowbanana/workflow", "version": 1' + "0" * 5000 + "}", "integer string conversion"),
    (json.dumps({**GOOD, "nodes": {"t": {"type": "test.number", "params": {"value": 10**400}},
                                   "show": {"type": "test.show", "inputs": {"value": "t.value"}}}}), "param 'value'"),
    (json.dumps({**GOOD, "requires": ["text"]}), '"requires" must map'),
    ("{\"format\": \"flowbanana/workflow\", \"version\": 1, \"nodes\": {NaN}}", "not valid JSON"),
]


@pytest.mark.parametrize("text, words", HOSTILE_FILES, ids=[words for _, words in HOSTILE_FILES])
def test_hostile_workflow_files_are_clear_problems(tmp_path, catalogue, text, words):
    from flowbanana.validation import validate
    path = tmp_path / "wf.json"
    path.write_text(text)
    try:
        problems = validate(open_workflow(path), catalogue)
    except WorkflowInvalid as exc:
        problems = exc.problems
    assert any(words in p.message for p in problems), problems


def png_with(tmp_path: Path, name: str = "made.png", **chunks: str | bytes) -> Path:
    """A PNG carrying the given text chunks (compressed, as image.save writes them)."""
    info = PngImagePlugin.PngInfo()
    for key, value in chunks.items():
        info.add_itxt(key.replace("_", "."), value, zip=True)
    path = tmp_path / name
    Image.new("RGB", (4, 4)).save(path, pnginfo=info)
    return path


def ztxt_png(tmp_path: Path) -> Path:
    """A zTXt chunk that inflates past Pillow's limit for one text chunk (a metadata bomb)."""
    info = PngImagePlugin.PngInfo()
    info.add_text("flowbanana.workflow", "x" * (PngImagePlugin.MAX_TEXT_CHUNK + 10), zip=True)
    path = tmp_path / "bomb.png"
    Image.new("RGB", (4, 4)).save(path, pnginfo=info)
    return path


# (workflow chunk, run record chunk, words the problem says)
HOSTILE_METADATA = [
    (json.dumps([GOOD]), json.dumps(RECORD), "embedded workflow is a list, not an object"),
    (json.dumps(GOOD), json.dumps([RECORD]), "embedded run record is a list, not an object"),
    (json.dumps(GOOD), json.dumps({**RECORD, "steps": "gen"}), '"steps" is not a list of steps'),
    (json.dumps(GOOD), json.dumps({**RECORD, "steps": ["gen"]}), '"steps" is not a list of steps'),
    (json.dumps(GOOD), json.dumps({**RECORD, "steps": [{"node": "gen"}]}), '"steps" is not a list of steps'),
    (json.dumps(GOOD), json.dumps({**RECORD, "providers": "gemini"}), '"providers" is not a list'),
    (deep(100_000), json.dumps(RECORD), "more than 100 levels deep"),
    (json.dumps(GOOD), deep(100_000), "more than 100 levels deep"),
    ("{not json", json.dumps(RECORD), "not readable JSON"),
]


@pytest.mark.parametrize("workflow, record, words", HOSTILE_METADATA, ids=[w for _, _, w in HOSTILE_METADATA])
def test_hostile_image_metadata_is_a_clear_problem(tmp_path, workflow, record, words):
    path = png_with(tmp_path, flowbanana_workflow=workflow, flowbanana_run=record)
    with pytest.raises(provenance.BadMetadata, match=words) as bad:
        provenance.read(path)
    assert "too large" not in str(bad.value)  # said as what it is, not as a size Pillow refused
    with pytest.raises(WorkflowInvalid, match=words):
        open_workflow(path)


def test_a_text_chunk_over_pillows_limit_is_a_clear_problem(tmp_path):
    with pytest.raises(WorkflowInvalid, match="metadata is too large to read safely"):
        open_workflow(ztxt_png(tmp_path))


def test_a_workflow_of_the_wrong_shape_inside_an_image_is_a_workflow_problem(tmp_path):
    path = png_with(tmp_path, flowbanana_workflow=json.dumps({**GOOD, "nodes": {"t": {"params": {}}}}),
                    flowbanana_run=json.dumps(RECORD))
    with pytest.raises(WorkflowInvalid, match='needs a "type"'):
        open_workflow(path)


def flowbanana(*args, cwd=None, **kwargs):
    env = {**os.environ, "FLOWBANANA_NODES_PATH": str(PACKS)}
    return subprocess.run([sys.executable, "-m", "flowbanana", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=120, cwd=cwd, **kwargs)


def test_every_command_answers_hostile_files_with_exit_2_and_no_traceback(tmp_path):
    """One `validate` over the whole corpus (files and images), then `run` and `inspect` over each image."""
    files = []
    for i, (text, _) in enumerate(HOSTILE_FILES):
        files.append(tmp_path / f"wf{i}.json")
        files[-1].write_text(text)
    images = [png_with(tmp_path, f"m{i}.png", flowbanana_workflow=w, flowbanana_run=r)
              for i, (w, r, _) in enumerate(HOSTILE_METADATA)] + [ztxt_png(tmp_path)]
    checked = flowbanana("validate", *files, *images)
    assert checked.returncode == 2 and "Traceback" not in checked.stderr
    assert checked.stderr.count("is not a valid workflow") == len(files) + len(images)
    as_json = flowbanana("validate", "--json", *files, *images)
    assert as_json.returncode == 2 and all(json.loads(as_json.stdout).values())
    for image in images:
        for command in ("run", "inspect"):
            done = flowbanana(command, image, "--no-cache" if command == "run" else "--json", cwd=tmp_path)
            assert done.returncode == 2, (command, image.name, done.stdout, done.stderr)
            assert "Traceback" not in done.stderr and done.stderr.strip(), (command, image.name)


def test_the_editors_drop_reads_hostile_files_as_problems(tmp_path):
    """What a drop on the canvas calls (ui.sharing.read_shared): every hostile file is a WorkflowInvalid, which
    the editor shows as a notice."""
    from types import SimpleNamespace

    from flowbanana.ui.sharing import read_shared
    config = SimpleNamespace(media=SimpleNamespace(root=tmp_path / "media"), cache_dir=tmp_path / "cache")
    images = [png_with(tmp_path, f"m{i}.png", flowbanana_workflow=w, flowbanana_run=r)
              for i, (w, r, _) in enumerate(HOSTILE_METADATA)] + [ztxt_png(tmp_path)]
    for image in images:
        with pytest.raises(WorkflowInvalid):
            read_shared(config, image.name, image.read_bytes())
    with pytest.raises(WorkflowInvalid, match="not a zip file"):
        read_shared(config, "x.zip", b"PK\x03\x04 not really")
    assert not any((tmp_path / "media").rglob("*.*"))  # the dropped files are not kept


OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"


def test_inspect_shows_control_characters_instead_of_sending_them(tmp_path):
    record = {**RECORD, "node": f"save{OSC52}", "providers": [f"gemini\x1b[2J"],
              "steps": [{"node": "gen", "type": "gemini.generate", "model": f"m{OSC52}", "prompt": "a\u202ecat"}]}
    path = png_with(tmp_path, flowbanana_workflow=json.dumps({**GOOD, "name": f"evil{OSC52}"}),
                    flowbanana_run=json.dumps(record))
    done = flowbanana("inspect", path)
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout and "\u202e" not in done.stdout
    assert "\\x1b]52;c;ZWNobyBwd25lZA==\\x07" in done.stdout and "\\u202e" in done.stdout
    assert "gemini\\x1b[2J" in done.stdout
    as_json = flowbanana("inspect", path, "--json")  # JSON escapes them itself
    assert "\x1b" not in as_json.stdout and json.loads(as_json.stdout)["run"]["node"] == f"save{OSC52}"


@pytest.mark.parametrize("text, shown", [("plain é ü 猫", "plain é ü 猫"), ("a\tb\nc", "a\\tb\\nc"),
                                         ("\x9b31m", "\\x9b31m"), ("\u2066x\u2069", "\\u2066x\\u2069")])
def test_printable_escapes_only_control_characters(text, shown):
    assert printable(text) == shown
