"""Result images for the page: written once as PNG plus a small thumbnail, served by URL (never base64).

The canvas and the gallery get `/flowbanana/media/<key>.png?v=<run>` links; `key` is random per
image, so nothing about a file path leaks into the page, and the folder is removed at shutdown.
"""
from __future__ import annotations

import re
import shutil
import tempfile
import threading
import uuid
from pathlib import Path

from PIL import Image

THUMB_SIZE = (448, 448)
MAX_BYTES = 2 * 2**30  # a long session of 4K results stays within a couple of gigabytes of temp space
ROUTE = "/flowbanana/media"
NAME = re.compile(r"^[0-9a-f]{32}(\.png|_t\.jpg)$")


class MediaStore:
    """Bounded: past `max_bytes` the oldest images go first (the newest results are the ones on screen)."""

    def __init__(self, root: Path | None = None, max_bytes: int = MAX_BYTES):
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="flowbanana-editor-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self._sizes: dict[Path, int] = {}  # oldest first
        self._total = 0
        self._lock = threading.Lock()  # images arrive from several worker threads at once

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
        self._keep(self.root / f"{key}.png", self.root / f"{key}_t.jpg")
        return {"full": f"{ROUTE}/{key}.png?v={version}", "thumb": f"{ROUTE}/{key}_t.jpg?v={version}",
                "width": image.width, "height": image.height}

    def _keep(self, *paths: Path) -> None:
        with self._lock:
            for path in paths:
                self._sizes[path] = path.stat().st_size
                self._total += self._sizes[path]
            while self._total > self.max_bytes and len(self._sizes) > len(paths):
                oldest = next(iter(self._sizes))
                self._total -= self._sizes.pop(oldest)
                oldest.unlink(missing_ok=True)

    def path(self, name: str) -> Path | None:
        """The file for a URL name, or None for anything that is not a name this store made."""
        if not NAME.match(name):
            return None
        path = self.root / name
        return path if path.is_file() else None

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
