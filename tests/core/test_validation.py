"""Validation reports every problem at once, each naming the node, the port and what to do."""
import pytest

from flowbanana.validation import validate

SHOW = {"type": "test.show", "inputs": {"value": "n.value"}}


def problems_of(catalogue, make_workflow, nodes, **top):
    return validate(make_workflow(nodes, **top), catalogue)


def one(problems, code):
    found = [p for p in problems if p.code == code]
    assert found, f"no {code} problem in {[p.code for p in problems]}"
    return found[0]


def test_a_valid_workflow_has_no_problems(catalogue, make_workflow):
    assert problems_of(catalogue, make_workflow, {"n": {"type": "test.number"}, "show": SHOW}) == []


def test_unknown_type_names_the_pack_to_install(catalogue, make_workflow):
    problems = problems_of(catalogue, make_workflow, {"n": {"type": "upscale.esrgan"}, "show": SHOW},
                           requires={"flowbanana": ">=0.1", "flowbanana-upscale": ">=1.2"})
    missing = one(problems, "pack_missing")
    assert "flowbanana-upscale" in missing.message and "pip install 'flowbanana-upscale>=1.2'" in missing.hint
    unknown = one(problems, "unknown_type")
    assert unknown.node == "n" and "flowbanana-upscale>=1.2" in unknown.hint


def test_unknown_type_without_requires_suggests_neighbours(catalogue, make_workflow):
    problem = one(problems_of(catalogue, make_workflow, {"n": {"type": "test.nope"}, "show": SHOW}), "unknown_type")
    assert "test.number" in problem.hint


def test_too_old_pack_version(catalogue, make_workflow):
    problem = one(problems_of(catalogue, make_workflow, {"n": {"type": "test.number"}, "show": SHOW},
                              requires={"testing": ">=2"}), "pack_version")
    assert "testing >=2" in problem.message and "1.0.0 is installed" in problem.message


@pytest.mark.parametrize("params, code, words", [
    ({"valeu": 3}, "unknown_param", "has no param 'valeu'"),
    ({"value": "many"}, "bad_value", "expected a number"),
])
def test_param_problems(catalogue, make_workflow, params, code, words):
    problem = one(problems_of(catalogue, make_workflow, {"n": {"type": "test.number", "params": params},
                                                         "show": SHOW}), code)
    assert problem.node == "n" and words in problem.message


def test_value_out_of_range_gives_the_range(catalogue, make_workflow):
    problem = one(problems_of(catalogue, make_workflow, {
        "n": {"type": "test.number"}, "s": {"type": "test.sleep", "params": {"seconds": -1}}, "show": SHOW}),
        "bad_value")
    assert problem.node == "s" and problem.port == "seconds" and "below the minimum 0" in problem.message
    assert "0.." in problem.hint


def test_value_not_among_choices(catalogue, make_workflow):
    from flowbanana.node_api import Param
    with pytest.raises(ValueError, match="not one of a, b"):
        Param.choice("mode", ["a", "b"]).check("c")


def test_missing_required_input(catalogue, make_workflow):
    problem = one(problems_of(catalogue, make_workflow, {"n": {"type": "test.number"}, "u": {"type": "test.upper"},
                                                         "show": SHOW}), "missing_input")
    assert problem.node == "u" and problem.port == "text" and "TEXT" in problem.message


def test_link_to_missing_node_and_output(catalogue, make_workflow):
    problems = problems_of(catalogue, make_workflow, {
        "n": {"type": "test.number"},
        "a": {"type": "test.add", "inputs": {"a": "ghost.value", "b": "n.valu"}}, "show": SHOW})
    assert "'ghost', which does not exist" in one(problems, "missing_node").message
    missing = one(problems, "missing_output")
    assert missing.port == "b" and "Its outputs: value" in missing.hint


def test_type_mismatch_names_both_types(catalogue, make_workflow):
    problem = one(problems_of(catalogue, make_workflow, {
        "n": {"type": "test.number"}, "u": {"type": "test.upper", "inputs": {"text": "n.value"}}, "show": SHOW}),
        "type_mismatch")
    assert problem.node == "u" and "expects TEXT but n.value gives FLOAT" in problem.message


def test_a_link_can_feed_a_param_of_its_type(catalogue, make_workflow):
    nodes = {"n": {"type": "test.number"}, "a": {"type": "test.add", "inputs": {"a": "n.value", "offset": "n.value"}},
             "show": {"type": "test.show", "inputs": {"value": "a.sum"}}}
    assert problems_of(catalogue, make_workflow, nodes) == []
    nodes["a"]["inputs"]["offset"] = "w.items"
    nodes["w"] = {"type": "test.words"}
    assert one(problems_of(catalogue, make_workflow, nodes), "type_mismatch").port == "offset"


def test_two_links_into_a_single_value_input(catalogue, make_workflow):
    problem = one(problems_of(catalogue, make_workflow, {
        "n": {"type": "test.number"}, "m": {"type": "test.number"},
        "a": {"type": "test.add", "inputs": {"a": ["n.value", "m.value"]}}, "show": SHOW}), "many_links")
    assert problem.node == "a" and "takes one link but has 2" in problem.message


def test_a_cycle_lists_its_nodes(catalogue, make_workflow):
    problem = one(problems_of(catalogue, make_workflow, {
        "n": {"type": "test.number"},
        "a": {"type": "test.add", "inputs": {"a": "n.value", "b": "c.sum"}},
        "b": {"type": "test.add", "inputs": {"a": "a.sum"}},
        "c": {"type": "test.add", "inputs": {"a": "b.sum"}}, "show": SHOW}), "cycle")
    assert "a -> b -> c -> a" in problem.message


def test_no_node_produces_a_result(catalogue, make_workflow):
    problem = one(problems_of(catalogue, make_workflow, {"n": {"type": "test.number"}}), "no_output")
    assert "image.save" in problem.hint


def test_workflow_inputs_must_point_at_real_params(catalogue, make_workflow):
    problem = one(problems_of(catalogue, make_workflow, {"n": {"type": "test.number"}, "show": SHOW},
                              inputs={"x": {"node": "n", "param": "nope"}}), "workflow_input")
    assert problem.port == "x" and "value" in problem.hint


def test_every_problem_is_reported_at_once(catalogue, make_workflow):
    problems = problems_of(catalogue, make_workflow, {
        "n": {"type": "test.number", "params": {"value": "x"}},
        "u": {"type": "test.upper", "inputs": {"text": "n.value"}},
        "z": {"type": "zzz.zzz"}})
    assert {"bad_value", "type_mismatch", "unknown_type", "no_output"} <= {p.code for p in problems}
    assert all(p.message for p in problems)


def spelled(word):
    return {"s": {"type": "test.spelled", "params": {"word": word}}}


def test_a_node_check_error_makes_the_workflow_invalid(catalogue, make_workflow):
    problem = one(problems_of(catalogue, make_workflow, spelled("bad")), "node_check")
    assert (problem.node, problem.port, problem.severity) == ("s", "word", "error")
    assert problem.message == "node 's' (test.spelled), param 'word': 'bad' is not a word this node takes."
    assert problem.hint == "Use 'color'."


def test_a_node_check_warning_is_reported_only_when_asked_and_is_not_an_error(catalogue, make_workflow):
    workflow = make_workflow(spelled("colour"))
    assert validate(workflow, catalogue) == []
    [warning] = validate(workflow, catalogue, warnings=True)
    assert (warning.code, warning.severity, warning.port) == ("node_warning", "warning", "word")
    assert "'colour' is sent as 'color'" in warning.message and warning.to_json()["severity"] == "warning"


def test_a_node_check_sees_only_literal_params(catalogue, make_workflow):
    """A param fed by a link is unknown until the run, so the check does not judge the literal left beside it."""
    workflow = make_workflow({"s": {"type": "test.spelled", "params": {"word": "bad"}, "inputs": {"word": "w.items"}},
                              "w": {"type": "test.words"}})
    assert validate(workflow, catalogue, warnings=True) == []


def test_a_node_check_that_crashes_is_a_warning_naming_the_pack(catalogue, make_workflow, monkeypatch):
    node_type = catalogue.types["test.spelled"]
    monkeypatch.setattr(node_type, "check", lambda params: 1 / 0)
    workflow = make_workflow(spelled("color"))
    assert validate(workflow, catalogue) == []
    [warning] = validate(workflow, catalogue, warnings=True)
    assert warning.code == "check_failed" and "ZeroDivisionError" in warning.message and "testing" in warning.hint


@pytest.fixture
def reads(tmp_path, make_workflow):
    """A workflow saved in tmp_path/flow whose nodes read the given paths (with `photo` a workflow input)."""
    (tmp_path / "flow").mkdir()
    (tmp_path / "flow" / "here.png").write_bytes(b"a file")
    (tmp_path / "elsewhere.png").write_bytes(b"outside the workflow's folder")

    def build(**paths):
        nodes = {name: {"type": "test.read", "params": {"path": value}} for name, value in paths.items()}
        workflow = make_workflow(nodes, inputs={"photo": {"node": next(iter(paths)), "param": "path"}})
        workflow.source = tmp_path / "flow" / "wf.json"
        return workflow
    return build


def test_a_file_that_is_not_there_is_a_problem_before_anything_runs(catalogue, reads, tmp_path):
    problems = validate(reads(a="gone.png", b="here.png", c="sub/gone.png", d="~nosuchuser/x.png"), catalogue)
    assert {(p.code, p.node) for p in problems} == {("missing_file", "a"), ("missing_file", "c"), ("bad_path", "d")}
    first = one(problems, "missing_file")
    assert first.port == "path" and "'gone.png'" in first.message and "the workflow input 'photo'" in first.hint
    assert "c.path" in [p for p in problems if p.node == "c"][0].hint
    assert "names no user" in one(problems, "bad_path").message


def test_whether_a_file_exists_outside_the_readable_folders_is_not_told(catalogue, reads, tmp_path):
    outside = reads(a=str(tmp_path / "nothing.png"), b="../nothing.png", c="../elsewhere.png")
    assert validate(outside, catalogue) == []  # the run refuses them as outside, whether they exist or not
    allowed = validate(outside, catalogue, read_roots=(tmp_path,))
    assert {p.node for p in allowed if p.code == "missing_file"} == {"a", "b"}


TEXT_A = {"type": "text.text", "params": {"text": "a"}}


@pytest.mark.parametrize("nodes, code, node, port, words", [
    # a template field that no link feeds
    ({"t": {"type": "text.template", "params": {"template": "{subject} on {surface}"}, "inputs": {"subject": "a.text"}},
      "a": TEXT_A}, "unlinked_field", "t", "template", "{surface} has no link"),
    ({"t": {"type": "text.template", "params": {"template": "{x:>3}"}}}, "unlinked_field", "t", "template", "{x}"),
    # a size or a ratio the chosen model does not make
    ({"g": {"type": "gemini.generate", "params": {"model": "gemini-2.5-flash-image", "size": "4K"}}},
     "node_check", "g", "size", "does not make 4K"),
    ({"g": {"type": "gemini.generate", "params": {"model": "gemini-2.5-flash-image", "aspect_ratio": "8:1"}}},
     "node_check", "g", "aspect_ratio", "does not make 8:1"),
    # a file that is not there
    ({"l": {"type": "image.load", "params": {"path": "no-such.png"}}}, "missing_file", "l", "path", "no-such.png"),
    ({"c": {"type": "list.from_csv", "params": {"path": "no-such.csv"}}}, "missing_file", "c", "path", "no-such.csv"),
])
def test_what_a_run_would_stop_at_is_a_problem_before_it_runs(catalogue, make_workflow, tmp_path, nodes, code, node,
                                                                 port, words):
    workflow = make_workflow({**nodes, "show": {"type": "test.show", "inputs": {"value": "a.text"}}, "a": TEXT_A})
    workflow.source = tmp_path / "wf.json"
    problem = one(validate(workflow, catalogue), code)
    assert (problem.node, problem.port, problem.severity) == (node, port, "error") and words in problem.message


@pytest.mark.parametrize("template, inputs", [
    ("{subject} on {surface}", {"subject": "a.text", "surface": "a.text"}),
    ("{{literal}} braces and {subject}", {"subject": "a.text"}),
    ("{anything}", {"template": "a.text"}),  # the template itself comes from a link: its fields are not known yet
])
def test_a_template_whose_fields_are_all_fed_is_valid(catalogue, make_workflow, template, inputs):
    workflow = make_workflow({"a": TEXT_A, "t": {"type": "text.template", "params": {"template": template},
                                                  "inputs": inputs},
                              "show": {"type": "test.show", "inputs": {"value": "t.text"}}})
    assert validate(workflow, catalogue) == []
