"""The editor's document model without a browser: edits, refusals, undo/redo, patches, paste."""
from __future__ import annotations

import json

import pytest

from flowbanana.ui.document import HISTORY, Document, EditRefused
from flowbanana.workflow import Workflow


@pytest.fixture
def doc(catalogue, make_workflow) -> Document:
    workflow = make_workflow({
        "a": {"type": "text.text", "params": {"text": "red"}},
        "t": {"type": "text.template", "params": {"template": "{colour} shoe"}, "inputs": {"colour": "a.text"}},
    }, ui={"nodes": {"a": {"x": 0, "y": 0}, "t": {"x": 300, "y": 0, "custom": True}}, "theme": "keep me"})
    return Document(workflow, catalogue)


def test_add_connect_and_patch_only_what_changed(doc):
    doc.view()
    node = doc.add_node("image.preview", 600, 40)
    patch = doc.patch()
    assert list(patch["nodes"]) == [node]
    assert patch["nodes"][node]["x"] == 600
    assert any(p["node"] == node and p["port"] == "image" for p in patch["problems"])
    assert doc.patch()["nodes"] == {}


def test_incompatible_link_is_refused_with_the_types(doc):
    doc.add_node("image.preview", 600, 0)
    with pytest.raises(EditRefused, match="takes IMAGE; t.text gives TEXT"):
        doc.connect("t", "text", "preview", "image")
    assert doc.workflow.nodes["preview"].inputs == {}


def test_a_link_that_makes_a_cycle_is_refused(doc):
    with pytest.raises(EditRefused, match="cycle"):
        doc.connect("t", "text", "a", "text")


def test_a_single_input_link_is_replaced(doc):
    doc.add_node("text.text", 0, 200)
    doc.connect("text", "text", "t", "colour")
    assert [str(l) for l in doc.workflow.nodes["t"].inputs["colour"]] == ["text.text"]


def test_undo_and_redo_every_edit(doc):
    original = doc.workflow.dumps()
    doc.set_param("a", "text", "blue")
    doc.move({"a": [50, 60]})
    doc.delete(["a"])
    assert "a" not in doc.workflow.nodes and "colour" not in doc.workflow.nodes["t"].inputs
    while doc.undo():
        pass
    assert doc.workflow.dumps() == original
    while doc.redo():
        pass
    assert "a" not in doc.workflow.nodes


def test_typing_in_one_param_is_one_undo_step(doc):
    for text in ("b", "bl", "blu", "blue"):
        doc.set_param("a", "text", text)
    doc.undo()
    assert doc.workflow.nodes["a"].params["text"] == "red"


def test_history_is_bounded(doc):
    for i in range(HISTORY + 10):
        doc.move({"a": [i, i]})
    assert len(doc.undo_stack) == HISTORY


def test_unknown_ui_keys_survive_edits_and_undo(doc):
    doc.move({"t": [10, 10]})
    doc.undo()
    data = json.loads(doc.workflow.dumps())
    assert data["ui"]["theme"] == "keep me" and data["ui"]["nodes"]["t"]["custom"] is True


def test_panning_is_saved_but_not_an_unsaved_change(doc):
    doc.set_viewport(10, 20, 0.5)
    assert not doc.dirty and doc.workflow.ui["viewport"] == {"x": 10, "y": 20, "zoom": 0.5}
    doc.set_param("a", "text", "green")
    assert doc.dirty
    doc.mark_saved()
    assert not doc.dirty


def test_paste_renames_and_keeps_inner_links_only(doc):
    clipboard = doc.fragment(["t"]).dumps()
    new = doc.paste(clipboard, 500, 500)
    assert new == ["t_2"]
    assert doc.workflow.nodes["t_2"].inputs == {}  # its link came from outside the copied nodes
    assert (doc.workflow.ui["nodes"]["t_2"]["x"], doc.workflow.ui["nodes"]["t_2"]["y"]) == (500, 500)
    both = doc.paste(doc.fragment(["a", "t"]).dumps(), 0, 900)
    a2, t2 = both
    assert [str(l) for l in doc.workflow.nodes[t2].inputs["colour"]] == [f"{a2}.text"]


def test_duplicate_keeps_links_from_outside(doc):
    (copy,) = doc.duplicate(["t"])
    assert [str(l) for l in doc.workflow.nodes[copy].inputs["colour"]] == ["a.text"]


def test_paste_of_something_else_is_refused(doc):
    with pytest.raises(EditRefused, match="clipboard"):
        doc.paste("just some text", 0, 0)


def test_extra_inputs_need_plain_names(doc):
    doc.add_extra_input("t", "surface")
    assert doc.node_view("t")["extra"] == ["surface"]
    with pytest.raises(EditRefused):
        doc.add_extra_input("t", "template")  # a param's name
    with pytest.raises(EditRefused):
        doc.add_extra_input("a", "x")  # text.text takes no extra inputs


def test_a_file_without_layout_is_laid_out_by_depth(catalogue, make_workflow):
    doc = Document(make_workflow({"b": {"type": "text.template", "inputs": {"x": "a.text"}},
                                  "a": {"type": "text.text"}}), catalogue)
    spots = doc.workflow.ui["nodes"]
    assert spots["a"]["x"] < spots["b"]["x"]


def test_regenerate_sets_a_new_seed_only_where_there_is_one(doc):
    assert not doc.regenerate_seed("a")
    gen = doc.add_node("gemini.generate", 0, 0)
    seeds = set()
    for _ in range(3):
        assert doc.regenerate_seed(gen)
        seeds.add(doc.workflow.nodes[gen].params["seed"])
    assert len(seeds) > 1


def test_replace_starts_a_fresh_history(doc):
    doc.set_param("a", "text", "blue")
    doc.replace(Workflow(name="other"))
    assert not doc.undo() and not doc.dirty


def test_expose_a_param_as_a_workflow_input_and_undo_it(doc):
    doc.expose("colour", "a", "text", "Which colour")
    assert doc.workflow.inputs["colour"].to_dict() == {"node": "a", "param": "text", "description": "Which colour"}
    with pytest.raises(EditRefused, match="already"):
        doc.expose("colour", "t", "template")
    with pytest.raises(EditRefused, match="no param"):
        doc.expose("size", "a", "size")
    doc.undo()
    assert "colour" not in doc.workflow.inputs
    doc.redo()
    doc.unexpose("colour")
    assert not doc.workflow.inputs


def test_disable_and_fold_are_undoable_and_fold_is_layout_only(doc):
    doc.set_disabled("a", True)
    doc.set_collapsed("t", True)
    data = json.loads(doc.workflow.dumps())
    assert data["nodes"]["a"]["disabled"] is True and data["ui"]["nodes"]["t"]["collapsed"] is True
    assert "collapsed" not in data["nodes"]["t"]
    assert doc.node_view("t")["collapsed"] and doc.node_view("a")["disabled"]
    doc.undo()
    doc.undo()
    assert not doc.node_view("t")["collapsed"] and not doc.node_view("a")["disabled"]


def test_warnings_apart_from_problems_and_retired_model_ids_updated_in_one_step(catalogue, make_workflow):
    doc = Document(make_workflow({
        "old": {"type": "gemini.generate", "params": {"prompt": "a pear", "model": "gemini-3-pro-image-preview"}},
        "alias": {"type": "gemini.generate", "params": {"prompt": "a fig", "model": "nano-banana-pro"}},
        "text": {"type": "gemini.prompt", "params": {"text": "a plum", "model": "gemini-2.5-flash"}},
        "show": {"type": "image.preview", "inputs": {"image": "old.image"}},
    }), catalogue)
    view = doc.view()
    assert view["problems"] == [] and doc.problems() == []  # a warning does not stop a run
    warned = {w["node"]: w for w in view["warnings"]}
    assert set(warned) == {"old", "text"}  # an alias is no warning
    assert warned["old"]["successor"] == "gemini-3-pro-image" and "2026-06-25" in warned["old"]["message"]
    assert warned["text"]["successor"] == "gemini-flash-latest"

    assert doc.update_retired_models() == {"old": ("gemini-3-pro-image-preview", "gemini-3-pro-image"),
                                           "text": ("gemini-2.5-flash", "gemini-flash-latest")}
    assert doc.workflow.nodes["alias"].params["model"] == "nano-banana-pro"  # aliases stay as written
    assert doc.patch()["warnings"] == [] and doc.update_retired_models() == {}
    assert doc.undo() and doc.workflow.nodes["old"].params["model"] == "gemini-3-pro-image-preview"
    assert doc.workflow.nodes["text"].params["model"] == "gemini-2.5-flash"  # both came back in one step
