"""The Python API the README documents."""
import json
import re

import pytest

import flowbanana


@pytest.fixture
def workflow_path(tmp_path):
    path = tmp_path / "wf.json"
    path.write_text(json.dumps({
        "format": "flowbanana/workflow", "version": 2, "name": "api",
        "inputs": {"subject": {"node": "s", "param": "text"}},
        "nodes": {"s": {"type": "text.text", "params": {"text": "a cat"}},
                  "t": {"type": "text.template", "params": {"template": "photo of {s}"}, "inputs": {"s": "s.text"}},
                  "show": {"type": "test.show", "inputs": {"value": "t.text"}}}}))
    return path


def test_load_override_run_and_read_results(workflow_path, tmp_path, catalogue):
    workflow = flowbanana.load(workflow_path)
    result = flowbanana.run(workflow, inputs={"subject": "a teapot"}, out_dir=tmp_path / "out",
                            cache_dir=tmp_path / "cache", nodes=catalogue)
    assert result.ok and result.output("show") == "photo of a teapot"
    assert workflow.nodes["s"].params["text"] == "a cat"      # overrides never touch the loaded model


async def test_async_run_with_events(workflow_path, tmp_path, catalogue):
    events = []
    result = await flowbanana.run_async(workflow_path, use_cache=False, out_dir=tmp_path, nodes=catalogue,
                                        on_event=events.append)
    assert result.output("t", "text") == "photo of a cat" and events[-1].kind == "run_finished"


def test_an_invalid_workflow_raises_before_anything_runs(workflow_path, tmp_path, catalogue):
    workflow = flowbanana.load(workflow_path)
    workflow.nodes["show"].inputs.clear()
    with pytest.raises(flowbanana.WorkflowInvalid) as info:
        flowbanana.run(workflow, use_cache=False, out_dir=tmp_path / "out", nodes=catalogue)
    assert [(p.code, p.node) for p in info.value.problems] == [("missing_input", "show")]
    assert not (tmp_path / "out").exists()


def test_a_bad_value_for_a_number_says_which_numbers_fit(make_workflow, catalogue):
    from flowbanana.overrides import apply_overrides
    workflow = make_workflow({"nap": {"type": "test.sleep"}, "show": {"type": "test.show",
                                                                     "inputs": {"value": "nap.label"}}})
    with pytest.raises(flowbanana.WorkflowInvalid) as err:
        apply_overrides(workflow, catalogue, {"nap.seconds": "soon"})
    problem, = err.value.problems
    assert (problem.node, problem.port, problem.hint) == ("nap", "seconds", "Allowed range: 0..")
    assert problem.message.startswith("--set nap.seconds: ")


def test_load_and_run_take_a_bundle_and_an_image_as_the_cli_does(tmp_path, catalogue, monkeypatch):
    from PIL import Image
    from flowbanana.bundle import export_bundle
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # bundles unpack under the cache
    Image.new("RGB", (12, 9), "navy").save(tmp_path / "in.png")
    (tmp_path / "wf.json").write_text(json.dumps({"format": "flowbanana/workflow", "version": 2, "name": "Pic",
        "nodes": {"load": {"type": "image.load", "params": {"path": "in.png"}},
                  "save": {"type": "image.save", "params": {"filename": "pic.png"}, "inputs": {"image": "load.image"}}}}))
    bundle = export_bundle(flowbanana.load(tmp_path / "wf.json"), catalogue, tmp_path / "pic.zip")
    from_bundle = flowbanana.run(bundle, out_dir=tmp_path, use_cache=False, nodes=catalogue)
    assert from_bundle.ok and from_bundle.output("load", "width") == 12
    # the image's workflow reads in.png beside the image, where this one was written
    again = flowbanana.run(from_bundle.files[0], out_dir=tmp_path / "b", use_cache=False, nodes=catalogue)
    assert again.ok and flowbanana.load(from_bundle.files[0]).name == "Pic"


CLI_WORDS = re.compile(r"--[a-z]")  # --set, --provider, --allow-read, --debug, --rpm: the command line's words


def said(problems) -> str:
    return " ".join(f"{p.message} {p.hint}" for p in problems)


@pytest.mark.parametrize("inputs, words", [
    ({"nope": "x"}, "inputs['nope']: the workflow has no input 'nope'"),
    ({"s.nope": "x"}, "inputs['s.nope']: no param 'nope' on node 's'"),
    ({"nap.seconds": "soon"}, "inputs['nap.seconds']: "),
    ({"nap.after": "x"}, "inputs['nap.after']: no param 'after'"),
])
def test_bad_inputs_are_told_in_python_words(workflow_path, tmp_path, catalogue, inputs, words):
    workflow = flowbanana.load(workflow_path)
    workflow.nodes["nap"] = flowbanana.loads(json.dumps({"format": "flowbanana/workflow", "version": 2, "name": "n",
                                                         "nodes": {"nap": {"type": "test.sleep"}}})).nodes["nap"]
    with pytest.raises(flowbanana.WorkflowInvalid) as info:
        flowbanana.run(workflow, inputs=inputs, use_cache=False, out_dir=tmp_path / "out", nodes=catalogue)
    text = said(info.value.problems)
    assert words in text and not CLI_WORDS.search(text), text


def test_gemini_without_a_key_is_told_in_python_words(workflow_path, tmp_path, catalogue, monkeypatch):
    for name in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "NANO_BANANA_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(flowbanana.ProviderUnavailable) as info:
        flowbanana.run(workflow_path, provider="gemini", use_cache=False, out_dir=tmp_path, nodes=catalogue)
    assert 'provider="gemini" needs an API key' in str(info.value) and 'provider="offline"' in str(info.value)
    assert not CLI_WORDS.search(str(info.value))


@pytest.mark.parametrize("node, words", [
    ({"type": "test.read", "params": {"path": "../outside.txt"}}, "read_roots=[DIR]"),
    ({"type": "test.fail", "params": {"how": "crash"}}, "DEBUG logging"),
])
def test_a_node_failing_in_a_python_run_is_told_in_python_words(tmp_path, catalogue, node, words):
    (tmp_path / "outside.txt").write_text("not the workflow's")
    (tmp_path / "flow").mkdir()
    (tmp_path / "flow" / "wf.json").write_text(json.dumps({"format": "flowbanana/workflow", "version": 2,
        "name": "f", "nodes": {"n": node, "show": {"type": "test.show", "inputs": {"value": "n.text"}}
                               if node["type"] == "test.read" else {"type": "test.collect",
                                                                   "inputs": {"items": ["n.value"]}}}}))
    result = flowbanana.run(tmp_path / "flow" / "wf.json", use_cache=False, out_dir=tmp_path / "out",
                            nodes=catalogue)
    failed = result.nodes["n"]
    assert failed.status == "failed" and words in failed.hint and not CLI_WORDS.search(failed.error + failed.hint)


@pytest.mark.parametrize("node, name, words", [
    ("show", "typo", "node 'show' has no output 'typo'; its outputs: value."),
    ("nope", "value", "the run has no node 'nope'; its nodes: s, show, t."),
    ("nope", None, "the run has no node 'nope'"),
    ("load", None, "node 'load' has outputs image, width, height: name one"),
    ("load", "size", "node 'load' has no output 'size'; its outputs: image, width, height."),
])
def test_asking_a_result_for_an_output_it_lacks_names_what_it_has(workflow_path, tmp_path, catalogue, node, name,
                                                                   words):
    from PIL import Image
    Image.new("RGB", (4, 3)).save(tmp_path / "in.png")
    workflow = flowbanana.load(workflow_path)
    if node == "load":
        workflow = flowbanana.loads(json.dumps({"format": "flowbanana/workflow", "version": 2, "name": "l",
            "nodes": {"load": {"type": "image.load", "params": {"path": "in.png"}},
                      "show": {"type": "image.preview", "inputs": {"image": "load.image"}}}}), source=workflow_path)
    result = flowbanana.run(workflow, use_cache=False, out_dir=tmp_path / "out", nodes=catalogue)
    with pytest.raises(KeyError) as info:
        result.output(node, name)
    assert words in str(info.value) and not str(info.value).startswith(("'", '"'))


def test_a_failed_nodes_output_says_it_failed(tmp_path, catalogue, make_workflow):
    workflow = make_workflow({"n": {"type": "test.fail"}, "c": {"type": "test.collect", "inputs": {"items": ["n.value"]}}})
    result = flowbanana.run(workflow, use_cache=False, out_dir=tmp_path, nodes=catalogue)
    with pytest.raises(KeyError, match=r"node 'n' has no outputs: it failed \(this node always fails.\)"):
        result.output("n", "value")


def test_a_subgraph_outside_the_readable_folders_is_told_in_python_words(tmp_path, catalogue):
    (tmp_path / "flow").mkdir()
    (tmp_path / "inner.json").write_text(json.dumps({"format": "flowbanana/workflow", "version": 2, "name": "in",
                                                     "nodes": {"t": {"type": "text.text"}}}))
    (tmp_path / "flow" / "wf.json").write_text(json.dumps({"format": "flowbanana/workflow", "version": 2,
        "name": "outer", "nodes": {"sub": {"type": "workflow", "workflow": "../inner.json"}}}))
    workflow = flowbanana.load(tmp_path / "flow" / "wf.json")
    text = said(flowbanana.validate(workflow, catalogue))
    assert "read_roots=[DIR]" in text and not CLI_WORDS.search(text), text
    with pytest.raises(flowbanana.WorkflowInvalid) as info:
        flowbanana.run(workflow, use_cache=False, out_dir=tmp_path / "out", nodes=catalogue)
    assert "read_roots=[DIR]" in said(info.value.problems) and not CLI_WORDS.search(said(info.value.problems))
