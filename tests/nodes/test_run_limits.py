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
