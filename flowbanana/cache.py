"""Content-addressed results on disk, so an unchanged node never runs (or pays) twice.

A node's key hashes its type, type version, params and the digests of its inputs; outputs are
stored with their own digests, so what depends on a node is keyed by what the node produced. A
picture's digest names the call that made it (its node's key), not its pixels, so nothing is decoded
or hashed to key what follows; a forced call makes pictures with new digests. Pictures come back as
ImageRefs: read from their PNG only when a node needs the pixels.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from PIL import Image

from . import jsontext
from .images import ImageRef
from .limits import MAX_PIXELS


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(os.environ.get("FLOWBANANA_CACHE_DIR") or Path(base) / "flowbanana")


def value_digest(value: Any) -> str:
    """A stable digest of a node value: what made a kept image, pixels for others, items for lists."""
    h = hashlib.sha256()
    if isinstance(value, ImageRef):
        if value.digest:
            return value.digest
        value = value.load()
    if isinstance(value, Image.Image):
        h.update(f"image:{value.mode}:{value.size}".encode())
        h.update(value.tobytes())
    elif isinstance(value, list):
        return list_digest([value_digest(item) for item in value])
    else:
        h.update(f"{type(value).__name__}:{json.dumps(value, sort_keys=True)}".encode())
    return h.hexdigest()


def list_digest(digests: list[str]) -> str:
    """A list's digest from its items' digests, so a mapped node's output needs no second hashing."""
    h = hashlib.sha256(b"list:")
    for digest in digests:
        h.update(digest.encode())
    return h.hexdigest()


def path_digest(path: Path) -> str:
    """What a file param points at: the bytes of a file, the names, sizes and times of a folder's files."""
    h = hashlib.sha256()
    if path.is_file():
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    elif path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.is_file():
                stat = child.stat()
                h.update(f"{child.relative_to(path)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    else:
        h.update(b"missing")
    return h.hexdigest()


def node_key(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


class Damaged(Exception):
    """A cache entry that exists but cannot be used; the node runs again and its result replaces the entry."""


class CacheWriteError(Exception):
    """An entry could not be written (the disk full, a folder read-only or in the way); the message gives the
    system's reason without the cache's path. The result it would have kept is still good."""


class Cache:
    """A folder of entries `<key[:2]>/<key>/` holding `entry.json` and the images as PNG."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _dir(self, key: str) -> Path:
        return self.root / key[:2] / key

    def get(self, key: str, max_pixels: int = MAX_PIXELS) -> dict | None:
        """The stored entry (`outputs`, `digests`, `meta`), or None when there is none.

        An entry that cannot be read whole (damaged, replaced, or holding a picture over `max_pixels`)
        raises Damaged: the caller runs the node again, and `put` replaces the entry.
        """
        folder = self._dir(key)
        if not os.path.lexists(folder):
            return None
        try:
            entry = jsontext.loads((folder / "entry.json").read_text(encoding="utf-8"))
            if not isinstance(entry["digests"], dict) or not isinstance(entry["meta"], dict):
                raise TypeError("digests and meta must be objects")
            outputs = {k: _decode(v, folder, entry["digests"].get(k, ""), max_pixels)
                       for k, v in entry["outputs"].items()}
            return {**entry, "outputs": outputs}
        except Exception as exc:  # anything in a damaged entry: its folder a file, bad JSON, a hostile image
            # (an OSError's text names the cache's absolute path: only its reason is kept)
            reason = (exc.strerror or type(exc).__name__) if isinstance(exc, OSError) else \
                f"{type(exc).__name__}: {exc}"
            raise Damaged(f"the cached result {key[:12]} is damaged ({reason})") from None

    def put(self, key: str, outputs: dict[str, Any], digests: dict[str, Any], meta: dict[str, Any]) -> dict | None:
        """Write atomically: a crash leaves either the old entry or the whole new one. Returns the outputs as
        kept now (pictures as refs to their files, so memory can let them go); raises CacheWriteError, having
        removed what it began, when the entry cannot be written."""
        final = self._dir(key)
        tmp = self.root / "tmp" / uuid.uuid4().hex
        try:
            tmp.mkdir(parents=True)
            counter = iter(range(1 << 30))
            encoded = {k: _encode(v, tmp, counter) for k, v in outputs.items()}
            entry = {"key": key, "created": time.time(), "digests": digests, "meta": meta, "outputs": encoded}
            (tmp / "entry.json").write_text(json.dumps(entry, sort_keys=True, default=str))
            final.parent.mkdir(parents=True, exist_ok=True)
            old = None
            if os.path.lexists(final):  # replaced by a rename, so the entry is missing for an instant at most
                old = self.root / "tmp" / uuid.uuid4().hex
                os.replace(final, old)
            os.replace(tmp, final)
            if old is not None and old.is_dir() and not old.is_symlink():
                shutil.rmtree(old, ignore_errors=True)
            elif old is not None:  # a file or a link where an entry's folder belongs (a damaged cache)
                old.unlink()
            return {k: _decode(v, final, digests.get(k, ""), None) for k, v in encoded.items()}
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise CacheWriteError(f"the cache could not be written ({exc.strerror or type(exc).__name__})") \
                from None


def _encode(value: Any, folder: Path, counter) -> Any:
    if isinstance(value, ImageRef) and value.plain:  # a picture already in a file as it is: linked, not encoded
        name = f"{next(counter)}.png"
        try:
            os.link(value.path, folder / name)
        except OSError:
            shutil.copyfile(value.path, folder / name)
        return {"image": name, "size": list(value.size), "mode": value.mode}
    if isinstance(value, (Image.Image, ImageRef)):
        image = value.load() if isinstance(value, ImageRef) else value
        name = f"{next(counter)}.png"
        image.save(folder / name, format="PNG", compress_level=1)
        return {"image": name, "size": list(image.size), "mode": image.mode}
    if isinstance(value, list):
        return {"list": [_encode(v, folder, counter) for v in value]}
    return {"value": value}


def _decode(data: dict, folder: Path, digest: Any, max_pixels: int | None) -> Any:
    if "image" in data:
        name = data["image"]
        if not isinstance(name, str) or Path(name).name != name:
            raise ValueError(f"image name {name!r} is not a file of the entry")
        path = folder / name
        with Image.open(path, formats=["PNG"]) as image:  # the header only: the real size, not the one claimed
            size, mode = image.size, image.mode
        if max_pixels is not None and size[0] * size[1] > max_pixels:
            raise Image.DecompressionBombError(f"{size[0]}×{size[1]} pixels")
        return ImageRef(path, size, mode, digest if isinstance(digest, str) else "")
    if "list" in data:
        digests = digest if isinstance(digest, list) else [""] * len(data["list"])
        return [_decode(v, folder, d, max_pixels) for v, d in zip(data["list"], digests)]
    return data["value"]
