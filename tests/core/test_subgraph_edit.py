"""Making a subgraph from selected nodes and unpacking one: the workflow computes the same before and after."""
from pathlib import Path

import pytest

from flowbanana.overrides import apply_overrides
from flowbanana.subgraph import Subgraphs
from flowbanana.subgraph_edit import RegroupRefused, make_subgraph, unpack_subgraph
from flowbanana.validation import validate
from flowbanana.workflow import SUBGRAPH, Link, from_dict, load

EXAMPLES = Path(__file__).parents[2] / "workflows"


@pytest.fixture
def chain(make_workflow):
    return make_workflow({
        "w": {"type": "test.words", "params": {"text": "red green"}},
        "tail": {"type": "text.text", "params": {"text": "!"}},
        "u": {"type": "test.upper", "inputs": {"text": "w.items", "suffix": "tail.text"}},
        "again": {"type": "test.upper", "params": {"suffix": "?"}, "inputs": {"text": "u.text"}},
        "show": {"type": "test.show", "inputs": {"value": "again.text"}},
        "count": {"type": "test.collect", "inputs": {"items": ["u.text"]}}},
        inputs={"words": {"node": "w", "param": "text"}, "ask": {"node": "again", "param": "suffix"}},
        outputs={"shout": {"node": "again", "output": "text"}},
        ui={"nodes": {"u": {"x": 300, "y": 100}, "again": {"x": 600, "y": 140}}})


def test_a_selection_becomes_a_subgraph_node_with_the_crossing_links_as_its_ports(chain, catalogue, run):
    made = make_subgraph(chain, ["u", "again"], Subgraphs(catalogue), name="Shouting")
    sub = made.nodes["subgraph"]
    assert set(made.nodes) == {"w", "tail", "subgraph", "show", "count"} and sub.type == SUBGRAPH
    inner = sub.workflow
    assert inner.name == "Shouting" and set(inner.nodes) == {"u", "again"}
    assert {k: (v.node, v.port, bool(v.param)) for k, v in inner.inputs.items()} == {
        "text": ("u", "text", False), "suffix": ("u", "suffix", True), "again_suffix": ("again", "suffix", True)}
    assert {k: (v.node, v.output) for k, v in inner.outputs.items()} == {"text": ("again", "text"), "u_text": ("u", "text")}
    assert [str(l) for l in sub.inputs["text"]] == ["w.items"] and [str(l) for l in sub.inputs["suffix"]] == ["tail.text"]
    assert [str(l) for l in made.nodes["show"].inputs["value"]] == ["subgraph.text"]
    assert [str(l) for l in made.nodes["count"].inputs["items"]] == ["subgraph.u_text"]
    assert (made.inputs["ask"].node, made.inputs["ask"].param) == ("subgraph", "again_suffix")
    assert (made.outputs["shout"].node, made.outputs["shout"].output) == ("subgraph", "text")
    assert made.ui["nodes"]["subgraph"] == {"x": 300, "y": 100} and inner.ui["nodes"]["again"] == {"x": 340, "y": 80}
    assert validate(made, catalogue) == []
    before, _ = run(chain)
    after, _ = run(from_dict(made.to_dict()))           # as saved and read back
    assert after.output("show") == before.output("show") == ["RED!?", "GREEN!?"]
    assert after.output("count") == 2 and after.named_outputs() == before.named_outputs()
    asked, _ = run(apply_overrides(made, catalogue, {"ask": "?!"}))   # the workflow's input still reaches it
    assert asked.output("show") == ["RED!?!", "GREEN!?!"]


def test_a_selection_a_path_leaves_and_reenters_is_refused(chain, catalogue):
    chain.nodes["again"].inputs["suffix"] = [Link("tail", "text")]
    with pytest.raises(RegroupRefused, match="'again' is fed by the selection and feeds it"):
        make_subgraph(chain, ["u", "tail", "show"], Subgraphs(catalogue))
    with pytest.raises(RegroupRefused, match="select the nodes"):
        make_subgraph(chain, ["ghost"], Subgraphs(catalogue))


def test_unpacking_a_made_subgraph_gives_back_the_same_workflow(chain, catalogue, run):
    subgraphs = Subgraphs(catalogue)
    back = unpack_subgraph(make_subgraph(chain, ["u", "again"], subgraphs), "subgraph", subgraphs)
    assert back.to_dict() == chain.to_dict()
    with pytest.raises(RegroupRefused, match="not a subgraph"):
        unpack_subgraph(chain, "u", subgraphs)


def test_unpacking_a_subgraph_file_used_twice_applies_each_nodes_values_and_links(catalogue, run, tmp_path):
    pair = load(EXAMPLES / "polaroid-pair.json")
    subgraphs = Subgraphs(catalogue)
    flat = unpack_subgraph(unpack_subgraph(pair, "left", subgraphs), "right", subgraphs)
    assert not [n for n in flat.nodes.values() if n.type == SUBGRAPH]
    assert flat.nodes["caption"].params["text"] == "In colour" and flat.nodes["right_caption"].params["text"] == \
        "In black and white"
    assert "left_photo" not in flat.nodes and "right_photo" not in flat.nodes   # the defaults fed nothing any more
    assert [str(l) for l in flat.nodes["square"].inputs["image"]] == ["warm.image"]
    assert (flat.inputs["left_caption"].node, flat.inputs["left_caption"].param) == ("caption", "text")
    assert validate(flat, catalogue) == []
    before, _ = run(pair, out_dir=tmp_path / "a")
    after, _ = run(flat, out_dir=tmp_path / "b")
    assert after.output("sheet").tobytes() == before.output("sheet").tobytes()
