"""Property tests over the workflow format: whatever a file holds, reading and validating it gives a workflow or
a list of problems, never another exception, and what is read writes back the same. Fixed seed, bounded size."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowbanana.errors import WorkflowInvalid
from flowbanana.validation import validate
from flowbanana.workflow import FORMAT, loads

EXAMPLES = sorted((Path(__file__).parents[2] / "workflows").glob("*.json"))
FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))

scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=10**300, max_value=10**310)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12)
           | st.sampled_from(["", "{index:300000000}", "{a:{b}}", "{name.__class__}", "../../etc/passwd", "~root/x",
                              "a\x00b", "#zzzzzz", "16:9", "image.load", "n.image", "flowbanana/workflow"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                                          max_size=4), max_leaves=12)


@st.composite
def nodes(draw, catalogue):
    types = sorted(catalogue.types)
    node_type = draw(st.sampled_from(types) | values)
    declared = catalogue.get(node_type) if isinstance(node_type, str) else None
    names = [p.name for p in declared.params] if declared else []
    ports = [i.name for i in declared.inputs] if declared else []
    node = {"type": node_type,
            "params": draw(st.dictionaries(st.sampled_from(names) if names else st.text(max_size=6), values,
                                           max_size=4) | values),
            "inputs": draw(st.dictionaries(st.sampled_from(ports) if ports else st.text(max_size=6),
                                           st.sampled_from(["a.image", "b.text", "a.items", "nope", ""]) | values,
                                           max_size=3) | values)}
    for key in draw(st.sets(st.sampled_from(["title", "notes", "disabled", "extra"]), max_size=2)):
        node[key] = draw(values)
    return draw(st.just(node) | values)


@st.composite
def documents(draw, catalogue):
    doc = {"format": draw(st.just(FORMAT) | values), "version": draw(st.just(1) | values),
           "nodes": draw(st.dictionaries(st.sampled_from(["a", "b", "c", "bad id", ""]), nodes(catalogue), max_size=4)
                         | values)}
    top = ["name", "description", "requires", "inputs", "groups", "notes", "ui", "junk"]
    for key in draw(st.sets(st.sampled_from(top), max_size=3)):
        doc[key] = draw(values)
    return doc


def read(text: str, catalogue) -> None:
    """The property: a workflow (valid or with problems) or WorkflowInvalid; a workflow writes back the same."""
    try:
        workflow = loads(text)
    except WorkflowInvalid as exc:
        assert exc.problems and all(p.message for p in exc.problems)
        return
    problems = validate(workflow, catalogue, warnings=True)
    assert all(p.message for p in problems)
    assert loads(workflow.dumps()).to_dict() == workflow.to_dict()


def test_any_document_reads_as_a_workflow_or_problems(catalogue):
    @given(doc=documents(catalogue))
    @FUZZ
    def check(doc):
        read(json.dumps(doc, allow_nan=True), catalogue)
    check()


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*prefix, i))


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_with_one_value_changed_read_as_workflows_or_problems(catalogue, example):
    original = json.loads(example.read_text())
    paths = list(_paths(original))[1:]

    @given(path=st.sampled_from(paths), value=values)
    @settings(FUZZ, max_examples=40)
    def check(path, value):
        doc = json.loads(json.dumps(original))
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        read(json.dumps(doc, allow_nan=True), catalogue)
    check()


def test_any_text_reads_as_a_workflow_or_problems(catalogue):
    @given(text=st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
    @FUZZ
    def check(text):
        read(text, catalogue)
    check()
