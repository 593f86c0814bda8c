"""Items, not whole lists: rows travel down a chain one by one, in bounded memory, with the same results."""
from __future__ import annotations

import asyncio
import weakref

import pytest
from PIL import Image

from flowbanana import noderun, provenance
from flowbanana.cache import Cache
from flowbanana.executor import Execution, RunOptions
from flowbanana.images import ImageRef
from flowbanana.node_api import NodeError
from flowbanana.providers.offline import OfflineProvider

MODEL = {"model": "gemini-3.1-flash-image", "size": "512", "aspect_ratio": "1:1"}


def batch(prompts: list[str], **save) -> dict:
    """Lines -> generate -> resize -> save: the catalogue's chain."""
    return {
        "lines": {"type": "list.from_lines", "params": {"text": "\n".join(prompts)}},
        "gen": {"type": "gemini.generate", "params": MODEL, "inputs": {"prompt": "lines.items"}},
        "fit": {"type": "image.resize", "params": {"width": 64, "height": 64}, "inputs": {"image": "gen.image"}},
        "save": {"type": "image.save", "params": {"filename": "{index:02d}-{name}.png", **save},
                 "inputs": {"image": "fit.image", "name": "lines.items"}},
    }


class Gated(OfflineProvider):
    """Offline previews, except that one prompt is answered only once a file has been saved."""

    def __init__(self, held: str):
        super().__init__()
        self.held, self.gate = held, asyncio.Event()

    async def generate(self, request, limiter, notify=None):
        if request.prompt == self.held:
            try:
                await asyncio.wait_for(self.gate.wait(), 20)
            except TimeoutError:
                raise NodeError("no file was saved before the last image was made: items did not stream") from None
        return await super().generate(request, limiter)


class Counting(OfflineProvider):
    """Offline previews that know how many of the pictures they made are still in memory."""

    def __init__(self):
        super().__init__()
        self.made: list[weakref.ref] = []

    async def generate(self, request, limiter, notify=None):
        answer = await super().generate(request, limiter)
        self.made += [weakref.ref(image) for image in answer.images]
        return answer

    def alive(self) -> int:
        return sum(ref() is not None for ref in self.made)


def execute(make_workflow, catalogue, wf_dir, out_dir, nodes, provider, on_event=None, **options):
    workflow = make_workflow(nodes)
    workflow.source = wf_dir / "workflow.json"
    options = RunOptions(out_dir=out_dir, resources={"provider": provider}, **options)
    return asyncio.run(Execution(workflow, catalogue, options, on_event=on_event).run())


def test_the_first_file_is_saved_before_the_last_image_is_made(make_workflow, catalogue, wf_dir, out_dir, tmp_path):
    prompts = [f"product {i}" for i in range(6)]
    provider = Gated(held=prompts[-1])
    events = []

    def listen(event):
        events.append(event)
        if event.kind == "node_progress" and event.node == "save":
            provider.gate.set()  # a file exists: the last image may now be made

    result = execute(make_workflow, catalogue, wf_dir, out_dir, batch(prompts), provider, listen,
                     cache=Cache(tmp_path / "cache"))
    assert result.ok, {n: r.error for n, r in result.nodes.items() if r.error}
    order = [(e.node, e.data["items"]) for e in events if e.kind == "node_progress" and "items" in e.data]
    assert order.index(("save", 1)) < order.index(("gen", 6))
    # the same files as a run that did each node in turn: names and {index} follow the list's order
    assert [p.name for p in result.files] == [f"{i + 1:02d}-product_{i}.png" for i in range(6)]
    for i, path in enumerate(result.files):
        _, record = provenance.read(path)
        assert next(s["prompt"] for s in record["steps"] if s["node"] == "gen") == prompts[i]
        assert Image.open(path).size == (64, 64)


def test_items_made_and_taken_leave_memory(make_workflow, catalogue, wf_dir, out_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(noderun, "MIN_WINDOW", 4)  # concurrency 1: a node runs at most 4 items ahead
    provider = Counting()
    seen = []

    def listen(event):
        if event.kind == "node_progress" and event.node == "save":
            seen.append(provider.alive())

    rows = 40
    result = execute(make_workflow, catalogue, wf_dir, out_dir, batch([f"p{i}" for i in range(rows)]), provider,
                     listen, cache=Cache(tmp_path / "cache"), concurrency=1)
    assert result.ok and len(result.files) == rows and len(seen) == rows
    assert max(seen) <= 12, seen  # never the whole batch: a window's worth per stage at most
    assert provider.alive() == 0  # the result keeps the cache's refs, not the pictures
    kept = result.nodes["gen"].outputs["image"]
    assert len(kept) == rows and all(isinstance(ref, ImageRef) for ref in kept)
    assert result.output("gen", "image")[0].size == (512, 512)  # read back from the cache when asked for


def test_lists_of_different_lengths_stop_before_any_item_streams(make_workflow, catalogue, wf_dir, out_dir):
    nodes = batch(["a", "b", "c"])
    nodes["names"] = {"type": "list.from_lines", "params": {"text": "x\ny"}}
    nodes["save"]["inputs"]["name"] = "names.items"
    result = execute(make_workflow, catalogue, wf_dir, out_dir, nodes, OfflineProvider())
    assert result.nodes["save"].status == "failed" and "'name' is a list of 2 items but 'image' is a list of 3" \
        in result.nodes["save"].error
    assert result.files == [] and list(out_dir.glob("*.png")) == []


@pytest.mark.parametrize("count", [1, 2])
def test_variations_pair_with_their_rows_or_wait_for_the_whole_list(make_workflow, catalogue, wf_dir, out_dir, count):
    """With one variation per row an item's position is its row's; with two the joined list is longer than the
    names, and the save says so before writing anything (as when lists were whole)."""
    nodes = batch(["a", "b", "c"])
    nodes["gen"]["params"] = {**MODEL, "count": count}
    result = execute(make_workflow, catalogue, wf_dir, out_dir, nodes, OfflineProvider())
    if count == 1:
        assert result.ok and [p.name for p in result.files] == ["01-a.png", "02-b.png", "03-c.png"]
    else:
        assert result.nodes["save"].status == "failed" and "'image' is a list of 6" in result.nodes["save"].error
        assert list(out_dir.glob("*.png")) == []
