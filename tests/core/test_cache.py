"""The cache: an unchanged node never runs twice; a change re-runs only what it reaches."""
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from flowbanana.cache import Cache, CacheWriteError, value_digest
from flowbanana.images import ImageRef
from flowbanana.limits import RunLimits

CHAIN = {
    "n": {"type": "test.number", "params": {"value": 2}},
    "a": {"type": "test.add", "inputs": {"a": "n.value"}},
    "b": {"type": "test.add", "inputs": {"a": "a.sum"}, "params": {"offset": 1}},
    "other": {"type": "test.add", "inputs": {"a": "n.value"}},
    "show": {"type": "test.collect", "inputs": {"items": ["b.sum", "other.sum"]}},
}


def ran(calls):
    return sorted({c[0] for c in calls})


def test_second_run_calls_nothing_and_says_so(make_workflow, run, cache, calls):
    first, _ = run(make_workflow(CHAIN), cache=cache)
    assert ran(calls) == ["a", "b", "other"]
    calls.clear()
    second, events = run(make_workflow(CHAIN), cache=cache)
    assert calls == []
    assert {n: r.status for n, r in second.nodes.items()} == {n: "cached" for n in CHAIN}
    assert second.output("b", "sum") == first.output("b", "sum") == 3
    assert {e.node for e in events if e.kind == "node_cached"} == set(CHAIN)


def test_changing_one_param_reruns_only_that_node_and_what_depends_on_it(make_workflow, run, cache, calls):
    run(make_workflow(CHAIN), cache=cache)
    calls.clear()
    workflow = make_workflow(CHAIN)
    workflow.nodes["a"].params["offset"] = 10
    result, _ = run(workflow, cache=cache)
    assert ran(calls) == ["a", "b"]
    assert result.nodes["other"].status == "cached" and result.output("b", "sum") == 13


def test_same_output_means_downstream_stays_cached(make_workflow, run, cache, calls):
    """Keys follow content: an upstream change that yields the same value reuses what follows."""
    run(make_workflow(CHAIN), cache=cache)
    calls.clear()
    workflow = make_workflow(CHAIN)
    workflow.nodes["n"].params["value"] = 2.0   # the same number written differently
    run(workflow, cache=cache)
    assert calls == []


def test_force_runs_one_node_again(make_workflow, run, cache, calls):
    run(make_workflow(CHAIN), cache=cache)
    calls.clear()
    result, _ = run(make_workflow(CHAIN), cache=cache, force=frozenset({"a"}))
    assert ran(calls) == ["a"]                  # same result, so b stays cached
    assert result.nodes["a"].status == "done" and result.nodes["b"].status == "cached"


def test_a_node_can_opt_out(make_workflow, run, cache):
    nodes = {"clock": {"type": "test.clock"}, "show": {"type": "test.show", "inputs": {"value": "clock.now"}}}
    first, _ = run(make_workflow(nodes), cache=cache)
    second, _ = run(make_workflow(nodes), cache=cache)
    assert second.nodes["clock"].status == "done" and second.output("clock") != first.output("clock")


def test_no_cache_runs_everything(make_workflow, run, cache, calls):
    run(make_workflow(CHAIN), cache=cache)
    calls.clear()
    run(make_workflow(CHAIN), cache=None)
    assert ran(calls) == ["a", "b", "other"]


def test_the_provider_is_part_of_the_key(make_workflow, run, cache):
    class Provider:
        def __init__(self, cache_id):
            self.cache_id = cache_id
    nodes = {"c": {"type": "test.call"}, "show": {"type": "test.show", "inputs": {"value": "c.done"}}}
    run(make_workflow(nodes), cache=cache, resources={"provider": Provider("offline")})
    again, _ = run(make_workflow(nodes), cache=cache, resources={"provider": Provider("offline")})
    other, _ = run(make_workflow(nodes), cache=cache, resources={"provider": Provider("gemini")})
    assert again.nodes["c"].status == "cached" and other.nodes["c"].status == "done"


def test_images_round_trip_through_the_cache_as_refs_read_when_needed(tmp_path):
    cache = Cache(tmp_path)
    image = Image.linear_gradient("L").convert("RGBA").resize((64, 32))
    kept = cache.put("k" * 64, {"image": image, "list": [image, "x"], "n": 3}, {"image": "made-by-k"}, {"model": "m"})
    entry = cache.get("k" * 64)
    for outputs in (kept, entry["outputs"]):
        ref = outputs["image"]
        assert isinstance(ref, ImageRef) and (ref.size, ref.mode, ref.digest) == ((64, 32), "RGBA", "made-by-k")
        assert ref.load().tobytes() == image.tobytes()
        assert outputs["list"][1] == "x" and outputs["n"] == 3
    assert entry["meta"] == {"model": "m"}
    assert value_digest(entry["outputs"]["list"]) == value_digest([image, "x"])  # no digest kept: pixels decide


def test_a_kept_picture_is_linked_into_a_new_entry_not_encoded_again(tmp_path):
    cache = Cache(tmp_path)
    ref = cache.put("a" * 64, {"image": Image.new("RGB", (8, 8), "red")}, {"image": "d"}, {})["image"]
    again = cache.put("b" * 64, {"image": ref}, {"image": "d"}, {})["image"]
    assert again.path != ref.path and again.path.read_bytes() == ref.path.read_bytes()
    assert again.load().getpixel((0, 0)) == (255, 0, 0)


def _deep_json(folder):
    (folder / "entry.json").write_text("[" * 100_000 + "]" * 100_000)


def _bad_json(folder):
    (folder / "entry.json").write_text("{not json")


def _wrong_shape(folder):
    (folder / "entry.json").write_text(json.dumps({"outputs": [1], "digests": "x", "meta": None}))


def _image_bomb(folder):
    """An entry whose output is a picture over the run's pixel limit (a small one: the run's limit is tiny)."""
    Image.new("L", (100, 100)).save(folder / "0.png")
    entry = json.loads((folder / "entry.json").read_text())
    outputs = {k: {"image": "0.png"} for k in entry["outputs"]}
    (folder / "entry.json").write_text(json.dumps({**entry, "outputs": outputs}))


def _image_outside(folder):
    entry = json.loads((folder / "entry.json").read_text())
    (folder / "entry.json").write_text(json.dumps({**entry, "outputs": {
        k: {"image": "../../../escape.png"} for k in entry["outputs"]}}))


def _folder_is_a_file(folder):
    shutil.rmtree(folder)
    folder.write_text("not a folder")


@pytest.mark.parametrize("damage", [_deep_json, _bad_json, _wrong_shape, _image_bomb, _image_outside,
                                    _folder_is_a_file])
def test_a_damaged_entry_is_a_miss_with_a_warning_and_is_replaced(make_workflow, run, cache, calls, damage):
    limits = RunLimits(max_pixels=1000)
    run(make_workflow(CHAIN), cache=cache, limits=limits)
    entries = [p for p in cache.root.glob("??/*") if len(p.name) == 64]
    assert len(entries) == len(CHAIN) - 1  # a and other are the same computation: one entry
    for entry in entries:
        damage(entry)
    calls.clear()
    second, events = run(make_workflow(CHAIN), cache=cache, limits=limits)
    assert second.ok and ran(calls) == ["a", "b", "other"]  # run again, not failed
    warned = {e.node for e in events if e.kind == "node_warning" and "is damaged" in e.data["message"]}
    assert warned == set(CHAIN)
    assert all(str(cache.root) not in e.data["message"] for e in events if e.kind == "node_warning")
    calls.clear()
    third, events = run(make_workflow(CHAIN), cache=cache, limits=limits)  # the fresh results replaced them
    assert calls == [] and {r.status for r in third.nodes.values()} == {"cached"}
    assert not any(e.kind == "node_warning" for e in events)


def test_file_params_key_on_the_file_content(catalogue, tmp_path, cache):
    """A file changed on disk under the same name is a new input."""
    import asyncio
    from flowbanana.executor import Execution, RunOptions
    from flowbanana.node_api import Output, Pack, Param, TEXT
    from flowbanana.catalogue import Catalogue
    pack = Pack("filetest")

    @pack.node("filetest.read", params=[Param.file("path")], outputs=[Output("text", TEXT)], output=True)
    def read(path, ctx):
        return ctx.resolve_read(path).read_text()

    local = Catalogue()
    local.add(pack, "test")
    from flowbanana.workflow import from_dict
    doc = {"format": "flowbanana/workflow", "version": 2, "nodes": {"r": {"type": "filetest.read",
                                                                            "params": {"path": "data.txt"}}}}
    (tmp_path / "data.txt").write_text("one")
    (tmp_path / "wf.json").write_text("{}")

    def once():
        workflow = from_dict(doc)
        workflow.source = tmp_path / "wf.json"
        return asyncio.run(Execution(workflow, local, RunOptions(out_dir=tmp_path / "o", cache=cache)).run())

    assert once().output("r") == "one"
    assert once().nodes["r"].status == "cached"
    (tmp_path / "data.txt").write_text("two")
    assert once().output("r") == "two"


def _shards_are_files(root):
    """Every folder an entry could go in is a file: no entry can be made."""
    root.mkdir(parents=True, exist_ok=True)
    for n in range(256):
        (root / f"{n:02x}").write_text("in the way")


def _tmp_is_a_file(root):
    root.mkdir(parents=True, exist_ok=True)
    (root / "tmp").write_text("in the way")


@pytest.mark.parametrize("block", [_shards_are_files, _tmp_is_a_file])
def test_a_cache_that_cannot_be_written_warns_once_and_the_run_uses_its_results(make_workflow, run, cache, calls,
                                                                                 block):
    block(cache.root)
    with pytest.raises(CacheWriteError, match="could not be written"):
        cache.put("ab" * 32, {"value": 1}, {"value": "d"}, {})
    result, events = run(make_workflow(CHAIN), cache=cache)
    assert result.ok and ran(calls) == ["a", "b", "other"]
    assert result.output("b", "sum") == 3 and result.output("show", "count") == 2
    warnings = [e.data["message"] for e in events if e.kind == "node_warning"]
    assert len(warnings) == 1 and "could not be written" in warnings[0] and str(cache.root) not in warnings[0]
    assert [p for p in cache.root.rglob("*") if p.parent != cache.root] == []  # nothing half written left behind


def test_a_disk_that_fills_during_a_run_is_a_warning_in_the_summary_not_a_failure(tmp_path):
    """A real write failure: the files the run may make are capped at 64 bytes (as a full disk refuses), so every
    cache entry fails half way; the run still finishes with its results, and says so once."""
    (tmp_path / "chain.json").write_text(json.dumps({"format": "flowbanana/workflow", "version": 2, "name": "Chain",
                                                    "nodes": CHAIN}))

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the cap fails (EFBIG) instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))

    done = subprocess.run([sys.executable, "-m", "flowbanana", "run", str(tmp_path / "chain.json"), "--cache-dir",
                           str(tmp_path / "cache"), "--out", str(tmp_path / "out")], capture_output=True, text=True,
                          preexec_fn=small_files, timeout=120,
                          env={**os.environ, "FLOWBANANA_NODES_PATH": str(Path(__file__).parents[1] / "packs")})
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stdout + done.stderr
    live, summary = done.stdout.split("Warnings:")
    assert "Finished in" in live and "5 done" in live and "count 2" in live
    assert live.count("the cache could not be written (File too large)") == 1  # said as it happened, once
    assert summary.count("the cache could not be written") == 1 and summary.count("!") == 1
