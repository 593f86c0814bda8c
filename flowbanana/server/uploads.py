"""Input images sent over HTTP: checked whole and bounded in pixels, kept under their content digest."""
from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path

from fastapi import HTTPException
from PIL import Image

SUFFIXES = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp", "GIF": ".gif"}


def save_upload(data: bytes, folder: Path, max_pixels: int) -> Path:
    """Check that `data` is one whole image of a sane size, and keep it under its content digest."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise HTTPException(413, f"the image is {width}x{height} pixels; the limit is {max_pixels}.")
                kind = image.format
                image.load()
    except HTTPException:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise HTTPException(413, f"the image is too large to open: {exc}") from None
    except Exception as exc:  # Pillow raises many types for broken files
        raise HTTPException(400, f"not a readable image ({type(exc).__name__}); send a PNG, JPEG, WebP or GIF.") \
            from None
    suffix = SUFFIXES.get(kind)
    if suffix is None:
        raise HTTPException(415, f"{kind} images are not accepted; send a PNG, JPEG, WebP or GIF.")
    folder.mkdir(parents=True, exist_ok=True)
    path = (folder / (hashlib.sha256(data).hexdigest()[:24] + suffix)).resolve()
    if not path.exists():
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path
