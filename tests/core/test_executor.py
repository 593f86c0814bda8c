"""Scheduling, list mapping, failure isolation, cancellation and events."""
import asyncio

import pytest

from flowbanana.executor import Execution, RunOptions
from flowbanana.node_api import Input


def overlap(calls, a, b):
    (_, a0, a1), (_, b0, b1) = [next(c for c in calls if c[0] == n) for n in (a, b)]
    return min(a1, b1) - max(a0, b0)


def test_independent_branches_overlap(make_workflow, run, calls):
    workflow = make_workflow({
        "left": {"type": "test.sleep", "params": {"seconds": 0.3}},
        "right": {"type": "test.sleep", "params": {"seconds": 0.3}},
        "after": {"type": "test.sleep", "params": {"seconds": 0.01}, "inputs": {"after": "left.label"}},
        "show": {"type": "test.collect", "inputs": {"items": ["after.label", "right.label"]}}})
    result, _ = run(workflow)
    assert result.ok
    assert overlap(calls, "left", "right") > 0.2          # ran side by side
    assert overlap(calls, "left", "after") < 0            # a dependency waits for what it needs
    assert result.output("show", "count") == 2


def test_a_list_on_a_single_input_maps_the_node(make_workflow, run, calls):
    workflow = make_workflow({
        "w": {"type": "test.words", "params": {"text": "red green blue"}},
        "u": {"type": "test.upper", "params": {"suffix": "!"}, "inputs": {"text": "w.items"}},
        "show": {"type": "test.collect", "inputs": {"items": ["u.text"]}}})
    result, events = run(workflow)
    assert result.output("u", "text") == ["RED!", "GREEN!", "BLUE!"]
    assert result.output("show", "count") == 3          # a list port takes the whole list
    assert len([c for c in calls if c[0] == "u"]) == 3
    assert [e.data["fraction"] for e in events if e.kind == "node_progress" and e.node == "u"][-1] == 1.0


def test_two_lists_are_zipped_and_a_single_value_is_reused(make_workflow, run):
    workflow = make_workflow({
        "a": {"type": "test.words", "params": {"text": "x y"}},
        "b": {"type": "test.words", "params": {"text": "1 2"}},
        "t": {"type": "text.template", "params": {"template": "{a}-{b}-{c}"},
              "inputs": {"a": "a.items", "b": "b.items", "c": "c.text"}},
        "c": {"type": "text.text", "params": {"text": "same"}},
        "show": {"type": "test.show", "inputs": {"value": "t.text"}}})
    result, _ = run(workflow)
    assert result.output("show") == ["x-1-same", "y-2-same"]


def test_lists_of_different_lengths_are_an_error_naming_both(make_workflow, run):
    workflow = make_workflow({
        "a": {"type": "test.words", "params": {"text": "x y z"}},
        "b": {"type": "test.words", "params": {"text": "1 2"}},
        "t": {"type": "text.template", "params": {"template": "{a}{b}"}, "inputs": {"a": "a.items", "b": "b.items"}},
        "show": {"type": "test.show", "inputs": {"value": "t.text"}}})
    result, _ = run(workflow)
    failure = result.nodes["t"]
    assert failure.status == "failed"
    assert "'b' is a list of 2 items but 'a' is a list of 3" in failure.error
    assert result.nodes["show"].status == "skipped"


def test_a_failing_node_stops_only_what_depends_on_it(make_workflow, run, calls):
    workflow = make_workflow({
        "bad": {"type": "test.fail"},
        "after_bad": {"type": "test.show", "inputs": {"value": "bad.value"}},
        "good": {"type": "test.sleep", "params": {"seconds": 0.05, "label": "fine"}},
        "after_good": {"type": "test.show", "inputs": {"value": "good.label"}}})
    result, events = run(workflow)
    assert result.status == "failed"
    assert result.nodes["bad"].status == "failed" and result.nodes["bad"].error == "this node always fails."
    assert result.nodes["bad"].hint == "Remove it."
    assert result.nodes["after_bad"].status == "skipped" and "'bad', which failed" in result.nodes["after_bad"].error
    assert result.output("after_good") == "fine"
    failed = next(e for e in events if e.kind == "node_failed")
    assert failed.node == "bad" and "node 'bad' (test.fail)" in failed.data["error"]


def test_an_unexpected_exception_is_a_clear_failure_not_a_traceback(make_workflow, run):
    workflow = make_workflow({"bad": {"type": "test.fail", "params": {"how": "bug"}},
                              "show": {"type": "test.show", "inputs": {"value": "bad.value"}}})
    result, _ = run(workflow)
    node = result.nodes["bad"]
    assert node.error == "ZeroDivisionError: division by zero"
    assert "pack testing" in node.hint and "Traceback" not in node.error


def test_one_failing_item_keeps_the_others_cached(make_workflow, run, cache, calls):
    workflow = make_workflow({
        "w": {"type": "test.words", "params": {"text": "a boom c"}},
        "u": {"type": "test.upper", "inputs": {"text": "w.items"}},
        "show": {"type": "test.show", "inputs": {"value": "u.text"}}})
    result, _ = run(workflow, cache=cache)
    assert "item 2 of 3: the word 'boom' is not allowed." in result.nodes["u"].error
    assert "2 other items are cached" in result.nodes["u"].hint
    calls.clear()
    workflow.nodes["w"].params["text"] = "a b c"
    result, _ = run(workflow, cache=cache)
    assert result.output("show") == ["A", "B", "C"]
    assert [c[0] for c in calls] == ["u"]               # only the changed item ran again


def test_disabled_nodes_are_skipped_with_what_needs_them(make_workflow, run):
    workflow = make_workflow({
        "n": {"type": "test.number", "disabled": True},
        "a": {"type": "test.add", "inputs": {"a": "n.value"}},
        "m": {"type": "test.number"},
        "show": {"type": "test.show", "inputs": {"value": "m.value"}}})
    result, _ = run(workflow)
    assert result.status == "done"
    assert result.nodes["n"].status == "skipped" and result.nodes["a"].status == "skipped"
    assert "disabled" in result.nodes["a"].error and result.output("show") == 1.0


def test_targets_run_only_what_they_need(make_workflow, run, calls):
    workflow = make_workflow({
        "n": {"type": "test.number"},
        "a": {"type": "test.add", "inputs": {"a": "n.value"}},
        "b": {"type": "test.add", "inputs": {"a": "n.value"}},
        "show": {"type": "test.show", "inputs": {"value": "b.sum"}}})
    result, _ = run(workflow, targets=frozenset({"a"}))
    assert set(result.nodes) == {"n", "a"} and [c[0] for c in calls] == ["a"]


def test_cancel_keeps_finished_results_and_stops_the_rest(catalogue, make_workflow, tmp_path):
    workflow = make_workflow({
        "quick": {"type": "test.sleep", "params": {"seconds": 0}},
        "slow": {"type": "test.sleep", "params": {"seconds": 30}},
        "after": {"type": "test.sleep", "params": {"seconds": 0}, "inputs": {"after": "slow.label"}},
        "show": {"type": "test.show", "inputs": {"value": "after.label"}}})
    events = []

    async def scenario():
        execution = Execution(workflow, catalogue, RunOptions(out_dir=tmp_path), on_event=events.append)
        task = asyncio.create_task(execution.run())
        while "slow" not in {e.node for e in events if e.kind == "node_started"}:
            await asyncio.sleep(0.01)
        execution.cancel()
        return await asyncio.wait_for(task, 5)

    result = asyncio.run(scenario())
    assert result.status == "cancelled"
    assert result.nodes["quick"].status == "done" and result.output("quick") == "quick"
    assert result.nodes["slow"].status == "cancelled"
    assert result.nodes["after"].status == "skipped" and result.nodes["show"].status == "skipped"
    assert events[-1].kind == "run_finished" and events[-1].data["status"] == "cancelled"


@pytest.mark.parametrize("concurrency", [1, 2, 5])
def test_concurrency_bounds_provider_calls(catalogue, make_workflow, tmp_path, concurrency):
    nodes = {f"c{i}": {"type": "test.call", "params": {"seconds": 0.05}} for i in range(6)}
    nodes["show"] = {"type": "test.collect", "inputs": {"items": [f"c{i}.done" for i in range(6)]}}
    execution = Execution(make_workflow(nodes), catalogue, RunOptions(out_dir=tmp_path, concurrency=concurrency))
    result = asyncio.run(execution.run())
    assert result.ok and execution.limiter.peak == concurrency


def test_event_stream_tells_the_whole_story(make_workflow, run):
    workflow = make_workflow({"n": {"type": "test.number"}, "show": {"type": "test.show", "inputs": {"value": "n.value"}}})
    result, events = run(workflow)
    kinds = [(e.kind, e.node) for e in events]
    assert kinds[0][0] == "run_started" and kinds[-1][0] == "run_finished"
    assert kinds.index(("node_finished", "n")) < kinds.index(("node_started", "show"))
    assert all(isinstance(e.to_json()["time"], float) for e in events)


def test_lineage_gives_what_upstream_nodes_recorded_item_by_item(make_workflow, run):
    workflow = make_workflow({
        "w": {"type": "test.words", "params": {"text": "m1 m2"}},
        "c": {"type": "test.call", "params": {"seconds": 0}, "inputs": {"model": "w.items"}},
        "single": {"type": "test.call", "params": {"seconds": 0, "model": "solo"}},
        "mapped": {"type": "test.lineage", "inputs": {"value": "c.done"}},
        "whole": {"type": "test.lineage", "inputs": {"value": "single.done"}}})
    result, _ = run(workflow)
    mapped, whole = result.output("mapped"), result.output("whole")
    assert all(isinstance(r.pop("seconds"), float) for records in [*mapped, whole] for r in records)
    assert mapped == [[{"node": "c", "type": "test.call", "meta": {"model": "m1", "item": 0}, "cached": False}],
                      [{"node": "c", "type": "test.call", "meta": {"model": "m2", "item": 1}, "cached": False}]]
    assert whole == [{"node": "single", "type": "test.call", "meta": {"model": "solo", "item": 0}, "cached": False}]


def test_the_cache_key_holds_the_value_a_param_is_sent_as(make_workflow, run, cache, calls):
    """Two spellings of one request (an alias and its target) share one cached result."""
    result, _ = run(make_workflow({"s": {"type": "test.spelled", "params": {"word": "colour"}}}), cache=cache)
    assert result.output("s", "word") == "color" and len(calls) == 1
    result, _ = run(make_workflow({"s": {"type": "test.spelled", "params": {"word": "color"}}}), cache=cache)
    assert result.nodes["s"].status == "cached" and len(calls) == 1


def test_a_partial_port_takes_what_worked_and_none_for_what_did_not(make_workflow, run):
    workflow = make_workflow({
        "ok": {"type": "test.number", "params": {"value": 2}},
        "bad": {"type": "test.fail"},
        "after_bad": {"type": "test.upper", "inputs": {"text": "bad.value"}},
        "off": {"type": "test.number", "disabled": True},
        "all": {"type": "test.whatever_worked", "inputs": {"items": ["ok.value", "after_bad.text", "off.value"]}},
        "strict": {"type": "test.collect", "inputs": {"items": ["ok.value", "bad.value"]}},
        "then": {"type": "test.show", "inputs": {"value": "all.items"}}})
    result, events = run(workflow)
    assert result.output("all") == [2.0, None, None] and result.output("then") == [2.0, None, None]
    assert result.nodes["after_bad"].status == "skipped" and result.nodes["strict"].status == "skipped"
    assert [e.node for e in events if e.kind == "node_started"].count("all") == 1


def test_partial_needs_a_list_port():
    with pytest.raises(ValueError, match="partial=True needs list=True"):
        Input("x", "IMAGE", partial=True)


@pytest.fixture
def held(catalogue):
    """test.write's events: HELD once it holds its item, RELEASE to let it go on."""
    module = catalogue.types["test.write"].fn.__globals__
    module["HELD"].clear()
    module["RELEASE"].clear()
    yield module
    module["RELEASE"].set()


@pytest.mark.parametrize("when", ["writing", "after"])
@pytest.mark.parametrize("words, hold", [("a", "a"), ("a b c d e", "a"), ("a b c d e", "c"), ("a b c d e", "e")])
def test_a_stopped_run_reports_exactly_the_whole_files_it_leaves(catalogue, make_workflow, tmp_path, held, words,
                                                                 hold, when):
    """Stopped while a node in a thread writes a file (or after it named one): every file reported as written
    is there and whole, every file there is reported, and no temporary file is left, even once the thread ends."""
    workflow = make_workflow({"w": {"type": "test.words", "params": {"text": words}},
                              "save": {"type": "test.write", "params": {"hold": hold, "when": when},
                                       "inputs": {"text": "w.items"}}})
    out = tmp_path / "out"
    execution = Execution(workflow, catalogue, RunOptions(out_dir=out))

    async def stop_when_held():
        await asyncio.get_running_loop().run_in_executor(None, held["HELD"].wait, 30)
        others = set(words.split()) - {hold}
        while not all((out / f"{w}.txt").exists() for w in others if words.split().index(w) < words.split().index(hold)):
            await asyncio.sleep(0.01)
        execution.cancel()

    async def main():
        stopper = asyncio.create_task(stop_when_held())
        result = await execution.run()
        await stopper
        held["RELEASE"].set()  # the thread goes on after the run has ended: asyncio.run waits for it
        return result

    result = asyncio.run(main())
    assert result.status == "cancelled" and result.nodes["save"].status == "cancelled"
    on_disk = sorted(p for p in out.rglob("*") if p.is_file())
    assert [p.name for p in on_disk if p.name.endswith(".partial") or p.name.startswith(".")] == []
    assert sorted(result.files) == on_disk
    assert all(p.read_text() == p.stem for p in on_disk)
    assert ((out / f"{hold}.txt") in on_disk) == (when == "after")  # named before the stop: kept and reported
    earlier = words.split()[:words.split().index(hold)]
    assert {out / f"{w}.txt" for w in earlier} <= set(on_disk)
