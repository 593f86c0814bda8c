"""The workflow file: round trips, shape errors, versions and migrations."""
import json

import pytest

from flowbanana import workflow as wf
from flowbanana.errors import WorkflowInvalid

CANONICAL = {
    "format": "flowbanana/workflow",
    "version": 1,
    "name": "Earbuds on marble",
    "description": "Product shot, then a square crop for the shop.",
    "requires": {"flowbanana": ">=0.1"},
    "inputs": {"subject": {"node": "prompt", "param": "text", "description": "What to photograph"}},
    "nodes": {
        "prompt": {"type": "text.text", "params": {"text": "wireless earbuds"}},
        "refs": {"type": "test.collect", "inputs": {"items": ["prompt.text"]}, "title": "All refs",
                 "notes": "kept", "disabled": True},
        "many": {"type": "test.collect", "inputs": {"items": ["prompt.text", "refs.count"]}},
    },
    "ui": {"nodes": {"prompt": {"x": 40, "y": 80}}, "viewport": {"x": 0, "y": 0, "zoom": 1},
           "groups": [{"title": "an unknown ui key", "nodes": ["prompt"]}]},
}


def canonical_text() -> str:
    return json.dumps(CANONICAL, indent=2, sort_keys=True) + "\n"


def test_load_then_save_gives_the_same_bytes(tmp_path):
    path = tmp_path / "wf.json"
    path.write_text(canonical_text())
    loaded = wf.load(path)
    out = tmp_path / "out.json"
    loaded.save(out)
    assert out.read_bytes() == path.read_bytes()


def test_model_holds_what_the_file_says():
    model = wf.loads(canonical_text())
    assert model.nodes["refs"].disabled and model.nodes["refs"].title == "All refs"
    assert model.nodes["many"].inputs["items"] == [wf.Link("prompt", "text"), wf.Link("refs", "count")]
    assert model.inputs["subject"] == wf.WorkflowInput("prompt", "text", "What to photograph")
    assert model.ui["groups"][0]["title"] == "an unknown ui key"


def test_a_single_link_written_as_a_list_stays_a_list():
    model = wf.loads(canonical_text())
    assert model.to_dict()["nodes"]["refs"]["inputs"]["items"] == ["prompt.text"]


def test_small_edit_is_a_small_diff():
    model = wf.loads(canonical_text())
    model.nodes["prompt"].params["text"] = "red sneakers"
    before, after = canonical_text().splitlines(), model.dumps().splitlines()
    assert len(before) == len(after)
    assert [(a, b) for a, b in zip(before, after) if a != b] == [
        ('        "text": "wireless earbuds"', '        "text": "red sneakers"')]


def test_a_file_with_a_byte_order_mark_loads(tmp_path):
    path = tmp_path / "notepad.json"
    path.write_bytes(b"\xef\xbb\xbf" + canonical_text().encode())
    assert wf.load(path).name == "Earbuds on marble"


@pytest.mark.parametrize("make, words", [
    (lambda p: p.write_bytes(canonical_text().replace("Earbuds", "Caf\xe9").encode("latin-1")),
     ["is not UTF-8 text (byte ", "Save it as UTF-8"]),
    (lambda p: p.mkdir(), ["cannot read ", ": Is a directory."]),
])
def test_an_unreadable_file_says_why_in_plain_words(tmp_path, make, words):
    path = tmp_path / "wf.json"
    make(path)
    with pytest.raises(WorkflowInvalid) as info:
        wf.load(path)
    assert all(w in str(info.value) for w in words) and "Errno" not in str(info.value)


def test_malformed_json_names_line_and_column(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "format": "flowbanana/workflow",\n  "version": 1\n  "nodes": {}\n}\n')
    with pytest.raises(WorkflowInvalid) as info:
        wf.load(path)
    message = str(info.value)
    assert "broken.json" in message and "line 4, column 3" in message


@pytest.mark.parametrize("doc, words", [
    ({"format": "comfyui", "version": 1, "nodes": {}}, "not a flowbanana workflow"),
    ({"format": "flowbanana/workflow", "version": 99, "nodes": {}}, "upgrade flowbanana"),
    ({"format": "flowbanana/workflow", "version": "one", "nodes": {}}, "whole number"),
    ({"format": "flowbanana/workflow", "version": 1, "nodes": {"bad id!": {"type": "text.text"}}}, "letters, digits"),
    ({"format": "flowbanana/workflow", "version": 1, "nodes": {"a": {"params": {}}}}, "needs a \"type\""),
    ({"format": "flowbanana/workflow", "version": 1, "nodes": {"a": {"type": "x.y", "inputs": {"p": "nodot"}}}},
     "not a link"),
    ({"format": "flowbanana/workflow", "version": 1, "nodes": {}, "api_key": "secret"}, "unknown top-level key"),
    ({"format": "flowbanana/workflow", "version": 1, "nodes": {"a": {"type": "x.y", "api_key": "k"}}}, "unknown key"),
])
def test_shape_errors_are_clear(doc, words):
    with pytest.raises(WorkflowInvalid) as info:
        wf.from_dict(doc)
    assert words.lower() in str(info.value).lower()


def test_all_shape_problems_are_reported_at_once():
    doc = {"format": "flowbanana/workflow", "version": 1, "extra": 1,
           "nodes": {"a": {"type": "x.y", "inputs": {"p": "bad"}}, "b": {"type": 3}}}
    with pytest.raises(WorkflowInvalid) as info:
        wf.from_dict(doc)
    assert {p.code for p in info.value.problems} == {"unknown_key", "link", "node"}


def test_older_versions_are_migrated_step_by_step(monkeypatch):
    monkeypatch.setattr(wf, "VERSION", 3)
    monkeypatch.setitem(wf.MIGRATIONS, 1, lambda d: {**d, "nodes": {k.upper(): v for k, v in d["nodes"].items()}})
    monkeypatch.setitem(wf.MIGRATIONS, 2, lambda d: {**d, "name": d["name"] + " (migrated)"})
    model = wf.from_dict({"format": "flowbanana/workflow", "version": 1, "name": "old",
                          "nodes": {"a": {"type": "text.text"}}})
    assert list(model.nodes) == ["A"] and model.name == "old (migrated)"
    assert model.to_dict()["version"] == 3


def test_the_format_has_no_place_for_secrets():
    """An api_key field is refused wherever it is put (except free-form ui layout)."""
    fields = wf._TOP_KEYS | wf._NODE_KEYS
    assert not [f for f in fields if "key" in f or "secret" in f or "token" in f]
