"""Input images sent over HTTP: checked whole and bounded in pixels, kept under their content digest."""
from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path

from PIL import Image

SUFFIXES = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp", "GIF": ".gif"}


class UploadRefused(ValueError):
    """Not an image we keep; `status` is the HTTP status that says why (400 or 413)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def save_upload(data: bytes, folder: Path, max_pixels: int) -> Path:
    """Check that `data` is one whole image of a sane size, and keep it under its content digest."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(SUFFIXES)) as image:  # no EPS, PSD & co.
                width, height = image.size
                if width * height > max_pixels:
                    raise UploadRefused(413, f"the image is {width}x{height} pixels; the limit is {max_pixels}.")
                suffix = SUFFIXES[image.format]
                image.load()
    except UploadRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UploadRefused(413, f"the image is too large to open: {exc}") from None
    except Exception as exc:  # Pillow raises many types for broken files
        raise UploadRefused(400, f"not a readable image ({type(exc).__name__}); send a PNG, JPEG, WebP or GIF.") \
            from None
    folder.mkdir(parents=True, exist_ok=True)
    path = (folder / (hashlib.sha256(data).hexdigest()[:24] + suffix)).resolve()
    if not path.exists():
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path
