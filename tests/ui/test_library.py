"""Which workflow a tab opens with, the templates menu, autosave records and file names."""
from __future__ import annotations

import json

import pytest

from flowbanana.ui.library import EXAMPLE, file_name, first_workflow, restore, templates
from flowbanana.workflow import Workflow


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "b.json").write_text(json.dumps({"format": "flowbanana/workflow", "version": 2, "name": "Bee",
                                                 "nodes": {"t": {"type": "text.text"}}}))
    (tmp_path / "a.json").write_text("{not json")
    return tmp_path


def test_templates_list_readable_workflows_by_name(folder):
    assert [(p.name, name) for p, name in templates(folder)] == [("b.json", "Bee")]
    assert templates(folder / "missing") == []


def test_the_first_workflow_is_the_file_then_the_example_then_any_template(folder, tmp_path):
    assert first_workflow(folder, None).name == "Bee"
    example = Workflow(name="Example")
    example.save(folder / EXAMPLE)
    assert first_workflow(folder, None).name == "Example"
    mine = Workflow(name="Mine")
    mine.save(tmp_path / "mine.json")
    chosen = first_workflow(folder, tmp_path / "mine.json")
    assert chosen.name == "Mine" and chosen.source == (tmp_path / "mine.json").resolve()
    assert first_workflow(tmp_path / "empty", None).name == "Untitled"


def test_an_autosave_record_restores_its_workflow_and_source(tmp_path):
    workflow = Workflow(name="Saved")
    record = {"json": workflow.dumps(), "source": str(tmp_path / "w.json"), "dirty": True}
    restored = restore(record)
    assert restored.name == "Saved" and restored.source == (tmp_path / "w.json").resolve()
    assert restore(None) is None and restore({"json": "{broken"}) is None and restore({"json": 3}) is None


@pytest.mark.parametrize("typed, name", [("My Flow", "My-Flow.json"), ("../../etc/passwd", "passwd.json"),
                                         ("shots.json", "shots.json"), ("  ", "workflow.json"), (".hidden", "hidden.json")])
def test_file_names_stay_plain(typed, name):
    assert file_name(typed) == name
