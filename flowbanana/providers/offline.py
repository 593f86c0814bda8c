"""The offline preview provider: deterministic stand-ins so that every workflow runs without a key or quota.

Images have the exact pixel size Gemini would return and say "offline preview" on their face;
generations draw the prompt on a colour field seeded by (prompt, seed, size, ratio); edits tint
their input and caption it with the instruction. It never claims to be Gemini.
"""
from __future__ import annotations

import asyncio
import hashlib
import textwrap

from PIL import Image, ImageDraw, ImageFont, ImageOps

from ..limits import CallLimiter
from .base import Answer, Request, Stats
from .models import lookup, nearest_ratio

LABEL = "offline preview"


class OfflineProvider:
    name = LABEL
    cache_id = "offline-preview-1"
    offline = True

    def __init__(self):
        self.stats = Stats()

    async def generate(self, request: Request, limiter: CallLimiter, notify=None) -> Answer:
        async with limiter.slot(request.model):
            self.stats.calls += 1
            if request.image:
                images, text = [await asyncio.to_thread(render, request)], f"({LABEL}) {request.caption or request.prompt}"
            else:
                images, text = [], describe(request)
        answer = Answer(images=images, text=text, model=request.model, finish_reason="STOP", cost_usd=0.0)
        self.stats.add(answer)
        return answer


def output_size(request: Request) -> tuple[int, int]:
    """What Gemini would return: the asked ratio, or for an edit without one, the ratio nearest the input's."""
    model = lookup(request.model)
    ratio = request.aspect_ratio
    if ratio is None:
        ratio = nearest_ratio(*request.images[0].size, model.aspect_ratios) if request.images else "1:1"
    return model.pixel_size(ratio, request.size)


def render(request: Request) -> Image.Image:
    """A placeholder Gemini could have answered: its exact size, colours fixed by the request (so the same request
    gives the same picture and caches alike), derived from the input image for edits, captioned with the prompt."""
    size = output_size(request)
    digest = hashlib.sha256(repr((request.model, request.prompt, request.seed, request.size, request.aspect_ratio,
                                  [(i.size, i.mode) for i in request.images])).encode()).digest()
    tint = tuple(digest[:3])
    if request.images:
        base = ImageOps.fit(request.images[0].convert("RGB"), size, Image.Resampling.LANCZOS)
        image = Image.blend(base, Image.new("RGB", size, tint), 0.35)
        caption = request.caption or request.prompt
    else:
        image = _gradient(size, tint, tuple(digest[3:6]))
        caption = request.prompt
    _draw_text(image, caption)
    image.info["provider"] = LABEL
    return image


def describe(request: Request) -> str:
    """A text answer that says what it is and carries the input through, so downstream prompts stay useful."""
    if request.images:
        sizes = ", ".join(f"{i.width}×{i.height}" for i in request.images)
        return f"({LABEL}) {len(request.images)} image(s) of {sizes}; {request.caption or request.prompt}"
    return f"{request.caption or request.prompt} ({LABEL})"


def _gradient(size: tuple[int, int], top: tuple[int, ...], bottom: tuple[int, ...]) -> Image.Image:
    ramp = Image.linear_gradient("L").resize(size)
    return Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), ramp)


def _draw_text(image: Image.Image, caption: str) -> None:
    draw = ImageDraw.Draw(image)
    short = min(image.size)
    label_font = ImageFont.load_default(size=max(12, short // 24))
    font = ImageFont.load_default(size=max(10, short // 20))
    margin = max(6, short // 40)
    draw.rectangle((0, 0, image.width, label_font.size + 2 * margin), fill=(0, 0, 0))
    draw.text((margin, margin), LABEL.upper(), font=label_font, fill=(255, 214, 0))
    chars = max(8, int(image.width / (font.size * 0.55)) - 2)
    lines = textwrap.wrap(caption, chars)[:6] or [""]
    box_top = image.height - len(lines) * (font.size + 4) - 2 * margin
    draw.rectangle((0, box_top, image.width, image.height), fill=(0, 0, 0))
    draw.multiline_text((margin, box_top + margin), "\n".join(lines), font=font, fill=(255, 255, 255), spacing=4)
