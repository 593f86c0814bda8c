"""Lazy images: pictures kept in a file (a cache entry, an input folder) and read only when a node needs pixels.

A run passes an `ImageRef` along, counts it, describes it and keys the cache on it without decoding it:
it knows its size and mode, and its digest says what made it (the cache key of the node that produced
it, or the file it was read from), so equal digests mean equal pictures. A node function never sees one:
the executor hands it `open()`, a PIL image that decodes on first use, so a node that does not touch the
pixels (image.save finding the file already written) costs no decoding at all.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PIL import Image


class ImageRef:
    __slots__ = ("path", "size", "mode", "digest", "_opener")

    def __init__(self, path: Path, size: tuple[int, int], mode: str, digest: str = "",
                 opener: Callable[[Path], Image.Image] | None = None):
        self.path = Path(path)
        self.size = tuple(size)
        self.mode = mode
        self.digest = digest
        self._opener = opener

    @property
    def width(self) -> int:
        return self.size[0]

    @property
    def height(self) -> int:
        return self.size[1]

    @property
    def plain(self) -> bool:
        """Whether the file holds the picture as it is (a cache entry's PNG), so it may be linked or copied."""
        return self._opener is None

    def open(self) -> Image.Image:
        """The picture, decoded when first used (a PIL image file); close it if it may go unused."""
        return self._opener(self.path) if self._opener else Image.open(self.path)

    def load(self) -> Image.Image:
        """The picture, decoded now, its file closed."""
        image = self.open()
        image.load()
        return image

    def __repr__(self) -> str:
        return f"<ImageRef {self.width}×{self.height} {self.mode} {self.path.name}>"


def is_image(value: Any) -> bool:
    return isinstance(value, (Image.Image, ImageRef))


def loaded(value: Any) -> Any:
    """`value` with every ImageRef (also inside a list) decoded: what Python callers of a run expect."""
    if isinstance(value, ImageRef):
        return value.load()
    if isinstance(value, list):
        return [loaded(v) for v in value]
    return value


class Opened:
    """The images a node call was handed from ImageRefs; closes those it left unread."""

    def __init__(self):
        self.refs: dict[int, tuple[ImageRef, Image.Image]] = {}

    def open(self, value: Any, whole: bool = False) -> Any:
        """`value` for a node function: refs opened (lazily, or decoded when `whole`: a list port may hold
        thousands, and a lazily opened file keeps its handle until it is read)."""
        if isinstance(value, ImageRef):
            image = value.load() if whole else value.open()
            self.refs[id(image)] = (value, image)
            return image
        if isinstance(value, list):
            return [self.open(v, whole) for v in value]
        return value

    def ref_of(self, value: Any) -> ImageRef | None:
        """The ref of an image the node returned as it was handed it, pixels unread (so surely unchanged)."""
        found = self.refs.get(id(value))
        return found[0] if found and found[1] is value and getattr(value, "fp", None) is not None else None

    def close(self) -> None:
        for _, image in self.refs.values():
            if getattr(image, "fp", None) is not None:  # opened, never read: let the file go
                image.close()
        self.refs.clear()
