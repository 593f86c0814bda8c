"""Subgraphs in the editor's document, without a browser: palette nodes, make, open and back, unpack, outputs."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flowbanana.ui.document import Document, EditRefused
from flowbanana.ui.levels import LevelStatuses
from flowbanana.workflow import SUBGRAPH, Workflow, load

EXAMPLES = Path(__file__).parents[2] / "workflows"


@pytest.fixture
def library(tmp_path):
    """A workflows folder with the Polaroid subgraph, the pair using it, and their input photo."""
    folder = tmp_path / "workflows"
    (folder / "inputs").mkdir(parents=True)
    for name in ("polaroid.json", "polaroid-pair.json"):
        shutil.copy(EXAMPLES / name, folder)
    shutil.copy(EXAMPLES / "inputs" / "product.jpg", folder / "inputs")
    return folder


@pytest.fixture
def pair(library, catalogue) -> Document:
    return Document(load(library / "polaroid-pair.json"), catalogue, read_roots=(library,))


def test_a_subgraph_node_is_drawn_from_its_workflows_interface(pair):
    view = pair.view()["nodes"]["left"]
    assert view["workflow"] == "polaroid.json" and view["def"]["title"] == "Polaroid"
    assert [p["name"] for p in view["def"]["inputs"]] == ["photo"]
    assert [p["name"] for p in view["def"]["params"]] == ["caption", "tilt"]
    assert [o["name"] for o in view["def"]["outputs"]] == ["print"]
    assert pair.problems() == []


def test_a_saved_workflow_from_the_palette_is_a_node_referring_to_its_file(catalogue, library, tmp_path):
    elsewhere = tmp_path / "mine"
    elsewhere.mkdir()
    doc = Document(Workflow(name="mine", source=elsewhere / "mine.json"), catalogue, read_roots=(library,))
    node_id = doc.add_node(SUBGRAPH, 100, 100, workflow=library / "polaroid.json")
    assert node_id == "polaroid" and doc.workflow.nodes[node_id].workflow == "../workflows/polaroid.json"
    doc.add_node("image.preview", 400, 100)
    doc.connect("polaroid", "print", "preview", "image")
    assert doc.problems() == []
    doc.rebase_references(library)                      # saved into the workflows folder itself
    assert doc.workflow.nodes[node_id].workflow == "polaroid.json"


def test_problems_inside_a_subgraph_mark_the_subgraph_node_and_inside_it_the_inner_node(pair, library):
    text = json.loads((library / "polaroid.json").read_text())
    text["nodes"]["caption"]["params"]["size"] = 99999
    (library / "polaroid.json").write_text(json.dumps(text))
    assert {p["node"] for p in pair.problems()} == {"left", "right"}
    pair.open_subgraph("left")
    inside = pair.problems()
    assert [p["node"] for p in inside] == ["caption", None]   # the other print's problem has no node here
    assert "'right/caption'" in inside[1]["message"]


def test_open_edit_and_back_writes_an_embedded_subgraph_into_its_node_as_one_step(pair):
    made = pair.make_subgraph(["warm", "mono"])
    pair.open_subgraph(made)
    assert pair.path == made and pair.breadcrumb() == ["Polaroid pair", "Subgraph"]
    assert set(pair.workflow.nodes) == {"warm", "mono"}
    pair.set_param("warm", "saturation", 2.0)
    pair.set_param("warm", "contrast", 1.5)
    assert pair.dirty and pair.root().nodes[made].workflow.nodes["warm"].params["saturation"] == 2.0
    assert pair.close_subgraph() is None
    assert pair.path == "" and pair.workflow.nodes[made].workflow.nodes["warm"].params == {
        "saturation": 2.0, "contrast": 1.5}
    pair.undo()                                          # the subgraph's edits, undone in one step
    assert pair.workflow.nodes[made].workflow.nodes["warm"].params == {"saturation": 1.4, "contrast": 1.1}
    pair.undo()                                          # and then making it
    assert "warm" in pair.workflow.nodes and made not in pair.workflow.nodes


def test_a_subgraph_file_edited_in_place_is_written_on_the_way_back(pair, library):
    pair.open_subgraph("left")
    pair.set_param("caption", "size", 20)
    assert pair.runnable().nodes["left"].workflow.nodes["caption"].params["size"] == 20  # a run now sees it
    assert load(library / "polaroid.json").nodes["caption"].params["size"] == 36
    assert pair.close_subgraph() == library / "polaroid.json"
    assert load(library / "polaroid.json").nodes["caption"].params["size"] == 20
    assert pair.workflow.nodes["left"].workflow == "polaroid.json" and not pair.dirty


def test_unpack_and_refusals(pair):
    new = pair.unpack("left")
    assert {"square", "caption", "tilt"} <= set(new) and "left" not in pair.workflow.nodes
    assert pair.problems() == []
    with pytest.raises(EditRefused, match="not a subgraph"):
        pair.unpack("warm")
    with pytest.raises(EditRefused, match="not a subgraph"):
        pair.open_subgraph("warm")
    with pytest.raises(EditRefused, match="select the nodes"):
        pair.make_subgraph([])


def test_an_output_exposed_from_a_node_and_removed(pair):
    pair.expose_output("warmer", "warm", "image", "the warmer photo")
    assert pair.workflow.outputs["warmer"].to_dict() == {"node": "warm", "output": "image",
                                                        "description": "the warmer photo"}
    with pytest.raises(EditRefused, match="already has an output"):
        pair.expose_output("warmer", "mono", "image")
    with pytest.raises(EditRefused, match="cannot be an output name"):
        pair.expose_output("2 bad", "mono", "image")
    with pytest.raises(EditRefused, match="no output 'nope'"):
        pair.expose_output("x", "mono", "nope")
    pair.delete(["warm"])
    assert "warmer" not in pair.workflow.outputs


def test_statuses_are_shown_by_level():
    levels = LevelStatuses()
    shown = levels.local({"left/square": {"state": "done"}, "left/tilt": {"state": "running"},
                          "sheet": {"state": "queued"}}, "", {"left": "left/tilt"})
    assert shown["sheet"] == {"state": "queued"} and shown["left"]["state"] == "running"
    shown = levels.local({"left/tilt": {"state": "failed", "error": "too wide"}}, "", {"left": "left/tilt"})
    assert shown["left"]["state"] == "failed" and shown["left"]["error"] == "tilt: too wide"
    shown = levels.local({"left/tilt": {"history": [{"thumb": "t.jpg"}]}}, "", {"left": "left/tilt"})
    assert shown["left"]["history"] == [{"thumb": "t.jpg"}]
    inside = levels.local({"left/tilt": {"state": "done"}, "right/tilt": {"state": "done"}}, "left", {})
    assert inside == {"tilt": {"state": "done"}}
