"""The offline preview provider: deterministic, the exact sizes Gemini returns, and plainly labelled."""
from __future__ import annotations

import pytest
from PIL import Image, ImageChops, ImageStat

from flowbanana.providers import MODELS, OfflineProvider, Request

IMAGE_CASES = [(m.id, r, s) for m in MODELS.values() if m.image and m.status != "retired" for r in m.aspect_ratios
               for s in m.sizes
               if s != "4K"]  # 4K is the same code at four times the pixels


@pytest.fixture
def offline():
    return OfflineProvider()


async def make(offline, limiter, **kw):
    answer = await offline.generate(Request(**{"model": "gemini-2.5-flash-image", "prompt": "a teapot",
                                              "aspect_ratio": "1:1", **kw}), limiter)
    return answer.images[0]


@pytest.mark.parametrize("model, ratio, size", IMAGE_CASES)
async def test_every_model_ratio_and_size_has_geminis_pixel_size(offline, limiter, model, ratio, size):
    image = await make(offline, limiter, model=model, aspect_ratio=ratio, size=size)
    assert image.size == MODELS[model].pixel_size(ratio, size)


async def test_the_same_request_gives_the_same_pixels(offline, limiter):
    first, second = await make(offline, limiter, seed=3), await make(offline, limiter, seed=3)
    assert ImageChops.difference(first, second).getbbox() is None
    for change in ({"seed": 4}, {"prompt": "a kettle"}):
        other = await make(offline, limiter, **{"seed": 3, **change})
        assert ImageChops.difference(first, other).getbbox() is not None


async def test_it_says_offline_preview_and_costs_nothing(offline, limiter):
    answer = await offline.generate(Request(model="gemini-3-pro-image", prompt="x", aspect_ratio="1:1"),
                                    limiter)
    assert answer.images[0].info["provider"] == "offline preview" and answer.cost_usd == 0.0
    assert "offline preview" in answer.text and "gemini" not in offline.name.lower()
    band = answer.images[0].crop((0, 0, 1024, 8))  # the black label band across the top
    assert ImageStat.Stat(band).extrema[0] == (0, 0)


async def test_an_edit_is_visibly_its_input(offline, limiter):
    red = Image.new("RGB", (400, 300), (250, 0, 0))
    edited = await make(offline, limiter, images=[red], aspect_ratio=None, caption="make it blue")
    assert edited.size == (1184, 864)  # 4:3, the ratio nearest 400×300, at 1K
    r, g, b = edited.getpixel((edited.width // 2, edited.height // 2))
    assert r > g + 60 and r > b + 60  # still mostly the red input under a tint


async def test_text_answers_carry_the_input_through(offline, limiter):
    answer = await offline.generate(Request(model="gemini-flash-latest", prompt="improve: a cat", caption="a cat",
                                            image=False), limiter)
    assert answer.text == "a cat (offline preview)" and answer.images == []
