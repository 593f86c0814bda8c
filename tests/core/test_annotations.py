"""Groups and sticky notes in the workflow file: they round-trip, bad ones are named, old files load, runs
never look at them."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowbanana import workflow as wf
from flowbanana.annotations import GROUP_COLOR, NOTE_COLOR, Group, Note
from flowbanana.errors import WorkflowInvalid

PACKS = Path(__file__).parents[1] / "packs"

DOC = {
    "format": "flowbanana/workflow", "version": 2, "name": "Shout",
    "nodes": {"w": {"type": "test.words", "params": {"text": "hello world"}},
              "u": {"type": "test.upper", "inputs": {"text": "w.items"}},
              "show": {"type": "test.show", "inputs": {"value": "u.text"}}},
    "groups": {"words": {"title": "Make the words", "color": "#2e7d32", "x": 20, "y": 40, "w": 700, "h": 320},
               "out": {"title": "", "color": "#6a1b9a", "x": 760.5, "y": 40, "w": 400, "h": 320}},
    "notes": {"todo": {"text": "Try it with a longer sentence.\nAnd in French.", "color": "#e8c547",
                       "x": 20, "y": 420, "w": 260, "h": 140}},
    "ui": {"nodes": {"w": {"x": 60, "y": 100}, "u": {"x": 400, "y": 100}, "show": {"x": 800, "y": 100}}},
}


def test_groups_and_notes_round_trip_byte_for_byte(tmp_path):
    path = tmp_path / "wf.json"
    path.write_text(json.dumps(DOC, indent=2, sort_keys=True) + "\n")
    model = wf.load(path)
    assert model.groups["words"] == Group(x=20, y=40, w=700, h=320, color="#2e7d32", title="Make the words")
    assert model.groups["out"].title == "" and model.groups["out"].x == 760.5
    assert model.notes["todo"].text.endswith("And in French.")
    model.save(tmp_path / "again.json")
    assert (tmp_path / "again.json").read_bytes() == path.read_bytes()
    assert wf.loads(model.dumps()).to_dict() == model.to_dict()  # copies (undo, subgraphs) keep them too
    assert model.copy().notes == model.notes


def test_a_colour_left_out_is_the_default_and_is_then_written():
    doc = {**DOC, "groups": {"g": {"title": "G", "x": 0, "y": 0, "w": 100, "h": 100}},
           "notes": {"n": {"x": 0, "y": 0, "w": 100, "h": 100}}}
    model = wf.from_dict(doc)
    assert model.groups["g"].color == GROUP_COLOR
    assert model.notes["n"] == Note(x=0, y=0, w=100, h=100, color=NOTE_COLOR, text="")
    assert model.to_dict()["groups"]["g"]["color"] == GROUP_COLOR


def test_a_file_without_groups_or_notes_loads_and_saves_without_them():
    old = {k: v for k, v in DOC.items() if k not in ("groups", "notes")}
    model = wf.from_dict({**old, "version": 1})
    assert model.groups == {} and model.notes == {}
    assert "groups" not in model.to_dict() and "notes" not in model.to_dict()


@pytest.mark.parametrize("groups, notes, words", [
    ([], {}, ['"groups" must be an object of groups keyed by id']),
    ({}, "remember", ['"notes" must be an object of notes keyed by id']),
    ({"bad id": {"title": "x", "x": 0, "y": 0, "w": 100, "h": 100}}, {}, ["group 'bad id': an id may use only"]),
    ({"g": {"title": 3, "x": 0, "y": 0, "w": 100, "h": 100}}, {}, ["group 'g': \"title\" must be text"]),
    ({"g": {"title": "x", "y": 0, "w": 100, "h": 100}}, {}, ["group 'g': \"x\" must be a number"]),
    ({"g": {"title": "x", "x": True, "y": 0, "w": 100, "h": 100}}, {}, ["group 'g': \"x\" must be a number"]),
    ({"g": {"title": "x", "x": 0, "y": 0, "w": 10, "h": 100}}, {}, ["group 'g': \"w\" must be at least 40"]),
    ({"g": {"title": "x", "x": 0, "y": 0, "w": 100, "h": 100, "color": "red"}}, {},
     ["group 'g': \"color\" must be written like \"#3f6ea5\", not 'red'"]),
    ({"g": {"title": "x", "x": 0, "y": 0, "w": 100, "h": 100, "nodes": ["w"]}}, {},
     ["group 'g': unknown key 'nodes' (allowed: color, h, title, w, x, y)"]),
    ({}, {"n": {"text": ["a"], "x": 0, "y": 0, "w": 100, "h": 100}}, ["note 'n': \"text\" must be text"]),
    ({}, {"n": "just text"}, ["note 'n': must be an object with \"text\", \"x\", \"y\", \"w\" and \"h\""]),
])
def test_a_bad_group_or_note_is_named_with_what_to_write(groups, notes, words):
    with pytest.raises(WorkflowInvalid) as info:
        wf.from_dict({**DOC, "groups": groups, "notes": notes})
    text = str(info.value)
    assert all(w in text for w in words), text
    assert all(p.code in ("groups", "notes") for p in info.value.problems)


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(WorkflowInvalid) as info:
        wf.from_dict({**DOC, "groups": {"g": {"title": 1, "x": "0", "y": None, "w": 5, "h": float("nan")}}})
    assert len(info.value.problems) == 5


def test_the_command_line_runs_a_workflow_with_groups_and_notes_as_without(tmp_path):
    env = {**os.environ, "FLOWBANANA_NODES_PATH": str(PACKS)}
    outputs = []
    for name, doc in (("with.json", DOC), ("without.json", {k: v for k, v in DOC.items()
                                                             if k not in ("groups", "notes")})):
        (tmp_path / name).write_text(json.dumps(doc))
        done = subprocess.run([sys.executable, "-m", "flowbanana", "run", str(tmp_path / name), "--no-cache",
                               "--json", "--out", str(tmp_path / name[:-5])],
                              capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert result["status"] == "done"
        outputs.append({n: r["outputs"] for n, r in result["nodes"].items()})
    assert outputs[0] == outputs[1] and set(outputs[0]) == {"w", "u", "show"}
