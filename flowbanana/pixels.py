"""Facts about pictures that hold whatever pack made them: the memory they take, and deep greys as 8 bits."""
from __future__ import annotations

from typing import Any

from PIL import Image


def image_bytes(value: Any) -> int:
    """The memory the pictures in `value` (an image, or a list holding some) take as Pillow keeps them."""
    if isinstance(value, Image.Image):
        mode = value.mode
        per_pixel = 1 if mode in ("1", "L", "P") else 2 if mode.startswith("I;16") else 4  # RGB is kept as RGBX
        return value.width * value.height * per_pixel
    if isinstance(value, (list, tuple)):
        return sum(image_bytes(item) for item in value)
    return 0


def eight_bit(image: Image.Image) -> Image.Image:
    """A 16-bit or 32-bit integer grey (I;16, I) or a float one (F) as 8-bit L, scaled by its depth.

    65535 (16 bits) or 1.0 (floats) is white, whatever else the picture holds: a uniform white
    mask stays white, where stretching from the darkest to the brightest value would make it black.
    Values past white are clipped. Other modes are returned unchanged.
    """
    if image.mode == "F":
        return image.point(lambda v: v * 255 + 0.5).convert("L")
    if image.mode == "I" or image.mode.startswith("I;16"):
        return image.convert("I").point(lambda v: v / 257).convert("L")
    return image
