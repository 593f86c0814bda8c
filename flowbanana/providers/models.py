"""The model catalogue: every fact flowbanana keeps about a Gemini model, in one table.

When Google renames a model or changes a limit, edit `MODELS` and nothing else. Prices are
estimates from public pages (USD), for the CLI's summary and `--dry-run`, never a bill.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
EXTRA_RATIOS = ("1:4", "4:1", "1:8", "8:1")  # Nano Banana 2 only
ALL_RATIOS = ASPECT_RATIOS + EXTRA_RATIOS
ALL_SIZES = ("512", "1K", "2K", "4K")

# Pixel sizes at 1K as Google publishes them; 512, 2K and 4K scale these by 1/2, 2 and 4.
_PIXELS_25 = {"1:1": (1024, 1024), "2:3": (832, 1248), "3:2": (1248, 832), "3:4": (864, 1184),
              "4:3": (1184, 864), "4:5": (896, 1152), "5:4": (1152, 896), "9:16": (768, 1344),
              "16:9": (1344, 768), "21:9": (1536, 672)}
_PIXELS_3 = {"1:1": (1024, 1024), "2:3": (848, 1264), "3:2": (1264, 848), "3:4": (896, 1200),
             "4:3": (1200, 896), "4:5": (928, 1152), "5:4": (1152, 928), "9:16": (768, 1376),
             "16:9": (1376, 768), "21:9": (1584, 672), "1:4": (512, 2048), "4:1": (2048, 512),
             "1:8": (384, 3072), "8:1": (3072, 384)}
_SCALE = {"512": 0.5, "1K": 1, "2K": 2, "4K": 4}


@dataclass(frozen=True)
class Model:
    id: str
    name: str
    image: bool = True                     # answers with images (else text only)
    aspect_ratios: tuple[str, ...] = ASPECT_RATIOS
    sizes: tuple[str, ...] = ("1K",)
    max_references: int = 3               # input images per request, documented best results
    price_per_image: dict[str, float] = field(default_factory=dict)  # by size, USD
    price_per_mtok: tuple[float, float] = (0.0, 0.0)  # text models: USD per million (input, output) tokens
    thinks: bool = False                   # answers may hold thought parts to skip
    pixels: dict[str, tuple[int, int]] = field(default_factory=lambda: _PIXELS_3)
    known: bool = True                     # False for ids typed by the user that the table lacks

    def pixel_size(self, aspect_ratio: str, size: str = "1K") -> tuple[int, int]:
        """The (width, height) Gemini returns for this ratio and size."""
        width, height = self.pixels.get(aspect_ratio) or _PIXELS_3.get(aspect_ratio) or _approximate(aspect_ratio)
        scale = _SCALE.get(size, 1)
        return int(width * scale), int(height * scale)

    def estimate(self, size: str = "1K", images: int = 1) -> float | None:
        """Estimated USD for `images` images at `size`; None when the price is unknown."""
        if not self.image:
            return None if not self.known else round(sum(self.price_per_mtok) * 1e-3, 6)  # ~1k tokens each way
        price = self.price_per_image.get(size)
        return None if price is None else price * images

    def cost_of(self, size: str, images: int, prompt_tokens: int, output_tokens: int) -> float | None:
        """Estimated USD of a call that happened: by image for image models, by token for text models."""
        if self.image:
            return self.estimate(size, images)
        if not self.known:
            return None
        price_in, price_out = self.price_per_mtok
        return (prompt_tokens * price_in + output_tokens * price_out) / 1e6


_NANO_BANANA_2 = dict(aspect_ratios=ALL_RATIOS, sizes=("512", "1K", "2K", "4K"), max_references=14,
                      price_per_image={"512": 0.045, "1K": 0.067, "2K": 0.101, "4K": 0.151})
_PRO = dict(sizes=("1K", "2K", "4K"), max_references=14, thinks=True,
            price_per_image={"1K": 0.134, "2K": 0.134, "4K": 0.24})

MODELS: dict[str, Model] = {m.id: m for m in [
    Model("gemini-2.5-flash-image", "Nano Banana", pixels=_PIXELS_25, price_per_image={"1K": 0.039}),
    Model("gemini-3.1-flash-image-preview", "Nano Banana 2 (preview)", **_NANO_BANANA_2),
    Model("gemini-3.1-flash-image", "Nano Banana 2", **_NANO_BANANA_2),
    Model("gemini-3-pro-image-preview", "Nano Banana Pro (preview)", **_PRO),
    Model("gemini-3-pro-image", "Nano Banana Pro", **_PRO),
    Model("gemini-3.1-flash-lite-image", "Nano Banana 2 Lite", price_per_image={"1K": 0.02}),
    Model("gemini-2.5-flash", "Gemini 2.5 Flash", image=False, thinks=True, price_per_mtok=(0.30, 2.50)),
    Model("gemini-2.5-flash-lite", "Gemini 2.5 Flash-Lite", image=False, price_per_mtok=(0.10, 0.40)),
    Model("gemini-3-flash-preview", "Gemini 3 Flash (preview)", image=False, thinks=True,
          price_per_mtok=(0.50, 3.00)),
]}

DEFAULT_IMAGE_MODEL = "gemini-2.5-flash-image"
DEFAULT_TEXT_MODEL = "gemini-2.5-flash"
IMAGE_MODELS = tuple(m.id for m in MODELS.values() if m.image)
TEXT_MODELS = tuple(m.id for m in MODELS.values() if not m.image)


def lookup(model_id: str, image: bool = True) -> Model:
    """The catalogue entry, or a permissive stand-in for an id the table does not know (check `.known`)."""
    found = MODELS.get(model_id)
    if found:
        return found
    return Model(model_id, model_id, image=image, aspect_ratios=ALL_RATIOS, sizes=ALL_SIZES, max_references=14,
                 known=False)


def nearest_ratio(width: int, height: int, ratios: tuple[str, ...] = ASPECT_RATIOS) -> str:
    """The supported aspect ratio closest to a picture's own (what an edit without a ratio keeps)."""
    target = math.log(width / height)
    return min(ratios, key=lambda r: abs(math.log(_ratio(r)) - target))


def _ratio(text: str) -> float:
    w, h = text.split(":")
    return int(w) / int(h)


def _approximate(aspect_ratio: str) -> tuple[int, int]:
    """About one megapixel at a ratio the table lacks, in multiples of 16."""
    r = _ratio(aspect_ratio)
    width = round(1024 * r ** 0.5 / 16) * 16
    return width, round(width / r / 16) * 16
