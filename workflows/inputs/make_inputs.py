"""Draw the example workflows' input images (committed; run again only to change them).

    python workflows/inputs/make_inputs.py

Everything is drawn with Pillow from fixed numbers, so the files come out the same each time.
"""
from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = Path(__file__).parent


def product() -> Image.Image:
    """A 'product shot': an orange ball and its shadow on a warm studio gradient, 900×600."""
    image = Image.new("RGB", (900, 600))
    image.putdata([(238 - y // 12, 226 - y // 10, 210 - y // 8) for y in range(600) for _ in range(900)])
    shadow = Image.new("L", image.size, 0)
    ImageDraw.Draw(shadow).ellipse((330, 470, 600, 520), fill=110)
    image.paste((60, 45, 35), mask=shadow.filter(ImageFilter.GaussianBlur(14)))
    draw = ImageDraw.Draw(image)
    draw.ellipse((340, 210, 580, 450), fill=(236, 112, 38))
    draw.arc((340, 210, 580, 450), 200, 340, fill=(250, 190, 130), width=10)
    draw.line((460, 210, 460, 450), fill=(150, 60, 20), width=6)
    return image


def logo() -> Image.Image:
    """A small logo with a transparent background, 180×60."""
    image = Image.new("RGBA", (180, 60), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, 179, 59), radius=14, fill=(20, 20, 20, 170))
    draw.ellipse((12, 12, 48, 48), fill=(255, 214, 10, 255))
    draw.text((60, 30), "STUDIO", font=ImageFont.load_default(size=26), fill="white", anchor="lm")
    return image


def tiles() -> dict[str, Image.Image]:
    """Six 240×180 'shots' for the contact sheet: a shape per colour on a soft ground."""
    shots = {}
    for i, (name, colour) in enumerate([("lemon", (245, 208, 50)), ("plum", (120, 60, 140)),
                                        ("sage", (130, 160, 120)), ("coral", (240, 110, 90)),
                                        ("sky", (90, 160, 220)), ("slate", (80, 90, 105))]):
        image = Image.new("RGB", (240, 180), tuple(255 - (255 - c) // 5 for c in colour))
        draw = ImageDraw.Draw(image)
        sides = 3 + i
        points = [(120 + 60 * math.cos(2 * math.pi * k / sides - math.pi / 2),
                   95 + 60 * math.sin(2 * math.pi * k / sides - math.pi / 2)) for k in range(sides)]
        draw.polygon(points, fill=colour)
        shots[f"{i + 1:02d}-{name}"] = image
    return shots


if __name__ == "__main__":
    product().save(HERE / "product.jpg", quality=82, optimize=True)
    logo().save(HERE / "logo.png", optimize=True)
    (HERE / "sheet").mkdir(exist_ok=True)
    for name, image in tiles().items():
        image.save(HERE / "sheet" / f"{name}.jpg", quality=80, optimize=True)
