"""The Python API the README documents."""
import json

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
