"""The Gemini examples in workflows/ make what they say, offline and through the SDK at the fake server."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageChops

import flowbanana

WORKFLOWS = Path(__file__).parents[2] / "workflows"


async def run(name, tmp_path, provider="auto", **kw):
    result = await flowbanana.run_async(WORKFLOWS / name, out_dir=tmp_path / "out", cache_dir=tmp_path / "cache",
                                        provider=provider, **kw)
    assert result.ok, {n: r.error for n, r in result.nodes.items() if not r.ok}
    return result


async def test_inpaint_region_keeps_everything_outside_the_ellipse(tmp_path):
    result = await run("inpaint-region.json", tmp_path)
    original, mask = result.output("load", "image"), result.output("mask", "mask")
    saved = Image.open(result.files[0]).convert("RGB")
    outside = Image.eval(mask, lambda v: 255 if v == 0 else 0)
    diff = ImageChops.difference(saved, original)
    assert Image.composite(diff, Image.new("RGB", saved.size), outside).getbbox() is None
    assert diff.getbbox() is not None


async def test_catalogue_batch_saves_one_shot_per_row_under_its_sku(tmp_path, gemini_env):
    fake = gemini_env
    result = await run("catalogue-batch.json", tmp_path, provider="gemini")
    assert [f.name for f in result.files] == ["mug-01.png", "lamp-02.png", "shoe-03.png"]
    assert all(Image.open(f).size == (928, 1152) for f in result.files)  # 4:5 from Nano Banana 2
    prompts = sorted(c.prompt for c in fake.calls)
    assert len(prompts) == 3 and prompts[0].startswith("a brass desk lamp") and "pastel backdrop" in prompts[0]
    assert result.nodes["generate"].meta["items"][0]["provider"] == "gemini"


async def test_style_transfer_sends_the_photo_and_the_reference(tmp_path, gemini_env):
    fake = gemini_env
    result = await run("style-transfer.json", tmp_path, provider="gemini")
    assert fake.calls[0].images == [(900, 600), (240, 180)]
    assert Image.open(result.files[0]).size == (1264, 848)  # 3:2, the shape of the photo


@pytest.mark.parametrize("name, files", [("text-to-image.json", 2), ("product-background-swap.json", 1)])
async def test_offline_examples_say_offline_preview(tmp_path, name, files):
    result = await run(name, tmp_path, provider="offline")
    assert len(result.files) == files
    model_nodes = [r.meta for r in result.nodes.values() if "provider" in r.meta]
    assert model_nodes and all(m["provider"] == "offline preview" for m in model_nodes)


async def test_grounded_poster_searches_before_drawing_and_lists_its_sources(tmp_path, gemini_env):
    fake = gemini_env
    result = await run("grounded-poster.json", tmp_path, provider="gemini")
    [call] = fake.calls
    assert call.model == "gemini-3.1-flash-image" and call.search == {"web", "image"}  # the alias, resolved
    assert "this weekend's weather in Lisbon" in call.prompt
    assert "Sources:\n- Weather today: https://example.org/weather-today" in result.output("generate", "text")
    assert result.nodes["generate"].meta["searches"]
