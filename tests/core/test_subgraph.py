"""Subgraphs: a workflow used as a node, expanded before it runs; caching, errors, nesting and cycles."""
import json

import pytest

from flowbanana.cache import Cache
from flowbanana.errors import WorkflowInvalid
from flowbanana.subgraph import Subgraphs
from flowbanana.validation import validate
from flowbanana.workflow import load

# "shout": a word, upper-cased with a suffix. Its interface: inputs word (a param), suffix (a param) and
# text (the input port its default, the word node, feeds); output loud.
SHOUT = {
    "format": "flowbanana/workflow", "version": 2, "name": "Shout", "description": "Upper-cases a word.",
    "inputs": {"word": {"node": "word", "param": "text", "description": "What to shout"},
               "suffix": {"node": "up", "param": "suffix"},
               "text": {"node": "up", "input": "text"}},
    "outputs": {"loud": {"node": "up", "output": "text", "description": "The shout"}},
    "nodes": {"word": {"type": "text.text", "params": {"text": "hi"}},
              "up": {"type": "test.upper", "params": {"suffix": "!"}, "inputs": {"text": "word.text"}},
              "show": {"type": "test.show", "inputs": {"value": "up.text"}}},
}


def doc(nodes: dict, **top) -> dict:
    return {"format": "flowbanana/workflow", "version": 2, "name": top.pop("name", "outer"), "nodes": nodes, **top}


@pytest.fixture
def folder(tmp_path):
    """A folder of workflow files: `folder(name=document, ...)` writes them and returns the folder."""
    root = tmp_path / "flows"
    root.mkdir()

    def write(**files):
        for name, content in files.items():
            (root / f"{name}.json").write_text(json.dumps(content))
        return root
    return write


def test_a_workflow_used_twice_runs_as_its_inner_nodes_named_by_path(folder, run, catalogue):
    root = folder(shout=SHOUT, outer=doc({
        "a": {"type": "workflow", "workflow": "shout.json", "params": {"word": "red"}},
        "b": {"type": "workflow", "workflow": "shout.json", "params": {"word": "blue", "suffix": "?"}},
        "both": {"type": "test.collect", "inputs": {"items": ["a.loud", "b.loud"]}}}))
    result, events = run(load(root / "outer.json"))
    assert result.ok
    assert result.output("a", "loud") == "RED!" and result.output("b", "loud") == "BLUE?"
    assert result.output("both") == 2
    assert {"a/word", "a/up", "a/show", "b/word", "b/up", "b/show", "both"} == set(result.nodes)
    started = {e.node for e in events if e.kind == "node_started"}
    assert {"a/up", "b/up"} <= started


def test_changing_one_inner_param_reruns_only_what_depends_on_it(folder, run, calls, tmp_path):
    outer = doc({"a": {"type": "workflow", "workflow": "shout.json", "params": {"word": "red"}},
                 "b": {"type": "workflow", "workflow": "shout.json", "params": {"word": "blue"}},
                 "both": {"type": "test.collect", "inputs": {"items": ["a.loud", "b.loud"]}}})
    root = folder(shout=SHOUT, outer=outer)
    cache = Cache(tmp_path / "cache")
    first, _ = run(load(root / "outer.json"), cache=cache)
    assert sorted(c[0] for c in calls) == ["a/up", "b/up"]
    calls.clear()
    outer["nodes"]["b"]["params"]["suffix"] = "?!"
    root = folder(outer=outer)
    second, _ = run(load(root / "outer.json"), cache=cache)
    assert [c[0] for c in calls] == ["b/up"]              # a's inner nodes came from the cache
    assert second.nodes["a/up"].status == "cached" and second.nodes["b/up"].status == "done"
    assert second.output("b", "loud") == "BLUE?!"


def test_a_link_into_an_input_replaces_the_default_inside_which_then_never_runs(folder, run):
    root = folder(shout=SHOUT, outer=doc({
        "w": {"type": "test.words", "params": {"text": "x y"}},
        "s": {"type": "workflow", "workflow": "shout.json", "inputs": {"text": "w.items"}},
        "show": {"type": "test.show", "inputs": {"value": "s.loud"}}}))
    result, _ = run(load(root / "outer.json"))
    assert result.output("show") == ["X!", "Y!"]          # a list through a subgraph maps its inner node
    assert "s/word" not in result.nodes                   # the default source fed nothing any more


def test_a_value_set_on_the_node_replaces_a_link_inside(folder, run):
    linked = {**SHOUT, "nodes": {**SHOUT["nodes"],
                                 "tail": {"type": "text.text", "params": {"text": "..."}},
                                 "up": {"type": "test.upper", "inputs": {"text": "word.text", "suffix": "tail.text"}}}}
    root = folder(linked=linked, outer=doc({
        "s": {"type": "workflow", "workflow": "linked.json", "params": {"suffix": "#"}}}))
    result, _ = run(load(root / "outer.json"))
    assert result.output("s", "loud") == "HI#" and "s/tail" not in result.nodes


def test_nested_subgraphs_expose_inner_inputs_and_name_the_whole_path(folder, run):
    pair = doc({"first": {"type": "workflow", "workflow": "shout.json"},
                "second": {"type": "workflow", "workflow": "shout.json", "params": {"word": "two"}},
                "join": {"type": "text.template", "params": {"template": "{a} {b}"},
                         "inputs": {"a": "first.loud", "b": "second.loud"}}},
               name="Pair", inputs={"lead": {"node": "first", "param": "word", "description": "The first word"}},
               outputs={"both": {"node": "join", "output": "text"}})
    root = folder(shout=SHOUT, pair=pair, outer=doc({
        "p": {"type": "workflow", "workflow": "pair.json", "params": {"lead": "one"}},
        "show": {"type": "test.show", "inputs": {"value": "p.both"}}}))
    workflow = load(root / "outer.json")
    result, events = run(workflow)
    assert result.output("show") == "ONE! TWO!"
    assert "p/first/up" in result.nodes and "p/second/word" in result.nodes
    assert any(e.kind == "node_finished" and e.node == "p/second/up" for e in events)


def test_errors_and_events_name_the_path(folder, run):
    root = folder(shout=SHOUT, outer=doc({"s": {"type": "workflow", "workflow": "shout.json",
                                                "params": {"word": "boom"}},
                                          "fine": {"type": "test.show", "inputs": {"value": "s.loud"}}}))
    result, events = run(load(root / "outer.json"))
    assert result.nodes["s/up"].status == "failed" and result.nodes["fine"].status == "skipped"
    failed = next(e for e in events if e.kind == "node_failed")
    assert failed.node == "s/up" and failed.data["error"].startswith("node 's/up' (test.upper): the word 'boom'")
    assert "'s/up', which failed" in result.nodes["fine"].error


def test_a_reference_cycle_is_a_problem_naming_the_chain(folder, catalogue):
    root = folder(a=doc({"b": {"type": "workflow", "workflow": "b.json"}}),
                  b=doc({"c": {"type": "workflow", "workflow": "c.json"}}),
                  c=doc({"a": {"type": "workflow", "workflow": "a.json"}}))
    problems = validate(load(root / "a.json"), catalogue)
    cycle = next(p for p in problems if p.code == "subgraph_cycle")
    assert "a.json -> b.json -> c.json -> a.json" in cycle.message
    assert cycle.node == "b/c/a"


def test_a_workflow_that_uses_itself_is_a_cycle(folder, catalogue):
    root = folder(me=doc({"me": {"type": "workflow", "workflow": "me.json"}}))
    assert "me.json -> me.json" in str(validate(load(root / "me.json"), catalogue))


@pytest.mark.parametrize("nodes, words", [
    ({"s": {"type": "workflow", "workflow": "nope.json"}}, "refers to 'nope.json', which does not exist"),
    ({"s": {"type": "workflow", "workflow": "../outside.json"}}, "outside the folders this workflow may read"),
    ({"s": {"type": "workflow", "workflow": "shout.json", "params": {"volume": 3}}},
     "node 's' (subgraph) has no input 'volume'"),
    ({"s": {"type": "workflow", "workflow": "shout.json", "params": {"text": "x"}}}, "input 'text' takes a link"),
    ({"s": {"type": "workflow", "workflow": "shout.json"},
      "t": {"type": "test.show", "inputs": {"value": "s.quiet"}}}, "subgraph 's' has no output 'quiet'"),
    ({"s": {"type": "workflow", "workflow": "broken.json"}}, "node 's/x' has unknown type 'nope.x'"),
])
def test_subgraph_problems_are_clear(folder, catalogue, nodes, words):
    (folder().parent / "outside.json").write_text(json.dumps(SHOUT))
    root = folder(shout=SHOUT, broken=doc({"x": {"type": "nope.x"}}), outer=doc(nodes))
    problems = validate(load(root / "outer.json"), catalogue)
    assert words in " | ".join(p.message for p in problems)


def test_a_reference_outside_the_folder_reads_when_allowed(folder, run, tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "note.txt").write_text("from the library")
    (lib / "reader.json").write_text(json.dumps(doc(
        {"r": {"type": "test.read", "params": {"path": "note.txt"}}},
        inputs={"path": {"node": "r", "param": "path"}}, outputs={"text": {"node": "r", "output": "text"}})))
    root = folder(outer=doc({"s": {"type": "workflow", "workflow": "../lib/reader.json"}}),
                  mine=doc({"s": {"type": "workflow", "workflow": "../lib/reader.json", "params": {"path": "mine.txt"}}}))
    (root / "mine.txt").write_text("from the outer folder")
    result, _ = run(load(root / "outer.json"), read_roots=(lib,))
    assert result.output("s", "text") == "from the library"      # the subgraph's paths are its own folder's
    result, _ = run(load(root / "mine.json"), read_roots=(lib,))
    assert result.output("s", "text") == "from the outer folder"  # a path set from outside is the outer's


def test_an_embedded_subgraph_runs_and_errors_name_its_path(run, make_workflow):
    workflow = make_workflow({"s": {"type": "workflow", "workflow": SHOUT, "params": {"word": "inline"}},
                              "show": {"type": "test.show", "inputs": {"value": "s.loud"}}})
    result, _ = run(workflow)
    assert result.output("show") == "INLINE!"


def test_force_and_targets_on_a_subgraph_node_reach_its_inner_nodes(folder, run, calls, tmp_path):
    root = folder(shout=SHOUT, outer=doc({"s": {"type": "workflow", "workflow": "shout.json"},
                                          "other": {"type": "test.upper", "inputs": {"text": "w.text"}},
                                          "w": {"type": "text.text", "params": {"text": "z"}},
                                          "show": {"type": "test.show", "inputs": {"value": "other.text"}}}))
    cache = Cache(tmp_path / "cache")
    run(load(root / "outer.json"), cache=cache)
    calls.clear()
    result, _ = run(load(root / "outer.json"), cache=cache, force=frozenset({"s"}), targets=frozenset({"s"}))
    assert [c[0] for c in calls] == ["s/up"] and "other" not in result.nodes


def test_a_disabled_subgraph_node_disables_its_inner_nodes(folder, run):
    root = folder(shout=SHOUT, outer=doc({"s": {"type": "workflow", "workflow": "shout.json", "disabled": True},
                                          "t": {"type": "test.show", "inputs": {"value": "s.loud"}},
                                          "u": {"type": "test.show", "inputs": {"value": "w.text"}},
                                          "w": {"type": "text.text"}}))
    result, _ = run(load(root / "outer.json"))
    assert result.nodes["s/up"].status == "skipped" and result.nodes["t"].status == "skipped"
    assert result.nodes["u"].status == "done"


def test_the_interface_is_typed_by_what_it_points_at(folder, catalogue):
    root = folder(shout=SHOUT)
    interface = Subgraphs(catalogue).interface(load(root / "shout.json"))
    word, suffix, text = (interface.inputs[n] for n in ("word", "suffix", "text"))
    assert (word.type, word.default, word.description, word.param.kind) == ("TEXT", "hi", "What to shout", "multiline")
    assert (suffix.default, suffix.param is not None, suffix.linked) == ("!", True, False)
    assert (text.type, text.param, text.linked, text.input.optional) == ("TEXT", None, True, True)
    assert interface.outputs["loud"].to_json() == {"name": "loud", "type": "TEXT", "list": False,
                                                   "description": "The shout", "node": "up", "port": "text"}


def test_a_subgraph_node_has_a_node_type_from_the_interface(folder, catalogue, make_workflow):
    root = folder(shout=SHOUT)
    outer = load(root / "shout.json")
    node = make_workflow({"s": {"type": "workflow", "workflow": "shout.json"}}).nodes["s"]
    node_type = Subgraphs(catalogue).node_type(node, root)
    assert node_type.title == "Shout" and node_type.description == outer.description
    assert [p.name for p in node_type.params] == ["word", "suffix"] and node_type.param("word").default == "hi"
    assert [i.name for i in node_type.inputs] == ["text"] and [o.name for o in node_type.outputs] == ["loud"]
    node.workflow = "nope.json"
    assert Subgraphs(catalogue).node_type(node, root) is None


def test_the_run_embeds_referenced_subgraphs_for_provenance(folder, catalogue, tmp_path):
    root = folder(shout=SHOUT, outer=doc({"s": {"type": "workflow", "workflow": "shout.json"}}))
    embedded = Subgraphs(catalogue).embed(load(root / "outer.json")).to_dict()
    assert embedded["nodes"]["s"]["workflow"]["name"] == "Shout"
    assert load(root / "outer.json").to_dict()["nodes"]["s"]["workflow"] == "shout.json"  # the file is untouched


def test_a_subgraph_file_from_another_folder_is_rebased_when_embedded(folder, catalogue, tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "reader.json").write_text(json.dumps(doc({"r": {"type": "test.read", "params": {"path": "note.txt"}}})))
    root = folder(outer=doc({"s": {"type": "workflow", "workflow": "../lib/reader.json"}}))
    embedded = Subgraphs(catalogue, (lib,)).embed(load(root / "outer.json"))
    assert embedded.nodes["s"].workflow.nodes["r"].params["path"] == "../lib/note.txt"


def test_invalid_subgraphs_refuse_to_run(folder, run):
    root = folder(outer=doc({"s": {"type": "workflow", "workflow": "missing.json"}}))
    with pytest.raises(WorkflowInvalid, match="missing.json"):
        run(load(root / "outer.json"))
