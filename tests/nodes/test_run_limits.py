"""What one run may hold: pixels per image on every node's output, items per list, image memory per run.

A small workflow must not be able to exhaust the machine: each bound refuses with an error naming the node
and saying what to do, before the memory is spent where the node can tell, and on its output otherwise.
"""
from __future__ import annotations

import pytest

from flowbanana.limits import MAX_PIXELS, RunLimits

TWELVE = "\n".join(["photo.png"] * 12)


@pytest.fixture
def photo_file(wf_dir, gradient):
    gradient.save(wf_dir / "photo.png")
    return wf_dir / "photo.png"


def twelve_resized(width: int, height: int) -> dict:
    """12 list items, each loaded and resized to width×height: the 500-byte request that once took 5 GB."""
    return {"names": {"type": "list.from_lines", "params": {"text": TWELVE}},
            "load": {"type": "image.load", "inputs": {"path": "names.items"}},
            "big": {"type": "image.resize", "params": {"mode": "size", "width": width, "height": height},
                    "inputs": {"image": "load.image"}},
            "show": {"type": "image.preview", "inputs": {"image": "big.image"}}}


def failure(result, events, node: str) -> str:
    assert result.nodes[node].status == "failed", result.nodes[node]
    reported = next(e.data["error"] for e in events if e.kind == "node_failed" and e.node == node)
    assert reported.startswith(f"node {node!r} (")  # the message names the node
    return f"{result.nodes[node].error} {result.nodes[node].hint}"


def test_twelve_items_to_8192_square_are_refused_before_the_memory_is_spent(run, photo_file):
    result, events = run(twelve_resized(8192, 8192))
    text = failure(result, events, "big")
    assert "would be 8192×8192 pixels (67,108,864), over the limit of 64,000,000 pixels per image" in text
    assert "image.resize" in text or "Make it smaller" in text
    assert result.nodes["load"].status == "done" and result.nodes["show"].status == "skipped"


@pytest.mark.parametrize("nodes, limits, words", [
    # a node that does not check sizes itself (image.load reads by Pillow's own limit): its output is checked
    ({"load": {"type": "image.load", "params": {"path": "photo.png"}},
      "show": {"type": "image.preview", "inputs": {"image": "load.image"}}},
     RunLimits(max_pixels=1000), "output 'image' would be 64×48 pixels (3,072), over the limit of 1,000"),
    # rotate's expanded canvas and pad's border are checked before they are made
    ({"load": {"type": "image.load", "params": {"path": "photo.png"}},
      "turn": {"type": "image.rotate", "params": {"angle": 45}, "inputs": {"image": "load.image"}},
      "show": {"type": "image.preview", "inputs": {"image": "turn.image"}}},
     RunLimits(max_pixels=4000), "the rotated image would be 80×80 pixels"),
    ({"load": {"type": "image.load", "params": {"path": "photo.png"}},
      "pad": {"type": "image.pad", "params": {"mode": "border", "border": 100}, "inputs": {"image": "load.image"}},
      "show": {"type": "image.preview", "inputs": {"image": "pad.image"}}},
     RunLimits(max_pixels=10_000), "the padded image would be 264×248 pixels"),
])
def test_every_output_is_bounded_in_pixels(run, photo_file, nodes, limits, words):
    result, events = run(nodes, limits=limits)
    failed = next(n for n in nodes if result.nodes[n].status == "failed")
    assert words in failure(result, events, failed)


def test_a_list_longer_than_the_limit_is_refused_naming_the_node(run):
    result, events = run({"w": {"type": "test.words", "params": {"text": "a b c d"}},
                          "show": {"type": "test.collect", "inputs": {"items": ["w.items"]}}},
                         limits=RunLimits(max_items=3))
    text = failure(result, events, "w")
    assert "output 'items' is a list of 4 items, over the limit of 3 per node" in text and "split the work" in text


def test_the_images_a_run_holds_are_bounded(run, photo_file):
    """12 items of 1024×1024 RGB (4 MB each as Pillow keeps them) in a run that may hold 20 MB: the items that
    would pass the bound fail, the others are kept, and the run still finishes."""
    result, events = run(twelve_resized(1024, 1024), limits=RunLimits(max_image_bytes=20 << 20), cache=None)
    text = failure(result, events, "big")
    assert "of images, over its limit of 20 MB" in text and "several runs" in text
    assert "items failed" in text  # some items were kept: only the ones over the bound failed


def test_a_failed_node_gives_back_what_its_items_held(run, photo_file, catalogue, make_workflow, wf_dir, out_dir):
    import asyncio

    from flowbanana.executor import Execution, RunOptions
    workflow = make_workflow(twelve_resized(1024, 1024))
    workflow.source = wf_dir / "workflow.json"
    execution = Execution(workflow, catalogue, RunOptions(out_dir=out_dir, limits=RunLimits(max_image_bytes=20 << 20)))
    asyncio.run(execution.run())
    loaded = sum(image.width * image.height * 4 for image in execution.results["load"].outputs["image"])
    assert execution.held_bytes == loaded  # the failed resize's kept items were released with it


def test_the_limit_applies_to_cached_results_too(run, photo_file, tmp_path):
    from flowbanana.cache import Cache
    cache = Cache(tmp_path / "shared-cache")
    nodes = {"load": {"type": "image.load", "params": {"path": "photo.png"}},
             "show": {"type": "image.preview", "inputs": {"image": "load.image"}}}
    assert run(nodes, cache=cache)[0].ok
    result, events = run(nodes, cache=cache, limits=RunLimits(max_pixels=1000))
    assert "over the limit of 1,000 pixels per image" in failure(result, events, "load")


def test_defaults_bound_pixels_and_items_and_leave_memory_to_the_server():
    assert RunLimits().max_pixels == MAX_PIXELS == 64_000_000 and RunLimits().max_items == 10_000
    assert RunLimits().max_image_bytes is None


@pytest.fixture
def sources(wf_dir, gradient):
    """A CSV of 30 rows and a folder of 30 images: more than a run bounded at 20 items per list takes."""
    (wf_dir / "rows.csv").write_text("n\n" + "\n".join(str(i) for i in range(30)))
    (wf_dir / "shots").mkdir()
    small = gradient.resize((4, 3))
    for i in range(30):
        small.save(wf_dir / "shots" / f"{i}.png")
    return {"list.from_csv": ({"path": "rows.csv"}, "items", "'rows.csv' (all its rows)"),
            "image.load_folder": ({"folder": "shots"}, "names", "'shots' (every image that matches)")}


@pytest.mark.parametrize("source", ["list.from_csv", "image.load_folder"])
@pytest.mark.parametrize("limit, kept", [(0, None), (25, None), (20, 20), (5, 5)])
def test_a_source_over_the_runs_list_bound_says_so_and_its_limit_picks_the_first(run, sources, source, limit, kept):
    params, output, what = sources[source]
    result, events = run({"s": {"type": source, "params": {**params, "limit": limit}},
                          "show": {"type": "test.collect", "inputs": {"items": [f"s.{output}"]}}},
                         limits=RunLimits(max_items=20))
    if kept is None:  # refused, naming the file and the bound, with what to set
        text = failure(result, events, "s")
        assert f"{what} is a list of {limit or 30} items, over the limit of 20 per node" in text
        assert "limit param" in text
    else:
        assert result.ok and result.output("show", "count") == kept
        warned = [e.data["message"] for e in events if e.kind == "node_warning" and e.node == "s"]
        assert len(warned) == 1 and f"left out {30 - kept}" in warned[0]  # never a silent cap


def test_a_csv_far_over_the_bound_is_refused_without_keeping_its_rows(node, wf_dir):
    """100,000 rows against the default bound: the file is read as a stream and rows past the bound are only
    counted, so the refusal costs little memory whatever the file's size."""
    import tracemalloc
    with (wf_dir / "big.csv").open("w") as handle:
        handle.write("sku,product\n")
        for i in range(100_000):
            handle.write(f"SKU{i:06d},a product with a description long enough to weigh something {i}\n")
    tracemalloc.start()
    try:
        with pytest.raises(Exception, match=r"'big.csv' \(all its rows\) is a list of 100,000 items"):
            node("list.from_csv", path="big.csv")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20, f"{peak / 2**20:.0f} MB held to refuse it"
