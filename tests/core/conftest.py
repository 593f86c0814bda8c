import asyncio

import pytest

from flowbanana.executor import Execution, RunOptions


@pytest.fixture
def calls(catalogue):
    """Every real call the test pack's nodes made: (node id, start, end)."""
    log = catalogue.types["test.sleep"].fn.__globals__["CALLS"]
    log.clear()
    return log


@pytest.fixture
def run(catalogue, tmp_path):
    """Run a workflow model; returns (result, events). Options as RunOptions keywords."""
    def _run(workflow, **options):
        events = []
        options.setdefault("out_dir", tmp_path / "out")
        execution = Execution(workflow, catalogue, RunOptions(**options), on_event=events.append)
        return asyncio.run(execution.run()), events
    return _run
