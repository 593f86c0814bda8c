"""Fixtures for the built-in node packs: images the tests draw themselves, a real NodeContext, real runs."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from flowbanana.cache import Cache
from flowbanana.executor import Execution, RunOptions
from flowbanana.node_api import NodeContext


@pytest.fixture
def gradient() -> Image.Image:
    """64×48 RGB: red grows left to right (x*4), green top to bottom (y*5), blue fixed at 128."""
    image = Image.new("RGB", (64, 48))
    image.putdata([(x * 4, y * 5, 128) for y in range(48) for x in range(64)])
    return image


@pytest.fixture
def shapes() -> Image.Image:
    """80×60 RGB: blue ground, a red square at (10,10)-(29,29), a white ellipse in (40,20)-(69,49)."""
    image = Image.new("RGB", (80, 60), (0, 0, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 29, 29), fill=(255, 0, 0))
    draw.ellipse((40, 20, 69, 49), fill=(255, 255, 255))
    return image


@pytest.fixture
def alpha() -> Image.Image:
    """40×40 RGBA: transparent, with an opaque green square at (10,10)-(29,29)."""
    image = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((10, 10, 29, 29), fill=(0, 200, 0, 255))
    return image


@pytest.fixture
def wf_dir(tmp_path) -> Path:
    """The folder a test workflow lives in: the only folder its nodes may read."""
    folder = tmp_path / "wf"
    folder.mkdir()
    return folder


@pytest.fixture
def out_dir(tmp_path) -> Path:
    return tmp_path / "out"


class Reports(list):
    """What a node reported through its context (progress, warnings), as (kind, data) pairs."""

    def warnings(self) -> list[str]:
        return [data["message"] for kind, data in self if kind == "warning"]


@pytest.fixture
def reports() -> Reports:
    return Reports()


@pytest.fixture
def node(catalogue, wf_dir, out_dir, reports):
    """Call a node type's function as the executor would: params default, inputs unset, a real ctx.

    `node("image.crop", image=img, mode="box", x=5)`; `item=(index, count)` sets the list position.
    """
    def call(type_id: str, item: tuple[int, int] = (0, 1), **values):
        node_type = catalogue.get(type_id)
        kwargs = {p.name: p.default for p in node_type.params}
        kwargs.update({i.name: [] if i.list else None for i in node_type.inputs})
        kwargs.update(values)
        if node_type.wants_ctx:
            kwargs["ctx"] = NodeContext(
                node_id="n", node_type=node_type, base_dir=wf_dir, out_dir=out_dir, read_roots=(wf_dir,),
                resources={}, report=lambda kind, **data: reports.append((kind, data)),
                item_index=item[0], item_count=item[1])
        return node_type.fn(**kwargs)
    return call


@pytest.fixture
def run(catalogue, make_workflow, wf_dir, out_dir, tmp_path):
    """Run nodes through the real executor with an on-disk cache; returns (result, events)."""
    def _run(nodes: dict, **options):
        workflow = make_workflow(nodes)
        workflow.source = wf_dir / "workflow.json"
        events = []
        options = {"out_dir": out_dir, "cache": Cache(tmp_path / "cache"), **options}
        result = asyncio.run(Execution(workflow, catalogue, RunOptions(**options), on_event=events.append).run())
        return result, events
    return _run
