"""Editor runs through the server's queue, without a browser: they land in the run history and wait their turn."""
from __future__ import annotations

import asyncio
import time

import pytest

from flowbanana.server import RunService, ServerSettings
from flowbanana.server.store import RunRecord
from flowbanana.ui.history import cost, duration, file_url, when
from flowbanana.ui.runner import EditorConfig, RunController
from test_runner import controller  # noqa: F401  (the fixture: an offline editor config in tmp_path)


@pytest.fixture
def config(controller, catalogue) -> EditorConfig:
    """test_runner's editor setup, with a queue that runs one run at a time."""
    config = controller.config
    config.service = RunService(ServerSettings(runs_dir=config.runs_dir, cache_dir=config.cache_dir, max_runs=1),
                                catalogue)
    return config


def tab(config: EditorConfig) -> RunController:
    seen: dict[str, list] = {"statuses": [], "finished": [], "notices": []}
    runner = RunController(config, on_status=seen["statuses"].append, on_finished=seen["finished"].append,
                           on_problems=seen["notices"].append, on_notice=lambda m, k: seen["notices"].append(m))
    runner.seen = seen
    return runner


async def test_editor_runs_share_the_queue_and_the_history(config, make_workflow):
    first, second = tab(config), tab(config)
    sleepy = make_workflow({"nap": {"type": "test.sleep", "params": {"seconds": 30}},
                            "show": {"type": "test.show", "inputs": {"value": "nap.label"}}}, name="Sleepy")
    quick = make_workflow({"n": {"type": "test.number", "params": {"value": 2}},
                           "show": {"type": "test.show", "inputs": {"value": "n.value"}}}, name="Quick")
    running = asyncio.ensure_future(first.run(sleepy))
    while not first.execution and not running.done():
        await asyncio.sleep(0.01)
    assert not running.done(), first.seen
    waiting = asyncio.ensure_future(second.run(quick))
    await asyncio.sleep(0.2)
    runs, total = config.service.list_runs()
    assert total == 2 and [(r.name, r.status, r.origin) for r in runs] == [
        ("Quick", "queued", "editor"), ("Sleepy", "running", "editor")]  # max_runs=1: the second waits its turn
    assert second.running and second.execution is None and second.seen["statuses"] == []
    assert second.seen["notices"][-1].startswith("Waiting in the run queue")
    assert not any(n.startswith("Waiting") for n in first.seen["notices"])  # a free slot: it started at once

    first.stop()
    await asyncio.wait_for(asyncio.gather(running, waiting), 10)
    assert [s["status"] for s in (first.seen["finished"][0], second.seen["finished"][0])] == ["cancelled", "done"]
    assert [r.status for r in config.service.list_runs()[0]] == ["done", "cancelled"]
    assert second.seen["finished"][0]["run"] == runs[0].id and not second.running


def test_the_facts_shown_for_a_run():
    record = RunRecord(id="20260101-120000-abcdef", workflow={}, name="x", seconds=83.4, cost=0.078)
    assert duration(record) == "1m 23s" and cost(record) == "$0.078"
    record.seconds, record.usage = 0.42, {"offline": True}
    assert duration(record) == "0.4s" and cost(record) == "free"
    record.cost, record.usage = 0.05, {"batch": {"calls": 2, "cost_usd": 0.04, "direct_cost_usd": 0.08}}
    assert cost(record) == "$0.050 batch ($0.090 direct)"  # batched calls at half price, one direct
    assert file_url(record.id, "a b/c.png") == "/api/runs/20260101-120000-abcdef/files/a%20b/c.png"
    now = time.mktime((2026, 1, 2, 15, 0, 0, 0, 0, -1))
    assert when(now - 3600, now) == "14:00" and when(now - 2 * 86400, now) == "31 Dec 15:00"
