"""Result images for the page: written once as PNG plus a small thumbnail, served by URL (never base64).

The canvas and the gallery get `/flowbanana/media/<key>.png?v=<run>` links; `key` is random per
image, so nothing about a file path leaks into the page, and the folder is removed at shutdown.
"""
from __future__ import annotations

import re
import shutil
import tempfile
import uuid
from pathlib import Path

from PIL import Image

THUMB_SIZE = (448, 448)
ROUTE = "/flowbanana/media"
NAME = re.compile(r"^[0-9a-f]{32}(\.png|_t\.jpg)$")


class MediaStore:
    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="flowbanana-editor-"))
        self.root.mkdir(parents=True, exist_ok=True)

    def add(self, image: Image.Image, version: str) -> dict:
        """Write `image` and its thumbnail (blocking: call from a thread); return their URLs."""
        key = uuid.uuid4().hex
        image.save(self.root / f"{key}.png", format="PNG", compress_level=1)
        thumb = image.copy()
        thumb.thumbnail(THUMB_SIZE, Image.Resampling.LANCZOS)
        thumb = thumb.convert("RGBA")
        background = Image.new("RGB", thumb.size, (14, 15, 17))  # transparency shown on the canvas colour
        background.paste(thumb, mask=thumb.getchannel("A"))
        thumb = background
        thumb.save(self.root / f"{key}_t.jpg", format="JPEG", quality=85)
        return {"full": f"{ROUTE}/{key}.png?v={version}", "thumb": f"{ROUTE}/{key}_t.jpg?v={version}",
                "width": image.width, "height": image.height}

    def path(self, name: str) -> Path | None:
        """The file for a URL name, or None for anything that is not a name this store made."""
        if not NAME.match(name):
            return None
        path = self.root / name
        return path if path.is_file() else None

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
