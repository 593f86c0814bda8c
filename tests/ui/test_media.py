"""Result images for the page: URLs only, names checked, and a bounded folder."""
from __future__ import annotations

from PIL import Image

from flowbanana.ui.media import MediaStore


def name(url: str) -> str:
    return url.split("/")[-1].split("?")[0]


def test_images_are_served_by_name_and_only_names_it_made(tmp_path):
    store = MediaStore(tmp_path)
    urls = store.add(Image.new("RGBA", (900, 600), (10, 200, 30, 128)), "run1")
    assert urls["full"].endswith("?v=run1") and (urls["width"], urls["height"]) == (900, 600)
    assert store.path(name(urls["full"])).read_bytes()[:4] == b"\x89PNG"
    thumb = Image.open(store.path(name(urls["thumb"])))
    assert thumb.format == "JPEG" and max(thumb.size) <= 448
    assert store.path("../secret.png") is None and store.path("x" * 32 + ".png") is None


def test_the_oldest_images_go_first_past_the_limit(tmp_path):
    store = MediaStore(tmp_path, max_bytes=1)  # every new image pushes out what came before
    first = store.add(Image.new("RGB", (64, 64), "red"), "a")
    second = store.add(Image.new("RGB", (64, 64), "blue"), "b")
    assert store.path(name(first["full"])) is None and store.path(name(second["full"])) is not None
