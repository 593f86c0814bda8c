"""Input images as Gemini takes them: JPEG or PNG, no larger than the model uses, within the inline request limit.

An opaque picture goes as JPEG (quality 90: a fraction of a PNG's bytes, and the model sees no difference); one
with transparency as PNG, alpha kept. A picture larger than the model's `max_input_side` is scaled down to fit
first (Google would scale it down anyway, after the upload). A request that would still be over the inline limit
is refused here, before anything is sent, saying which images made it so.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from ..node_api import NodeError
from . import models
from .keys import uses_vertex

JPEG_QUALITY = 90
OVERHEAD = 4096  # bytes of JSON around the prompt and the images


@dataclass(frozen=True)
class Encoded:
    data: bytes
    mime_type: str
    size: tuple[int, int]        # as sent
    original: tuple[int, int]    # as handed to the provider


def encode(image: Image.Image, max_side: int) -> Encoded:
    """The picture as sent: scaled down to fit `max_side`, as PNG when it has transparency, else as JPEG."""
    original = image.size
    transparent = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if transparent:
        image = image.convert("RGBA")
        transparent = image.getchannel("A").getextrema()[0] < 255
    if not transparent:
        image = image.convert("L" if image.mode in ("1", "L", "LA") else "RGB")
    if max(image.size) > max_side:
        scale = max_side / max(image.size)
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    if transparent:
        image.save(buffer, format="PNG")
    else:
        image.save(buffer, format="JPEG", quality=JPEG_QUALITY, subsampling=0)  # full colour detail: logos, text
    return Encoded(buffer.getvalue(), "image/png" if transparent else "image/jpeg", image.size, original)


def check_inline(model: str, text: str, images: list[Encoded]) -> None:
    """Raise NodeError when a request with `text` and `images` is more than Gemini takes inline."""
    if uses_vertex():
        limit = models.VERTEX_INLINE_IMAGE_LIMIT
        over = [(i, e) for i, e in enumerate(images, 1) if len(e.data) > limit]
        if over:
            i, biggest = max(over, key=lambda found: len(found[1].data))
            raise NodeError(f"input image {i} of the request to {model} is {_mb(len(biggest.data))} as "
                            f"{_described(biggest)}, over Vertex AI's {_mb(limit)} limit for an image sent inline; "
                            "nothing was sent.", _HINT)
        return
    limit = models.INLINE_REQUEST_LIMIT
    total = OVERHEAD + len(text.encode()) + sum(_base64_length(len(e.data)) for e in images)
    if total > limit:
        biggest = max(range(len(images)), key=lambda i: len(images[i].data), default=None)
        largest = "" if biggest is None else (f" ({'the largest, ' if len(images) > 1 else ''}input image "
                                              f"{biggest + 1}: {_mb(len(images[biggest].data))} as "
                                              f"{_described(images[biggest])})")
        raise NodeError(f"the request to {model} would be {_mb(total)} with its {len(images)} input image"
                        f"{'s' if len(images) != 1 else ''}{largest}, over Gemini's {_mb(limit)} limit for a request "
                        "sent inline; nothing was sent.", _HINT)


_HINT = ("Send fewer or smaller input images (an image.resize before this node); an image with transparency goes as "
         "lossless PNG, so flattening it onto a background (image.convert to RGB) makes it far smaller.")


def _described(encoded: Encoded) -> str:
    kind = "PNG with transparency" if encoded.mime_type == "image/png" else "JPEG"
    return f"a {encoded.size[0]}×{encoded.size[1]} {kind}"


def _base64_length(n: int) -> int:
    return (n + 2) // 3 * 4


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"
