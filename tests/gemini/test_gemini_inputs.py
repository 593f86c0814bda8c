"""Input images as they reach Gemini (on the wire, through the real SDK): JPEG or PNG, scaled to what the model
uses, and refused before anything is sent when the request is over the inline limit."""
from __future__ import annotations

import base64
import io
import json
import os

import pytest
from PIL import Image, ImageChops, ImageStat

from flowbanana.cli import main
from flowbanana.node_api import NodeError
from flowbanana.providers import MODELS, Request, models
from fake_gemini import FAKE_KEY


def gen(**kw) -> Request:
    return Request(**{"model": "gemini-3.1-flash-image", "prompt": "put them together", "aspect_ratio": "1:1", **kw})


def sent_images(fake, request: int = 0) -> list[Image.Image]:
    """The pictures as they arrived in a request's body, decoded."""
    parts = json.loads(fake.bodies_seen[request])["contents"][0]["parts"]
    blobs = [p.get("inlineData") or p.get("inline_data") for p in parts]
    return [Image.open(io.BytesIO(base64.urlsafe_b64decode(b["data"] + "=" * (-len(b["data"]) % 4))))
            for b in blobs if b]


def noise(size: tuple[int, int], mode: str = "RGBA") -> Image.Image:
    """Random pixels: a picture no encoder can make small."""
    return Image.frombytes(mode, size, os.urandom(size[0] * size[1] * len(mode)))


async def test_an_opaque_picture_goes_as_jpeg_and_a_transparent_one_as_png_with_its_alpha(provider, limiter, fake):
    photo = Image.linear_gradient("L").resize((120, 90)).convert("RGB")
    photo.paste((200, 40, 40), (30, 20, 90, 70))
    see_through = Image.new("RGBA", (64, 48), (255, 0, 0, 128))
    opaque_rgba = Image.new("RGBA", (64, 48), (0, 0, 255, 255))
    palette = Image.new("P", (32, 32), 0)
    palette.info["transparency"] = 0
    grey = Image.new("L", (30, 20), 128)
    await provider.generate(gen(images=[photo, see_through, opaque_rgba, palette, grey]), limiter)
    call = fake.calls[0]
    assert call.mime_types == ["image/jpeg", "image/png", "image/jpeg", "image/png", "image/jpeg"]
    assert call.images == [(120, 90), (64, 48), (64, 48), (32, 32), (30, 20)]
    arrived = sent_images(fake)
    assert arrived[1].mode == "RGBA" and arrived[1].getpixel((5, 5)) == (255, 0, 0, 128)  # alpha kept exactly
    assert arrived[3].convert("RGBA").getpixel((0, 0))[3] == 0
    assert arrived[4].mode == "L"
    # quality 90: the photo arrives close to what it was, every pixel of it
    difference = ImageStat.Stat(ImageChops.difference(arrived[0].convert("RGB"), photo)).mean
    assert max(difference) < 2


async def test_a_picture_larger_than_the_model_uses_is_scaled_down_keeping_its_ratio(provider, limiter, fake):
    side = MODELS["gemini-3.1-flash-image"].max_input_side
    huge = Image.new("RGB", (2 * side, side // 2), "white")
    tall = Image.new("RGBA", (side // 3, side + 900), (0, 0, 0, 0))
    await provider.generate(gen(images=[huge, tall, Image.new("RGB", (800, 600))]), limiter)
    assert fake.calls[0].images == [(side, side // 4), (round(side // 3 * side / (side + 900)), side), (800, 600)]
    assert fake.calls[0].mime_types == ["image/jpeg", "image/png", "image/jpeg"]


async def test_a_request_over_the_inline_limit_is_refused_before_it_is_sent(provider, limiter, fake, monkeypatch):
    monkeypatch.setattr(models, "INLINE_REQUEST_LIMIT", 150_000)
    pictures = [noise((160, 120)), noise((100, 100)), noise((60, 60), "RGB")]  # ~77 + 40 KB of PNG, a small JPEG
    with pytest.raises(NodeError) as raised:
        await provider.generate(gen(images=pictures), limiter)
    error = raised.value
    assert "over Gemini's 0.1 MB limit for a request sent inline; nothing was sent" in error.message
    assert "3 input images" in error.message and "input image 1" in error.message
    assert "160×120 PNG with transparency" in error.message and "image.resize" in error.hint
    assert fake.received == 0
    await provider.generate(gen(images=pictures[1:]), limiter)  # under the limit: sent
    assert fake.calls[0].mime_types == ["image/png", "image/jpeg"]


async def test_on_vertex_ai_each_inline_image_has_its_own_limit(gemini_env, limiter, fake, monkeypatch):
    from flowbanana.providers import GeminiProvider
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    monkeypatch.setattr(models, "VERTEX_INLINE_IMAGE_LIMIT", 50_000)
    provider = GeminiProvider()
    with pytest.raises(NodeError) as raised:
        await provider.generate(gen(images=[noise((40, 40)), noise((150, 150))]), limiter)
    assert "input image 2" in raised.value.message and "Vertex AI's 0.1 MB limit" in raised.value.message
    assert fake.received == 0


def test_the_run_names_the_node_whose_request_is_too_big(gemini_env, wf_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(models, "INLINE_REQUEST_LIMIT", 50_000)
    noise((200, 200)).save(wf_dir / "texture.png")
    nodes = {"texture": {"type": "image.load", "params": {"path": "texture.png"}},
             "restyle": {"type": "gemini.edit", "params": {"instruction": "make it wood"},
                         "inputs": {"image": "texture.image"}},
             "save": {"type": "image.save", "inputs": {"image": "restyle.image"}}}
    path = wf_dir / "wf.json"
    path.write_text(json.dumps({"format": "flowbanana/workflow", "version": 2, "name": "t", "nodes": nodes}))
    code = main(["run", str(path), "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache")])
    out, err = capsys.readouterr()
    assert code != 0
    [line] = [line for line in (out + err).splitlines() if line.strip().startswith("✗ restyle:")]
    assert "(input image 1: 0.2 MB as a 200×200 PNG with transparency)" in line and "nothing was sent" in line
    assert gemini_env.received == 0 and FAKE_KEY not in out + err
