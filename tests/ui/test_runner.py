"""The editor's run controller without a browser: executor events become node statuses, images become URLs."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from flowbanana.ui.media import MediaStore
from flowbanana.ui.runner import EditorConfig, RunController
from flowbanana.workflow import load

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def controller(catalogue, tmp_path, monkeypatch):
    for name in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "NANO_BANANA_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    config = EditorConfig(catalogue=catalogue, workflows_dir=ROOT / "workflows", out_root=tmp_path / "out",
                          cache_dir=tmp_path / "cache", media=MediaStore(tmp_path / "media"),
                          uploads_dir=tmp_path / "uploads", provider="offline")
    seen = {"statuses": [], "finished": [], "problems": [], "notices": []}
    runner = RunController(config, on_status=seen["statuses"].append, on_finished=seen["finished"].append,
                           on_problems=seen["problems"].append, on_notice=lambda m, k: seen["notices"].append(m))
    runner.seen = seen
    return runner


def states(seen, node):
    return [s[node]["state"] for s in seen["statuses"] if node in s and "state" in s[node]]


async def test_a_run_reports_statuses_in_order_and_images_as_urls(controller):
    await controller.run(load(ROOT / "workflows" / "hello-gemini.json"))
    seen = controller.seen
    assert states(seen, "generate") == ["queued", "running", "done"]
    assert seen["finished"][0]["status"] == "done"
    entry = controller.history["generate"][0]
    assert entry["thumb"].startswith("/flowbanana/media/") and "?v=" in entry["thumb"]
    name = entry["full"].split("/")[-1].split("?")[0]
    assert controller.config.media.path(name).stat().st_size > 0
    assert {item["node"] for item in controller.gallery} == {"generate", "preview"}
    assert controller.history["prompt"][0]["text"].startswith("a ripe banana wearing tiny sunglasses")

    await controller.run(load(ROOT / "workflows" / "hello-gemini.json"))
    assert states(seen, "generate")[-1] == "cached"
    assert len(controller.history["generate"]) == 2  # a short history per node, newest first


async def test_stop_cancels_the_running_node(controller, make_workflow):
    workflow = make_workflow({"wait": {"type": "test.sleep", "params": {"seconds": 30}},
                              "show": {"type": "test.show", "inputs": {"value": "wait.label"}}})
    task = asyncio.ensure_future(controller.run(workflow))
    while "running" not in states(controller.seen, "wait"):
        await asyncio.sleep(0.01)
    controller.stop()
    await asyncio.wait_for(task, 5)
    assert states(controller.seen, "wait")[-1] == "cancelled"
    assert states(controller.seen, "show")[-1] == "skipped"
    assert controller.seen["finished"][0]["status"] == "cancelled"
    assert not controller.running


async def test_a_failing_node_shows_its_own_message(controller, make_workflow):
    workflow = make_workflow({"a": {"type": "test.fail"}, "b": {"type": "test.show", "inputs": {"value": "a.value"}}})
    await controller.run(workflow)
    failed = next(s["a"] for s in controller.seen["statuses"] if s.get("a", {}).get("state") == "failed")
    assert failed["error"] == "this node always fails." and failed["hint"] == "Remove it."


async def test_an_invalid_workflow_is_reported_not_run(controller, make_workflow):
    await controller.run(make_workflow({"b": {"type": "test.show"}}))
    assert controller.seen["problems"] and not controller.seen["finished"]


async def test_an_estimate_counts_the_calls_a_run_would_make_and_runs_nothing(controller):
    workflow = load(ROOT / "workflows" / "hello-gemini.json")
    plan = await controller.estimate(workflow)
    assert [(c["node"], c["model"]) for c in plan["calls"]] == [("generate", "gemini-3.1-flash-image")]
    assert controller.seen["statuses"] == [] and not controller.history  # nothing shown, nothing kept
    assert not list(controller.config.out_root.glob("**/*.png"))
    await controller.run(workflow)
    assert (await controller.estimate(workflow))["calls"] == []  # now cached


def test_a_node_that_paid_for_model_calls_shows_what_they_cost(controller):
    from flowbanana.events import Event
    controller._event(Event("node_finished", "gen", {"seconds": 2.0, "meta": {"items": [{"cost": 0.039},
                                                                                      {"cost": 0.039}]}}))
    controller._event(Event("node_cached", "old", {"seconds": 0.0, "meta": {"cost": 0.039}}))
    labels = {n: s["label"] for update in controller.seen["statuses"] for n, s in update.items()}
    assert labels == {"gen": "done 2.0s · $0.078 · 2 items", "old": "cached"}


async def test_a_node_run_once_per_item_counts_its_items_as_it_goes_and_when_done(controller, make_workflow):
    workflow = make_workflow({"w": {"type": "test.words", "params": {"text": "a b c"}},
                              "u": {"type": "test.upper", "inputs": {"text": "w.items"}},
                              "show": {"type": "test.show", "inputs": {"value": "u.text"}}})
    await controller.run(workflow)
    labels = [s["u"]["label"] for s in controller.seen["statuses"] if "u" in s and "label" in s["u"]]
    assert "1 of 3 items" in labels and labels[-1].startswith("done") and labels[-1].endswith("· 3 items")
    assert not [s["w"] for s in controller.seen["statuses"] if "items" in s.get("w", {}).get("label", "")]


async def test_a_batch_run_from_the_editor_goes_through_the_batch_api(controller, fake_gemini, fake_batches,
                                                                     monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", fake_gemini.key)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake_gemini.url)
    controller.config.provider, controller.batch = "gemini", True
    plan = await controller.estimate(load(ROOT / "workflows" / "hello-gemini.json"))
    assert plan["batch_cost_usd"] == pytest.approx(plan["cost_usd"] / 2)
    await controller.run(load(ROOT / "workflows" / "hello-gemini.json"))
    seen = controller.seen
    assert seen["finished"][0]["status"] == "done" and states(seen, "generate")[-1] == "done"
    assert [len(job.keys) for job in fake_batches.creates] == [1] and not fake_gemini.calls
    assert any(n.startswith("Batch: submitted batch job batches/fake0001") for n in seen["notices"])
    assert seen["finished"][0]["usage"]["batch"]["calls"] == 1


def test_grounding_sources_for_the_node_are_web_links_only_and_once_each():
    from flowbanana.ui.runner import sources
    page = {"title": "Weather today", "uri": "https://example.org/weather"}
    meta = {"items": [{"sources": [page, {"title": "bad", "uri": "javascript:alert(1)"}]},
                      {"sources": [page, {"title": "", "uri": "http://example.com/"}]}, "not a dict"]}
    assert sources(meta) == [page, {"title": "http://example.com/", "uri": "http://example.com/"}]
    assert sources({"sources": [page]}) == [page] and sources({}) == []
