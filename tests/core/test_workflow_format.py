"""The workflow file: round trips, shape errors, versions and migrations."""
import json

import pytest

from flowbanana import workflow as wf
from flowbanana.errors import WorkflowInvalid

CANONICAL = {
    "format": "flowbanana/workflow",
    "version": 2,
    "name": "Earbuds on marble",
    "description": "Product shot, then a square crop for the shop.",
    "requires": {"flowbanana": ">=0.1"},
    "inputs": {"subject": {"node": "prompt", "param": "text", "description": "What to photograph"},
               "extra": {"node": "many", "input": "items"}},
    "outputs": {"count": {"node": "many", "output": "count", "description": "How many"}},
    "nodes": {
        "prompt": {"type": "text.text", "params": {"text": "wireless earbuds"}},
        "refs": {"type": "test.collect", "inputs": {"items": ["prompt.text"]}, "title": "All refs",
                 "notes": "kept", "disabled": True},
        "many": {"type": "test.collect", "inputs": {"items": ["prompt.text", "refs.count"]}},
        "sub": {"type": "workflow", "workflow": "polaroid.json", "params": {"caption": "hi"}},
        "inline": {"type": "workflow", "workflow": {"format": "flowbanana/workflow", "version": 2, "name": "inner",
                                                    "nodes": {"t": {"type": "text.text"}}}},
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
    assert model.inputs["extra"].port == "items" and not model.inputs["extra"].param
    assert model.outputs["count"] == wf.WorkflowOutput("many", "count", "How many")
    assert model.nodes["sub"].workflow == "polaroid.json"
    assert model.nodes["inline"].workflow.nodes["t"].type == "text.text"
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
    ({"format": "flowbanana/workflow", "version": 2, "nodes": {"bad id!": {"type": "text.text"}}}, "letters, digits"),
    ({"format": "flowbanana/workflow", "version": 2, "nodes": {"a": {"params": {}}}}, "needs a \"type\""),
    ({"format": "flowbanana/workflow", "version": 2, "nodes": {"a": {"type": "x.y", "inputs": {"p": "nodot"}}}},
     "not a link"),
    ({"format": "flowbanana/workflow", "version": 2, "nodes": {}, "api_key": "secret"}, "unknown top-level key"),
    ({"format": "flowbanana/workflow", "version": 2, "nodes": {"a": {"type": "x.y", "api_key": "k"}}}, "unknown key"),
])
def test_shape_errors_are_clear(doc, words):
    with pytest.raises(WorkflowInvalid) as info:
        wf.from_dict(doc)
    assert words.lower() in str(info.value).lower()


def test_all_shape_problems_are_reported_at_once():
    doc = {"format": "flowbanana/workflow", "version": 2, "extra": 1,
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


def test_a_version_1_file_migrates_and_saves_as_version_2():
    old = {**CANONICAL, "version": 1}
    del old["outputs"], old["nodes"]["sub"], old["nodes"]["inline"]
    old["inputs"] = {"subject": CANONICAL["inputs"]["subject"]}
    model = wf.from_dict(old)
    assert model.inputs["subject"].param == "text" and model.outputs == {}
    assert model.to_dict() == {**old, "version": 2}


@pytest.mark.parametrize("doc, words", [
    ({"outputs": {"a b": {"node": "n", "output": "x"}}}, "workflow output name 'a b'"),
    ({"outputs": {"o": {"node": "n"}}}, "must be {\"node\": ID, \"output\": NAME}"),
    ({"outputs": []}, "\"outputs\" must map names"),
    ({"inputs": {"i": {"node": "n", "param": "p", "input": "q"}}}, "(an input port)"),
    ({"inputs": {"i.j": {"node": "n", "param": "p"}}}, "workflow input name 'i.j'"),
    ({"nodes": {"s": {"type": "workflow"}}}, "needs \"workflow\""),
    ({"nodes": {"s": {"type": "text.text", "workflow": "x.json"}}}, "only \"type\": \"workflow\" nodes"),
    ({"nodes": {"s": {"type": "workflow", "workflow": {"format": "flowbanana/workflow", "version": 2,
                                                       "nodes": {"bad id": {"type": "x.y"}}}}}},
     "in subgraph 's': node id 'bad id'"),
])
def test_interface_and_subgraph_shape_errors_are_clear(doc, words):
    with pytest.raises(WorkflowInvalid) as info:
        wf.from_dict({"format": "flowbanana/workflow", "version": 2, "nodes": {}, **doc})
    assert words in str(info.value)


def test_subgraphs_nested_too_deep_are_refused():
    doc = {"format": "flowbanana/workflow", "version": 2, "nodes": {"t": {"type": "text.text"}}}
    for _ in range(wf.MAX_NESTING + 1):
        doc = {"format": "flowbanana/workflow", "version": 2, "nodes": {"s": {"type": "workflow", "workflow": doc}}}
    with pytest.raises(WorkflowInvalid) as info:
        wf.from_dict(doc)
    assert f"nested more than {wf.MAX_NESTING} deep" in str(info.value)


def test_the_format_has_no_place_for_secrets():
    """An api_key field is refused wherever it is put (except free-form ui layout)."""
    fields = wf._TOP_KEYS | wf._NODE_KEYS
    assert not [f for f in fields if "key" in f or "secret" in f or "token" in f]
