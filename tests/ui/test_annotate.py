"""Groups and sticky notes in the editor's document: added, edited, moved with their nodes, deleted (keeping the
nodes), undone, and sent to the canvas only when they change."""
from __future__ import annotations

import pytest

from flowbanana.annotations import GROUP_COLOR
from flowbanana.ui.document import Document
from flowbanana.workflow import loads


@pytest.fixture
def doc(catalogue, make_workflow) -> Document:
    workflow = make_workflow({"a": {"type": "text.text"}, "b": {"type": "text.text"}},
                             ui={"nodes": {"a": {"x": 0, "y": 0}, "b": {"x": 400, "y": 0}}})
    return Document(workflow, catalogue)


def test_a_group_is_added_renamed_recoloured_and_deleted_keeping_its_nodes(doc):
    doc.view()
    group = doc.add_group(-30.4, -50, 700, 260.6, title=" Prompts ")
    assert (group, doc.workflow.groups[group].title) == ("group", "Prompts")
    assert doc.workflow.groups[group].h == 261 and doc.workflow.groups[group].color == GROUP_COLOR
    assert doc.patch()["groups"] == {group: {"title": "Prompts", "color": GROUP_COLOR,
                                             "x": -30, "y": -50, "w": 700, "h": 261}}
    assert "groups" not in doc.patch() and "notes" not in doc.patch()  # nothing changed since
    doc.annotate({"op": "annotate", "action": "set", "kind": "groups", "id": group, "title": "Words",
                  "color": "#6a1b9a"})
    doc.annotate({"action": "set", "kind": "groups", "id": group, "color": "not a colour"})
    assert (doc.workflow.groups[group].title, doc.workflow.groups[group].color) == ("Words", "#6a1b9a")
    doc.annotate({"action": "delete", "kind": "groups", "id": group})
    assert doc.workflow.groups == {} and set(doc.workflow.nodes) == {"a", "b"}
    assert doc.patch()["groups"] == {}


def test_a_dragged_group_and_its_nodes_are_one_undo_step(doc):
    group = doc.add_group(-20, -40, 800, 300)
    saved = doc.workflow.dumps()
    doc.move({"a": [100, 200], "b": [500, 200]}, {"groups": {group: [80, 160]}, "notes": {"gone": [0, 0]}})
    assert (doc.workflow.groups[group].x, doc.workflow.groups[group].y) == (80, 160)
    assert doc.workflow.ui["nodes"]["b"] == {"x": 500, "y": 200}
    doc.undo()
    assert doc.workflow.dumps() == saved
    doc.move({}, {"groups": {"gone": [1, 1]}})  # nothing known moved: no undo step
    assert doc.workflow.dumps() == saved and len(doc.undo_stack) == 1


def test_a_note_is_typed_into_as_one_step_per_pause_and_saved_with_the_file(doc):
    note = doc.add_note(10, 300)
    steps = len(doc.undo_stack)
    for text in ("T", "Tr", "Try 3:4"):
        doc.set_note(note, text=text)
    assert len(doc.undo_stack) == steps + 1
    doc.resize_annotation("notes", note, 10, 300, 12, 500)
    assert (doc.workflow.notes[note].w, doc.workflow.notes[note].h) == (40, 500)  # never smaller than 40
    reread = loads(doc.workflow.dumps())
    assert reread.notes[note].text == "Try 3:4" and reread.groups == {}
    second = doc.add_note(0, 0, text="another")
    assert second == "note_2"
    doc.delete_annotation("notes", note)
    assert list(doc.workflow.notes) == ["note_2"]


def test_an_edit_of_a_group_that_is_gone_is_refused(doc):
    with pytest.raises(KeyError, match="no group 'ghost'"):
        doc.annotate({"action": "set", "kind": "groups", "id": "ghost", "title": "x"})
    with pytest.raises(ValueError, match="unknown annotation edit"):
        doc.annotate({"action": "explode"})


def test_the_canvas_view_has_them_and_undo_brings_a_deleted_group_back(doc):
    group = doc.add_group(0, 0, 300, 200, title="Keep")
    assert doc.view()["groups"][group]["title"] == "Keep" and doc.view()["notes"] == {}
    doc.delete_annotation("groups", group)
    assert doc.patch()["groups"] == {}
    doc.undo()
    assert doc.patch()["groups"][group]["title"] == "Keep"
