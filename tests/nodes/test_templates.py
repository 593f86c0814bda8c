"""{field} templates in user text (image.save file names, text.template): bounded, and refused before a run."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from flowbanana.templates import MAX_SPEC_WIDTH, TemplateError, fill, template_fields
from flowbanana.validation import validate

# each would allocate gigabytes, hang, or reach into an object, if str.format were trusted with it
HOSTILE = [
    ("{index:300000000}", "asks for a width of 300,000,000"),
    ("{index:>300000000}", "asks for a width of 300,000,000"),
    ("{index:0300}", "asks for a width of 300"),
    ("{index:x^99999999999}", "asks for a width of 99,999,999,999"),
    ("{index:.300000000f}", "asks for a precision of 300,000,000"),
    ("{index:{name}}", "contains another field"),
    ("{index:{name}{name}}", "contains another field"),
    ("{name.__class__}", "is not a plain field name"),
    ("{name[0]}", "is not a plain field name"),
    ("{0}", "is not a plain field name"),
    ("{}", "has no field name"),
    ("{index:%Y}", "is not a format like"),
    ("{name", "malformed"),
]


@pytest.mark.parametrize("template, message", HOSTILE)
def test_hostile_templates_are_refused(template, message):
    with pytest.raises(TemplateError, match=message):
        template_fields(template)
    with pytest.raises(TemplateError, match=message):
        fill(template, {"index": 1, "name": "x"})


@pytest.mark.parametrize("template, filled", [
    ("{name}_{index:03d}.png", "shoe_007.png"), ("{index:>8}", "       7"), ("{index:.2f}", "7.00"),
    ("{name!r}", "'shoe'"), ("{{literal}} {name}", "{literal} shoe"), (f"{{index:0{MAX_SPEC_WIDTH}d}}", "0" * 63 + "7"),
])
def test_ordinary_formats_still_work(template, filled):
    assert fill(template, {"index": 7, "name": "shoe"}) == filled


def test_the_filled_length_is_bounded_whatever_the_values():
    with pytest.raises(TemplateError, match="would be over 1,000 characters") as caught:
        fill("{a}" * 100, {"a": "x" * 100}, max_length=1000)
    assert "Shorten" in caught.value.hint


@pytest.mark.parametrize("template, message", HOSTILE)
@pytest.mark.parametrize("node_type, param", [("image.save", "filename"), ("text.template", "template")])
def test_validate_catches_them_naming_node_and_param(catalogue, make_workflow, node_type, param, template, message):
    nodes = {"load": {"type": "image.load", "params": {"path": "photo.png"}},
             "save": {"type": "image.save", "inputs": {"image": "load.image"}}}
    nodes.setdefault("t", {"type": node_type})
    if node_type == "image.save":
        nodes["save"]["params"] = {param: template}
        target = "save"
    else:
        nodes["t"]["params"] = {param: template}
        target = "t"
    problems = [p for p in validate(make_workflow(nodes), catalogue) if p.code == "bad_value"]
    assert len(problems) == 1, problems
    problem = problems[0]
    assert (problem.node, problem.port) == (target, param) and message in problem.message
    assert f"node {target!r}" in problem.message and "widths and precisions up to 64" in problem.hint


def test_a_template_fed_by_a_link_is_checked_when_it_runs(run):
    """The param check cannot see a template that arrives by link; the node refuses it at once, not after hanging."""
    result, _ = run({"spec": {"type": "text.text", "params": {"text": "{a:>300000000}"}},
                     "a": {"type": "text.text", "params": {"text": "x"}},
                     "t": {"type": "text.template", "inputs": {"template": "spec.text", "a": "a.text"}},
                     "show": {"type": "test.show", "inputs": {"value": "t.text"}}})
    failed = result.nodes["t"]
    assert failed.status == "failed" and "asks for a width of 300,000,000" in failed.error


def test_a_filled_template_stops_at_its_limit(run):
    big = "x" * 100_000
    result, _ = run({"a": {"type": "text.text", "params": {"text": big}},
                     "t": {"type": "text.template", "params": {"template": "{a}" * 20}, "inputs": {"a": "a.text"}},
                     "show": {"type": "test.show", "inputs": {"value": "t.text"}}})
    assert result.nodes["t"].status == "failed" and "over 1,000,000 characters" in result.nodes["t"].error


def test_cli_validate_exits_2_before_running(tmp_path):
    path = tmp_path / "bomb.json"
    path.write_text(json.dumps({"format": "flowbanana/workflow", "version": 1, "name": "bomb", "nodes": {
        "load": {"type": "image.load", "params": {"path": "photo.png"}},
        "save": {"type": "image.save", "params": {"filename": "{index:300000000}.png"},
                 "inputs": {"image": "load.image"}}}}))
    for command in ("validate", "run"):
        done = subprocess.run([sys.executable, "-m", "flowbanana", command, str(path)], capture_output=True,
                              text=True, timeout=60, cwd=tmp_path, env={**os.environ})
        assert done.returncode == 2, done.stderr
        assert "node 'save' (image.save), param 'filename'" in done.stderr and "the most is 64" in done.stderr
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "outputs").exists()
