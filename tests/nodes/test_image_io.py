"""image.load, image.load_folder, image.save and image.preview on files the tests write."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from PIL import Image

from flowbanana.node_api import NodeError


def test_load_png_gives_image_and_size(node, wf_dir, gradient):
    gradient.save(wf_dir / "g.png")
    out = node("image.load", path="g.png")
    assert (out["width"], out["height"]) == (64, 48)
    assert out["image"].mode == "RGB"
    assert out["image"].tobytes() == gradient.tobytes()


def test_load_applies_exif_orientation(node, wf_dir, shapes):
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: a viewer turns it 90° clockwise
    shapes.save(wf_dir / "turned.jpg", exif=exif, quality=95)
    image = node("image.load", path="turned.jpg")["image"]
    assert image.size == (60, 80)
    r, g, b = image.getpixel((60 - 20, 20))  # the red square, now at the top right
    assert r > 200 and g < 60 and b < 60


def test_load_gif_gives_first_frame(node, wf_dir):
    frames = [Image.new("RGB", (10, 10), color) for color in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(wf_dir / "anim.gif", save_all=True, append_images=frames[1:])
    image = node("image.load", path="anim.gif")["image"]
    assert image.mode == "RGB" and image.getpixel((5, 5)) == (255, 0, 0)


@pytest.mark.parametrize("mode, expected", [("P", "RGBA"), ("LA", "RGBA"), ("L", "RGB"), ("CMYK", "RGB"),
                                            ("I;16", "RGB"), ("1", "RGB")])
def test_load_normalises_modes(node, wf_dir, mode, expected):
    path = wf_dir / ("x.tif" if mode == "CMYK" else "x.png")
    source = Image.new("RGBA", (8, 8), (255, 0, 0, 0))
    source.paste((255, 0, 0, 255), (0, 0, 4, 8))
    if mode == "P":
        source.quantize(4).save(path)
    elif mode == "I;16":
        Image.new("I;16", (8, 8), 65535).save(path)
    else:
        source.convert(mode).save(path)
    image = node("image.load", path=path.name)["image"]
    assert image.mode == expected
    if expected == "RGBA":
        assert image.getpixel((1, 1))[3] == 255 and image.getpixel((6, 1))[3] == 0
    if mode == "I;16":
        assert image.getpixel((0, 0)) == (255, 255, 255)  # 65535 is white in 16 bits: scaled by depth, not stretched


@pytest.mark.parametrize("value, grey", [(65535, 255), (0, 0), (32896, 128), (1000, 3)])
@pytest.mark.parametrize("node_type", ["image.load", "mask.load"])
def test_16_bit_greys_are_scaled_by_their_depth(node, wf_dir, node_type, value, grey):
    """A uniform 16-bit picture keeps its brightness: a white I;16 mask is white (it once loaded black), and a
    dark one stays dark instead of being stretched to white."""
    Image.new("I;16", (8, 8), value).save(wf_dir / "deep.png")
    loaded = node(node_type, path="deep.png", **({"source": "luminance"} if node_type == "mask.load" else {}))
    image = loaded["image"] if node_type == "image.load" else loaded
    assert image.convert("L").getextrema() == (grey, grey)


@pytest.mark.parametrize("content, message", [
    (None, "no file at 'missing.png'"),
    (b"hello, not an image", "'bad.png' is not an image"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "'bad.png'"),
])
def test_load_failures_name_the_path(node, wf_dir, content, message):
    name = "missing.png" if content is None else "bad.png"
    if content is not None:
        (wf_dir / name).write_bytes(content)
    with pytest.raises(NodeError) as err:
        node("image.load", path=name)
    assert message in err.value.message and err.value.hint


def test_load_refuses_folders_and_outside_paths(node, wf_dir, tmp_path, gradient):
    (wf_dir / "sub").mkdir()
    with pytest.raises(NodeError, match="is a folder"):
        node("image.load", path="sub")
    gradient.save(tmp_path / "outside.png")
    with pytest.raises(NodeError, match="outside the folders this run may read"):
        node("image.load", path="../outside.png")


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_load_refuses_decompression_bombs(node, wf_dir, monkeypatch):
    Image.new("RGB", (100, 100)).save(wf_dir / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 5000)
    with pytest.raises(NodeError) as err:
        node("image.load", path="big.png")
    assert "too large to open safely (100×100" in err.value.message and "5,000 pixels" in err.value.message


def test_a_bomb_past_pillows_own_limit_says_how_many_pixels_once(node, wf_dir):
    Image.new("1", (20_000, 20_000)).save(wf_dir / "bomb.png")  # 400 megapixels: Pillow refuses it in open()
    with pytest.raises(NodeError) as err:
        node("image.load", path="bomb.png")
    assert err.value.message == ("'bomb.png' is too large to open safely (400,000,000 pixels; the limit is "
                                 f"{Image.MAX_IMAGE_PIXELS:,} pixels).")


def test_load_folder_sorts_naturally_and_skips_other_files(node, wf_dir):
    folder = wf_dir / "shots"
    folder.mkdir()
    for n in (10, 2, 1):
        Image.new("RGB", (n, 5), (n * 20, 0, 0)).save(folder / f"img{n}.png")
    (folder / "notes.txt").write_text("not an image")
    out = node("image.load_folder", folder="shots")
    assert out["names"] == ["img1", "img2", "img10"]
    assert [i.width for i in out["images"]] == [1, 2, 10]


def test_load_folder_pattern_and_limit(node, wf_dir, reports):
    folder = wf_dir / "shots"
    (folder / "deep").mkdir(parents=True)
    for name in ("a.png", "b.jpg", "c.png", "deep/d.png"):
        Image.new("RGB", (4, 4)).save(folder / name)
    assert node("image.load_folder", folder="shots", pattern="*.png")["names"] == ["a", "c"]
    assert node("image.load_folder", folder="shots", pattern="**/*.png")["names"] == ["a", "c", "d"]
    assert node("image.load_folder", folder="shots", limit=2)["names"] == ["a", "b"]
    assert reports.warnings() == ["3 images match; read the first 2, left out 1 (raise limit, or set it to 0 to "
                                  "read every image)."]


def test_load_folder_refuses_a_link_pointing_outside(node, wf_dir, tmp_path):
    Image.new("RGB", (4, 4)).save(tmp_path / "secret.png")
    (wf_dir / "shots").mkdir()
    (wf_dir / "shots" / "innocent.png").symlink_to(tmp_path / "secret.png")
    with pytest.raises(NodeError, match="outside the folders this run may read"):
        node("image.load_folder", folder="shots")


@pytest.mark.parametrize("folder, pattern, message", [
    ("shots", "*.webp", "no image in 'shots' matches '*.webp'"),
    ("nowhere", "*", "no folder at 'nowhere'"),
    ("shots", "../*", "must name files inside the folder"),
    ("shots", "/etc/*", "must name files inside the folder"),
])
def test_load_folder_errors(node, wf_dir, folder, pattern, message):
    (wf_dir / "shots").mkdir()
    Image.new("RGB", (4, 4)).save(wf_dir / "shots" / "a.png")
    with pytest.raises(NodeError, match=re.escape(message)):
        node("image.load_folder", folder=folder, pattern=pattern)


@pytest.mark.parametrize("filename, fmt, expected_format, suffix", [
    ("pic.png", "auto", "PNG", ".png"), ("pic.jpg", "auto", "JPEG", ".jpg"), ("pic.webp", "auto", "WEBP", ".webp"),
    ("pic", "jpeg", "JPEG", ".jpg"), ("pic", "auto", "PNG", ".png"),
])
def test_save_formats(node, out_dir, gradient, filename, fmt, expected_format, suffix):
    path = node("image.save", image=gradient, filename=filename, format=fmt)
    assert path == str(out_dir / f"pic{suffix}")
    with Image.open(path) as saved:
        assert saved.format == expected_format and saved.size == (64, 48)


def test_save_png_keeps_pixels_and_alpha(node, alpha):
    with Image.open(node("image.save", image=alpha, filename="a.png")) as saved:
        assert saved.mode == "RGBA" and saved.tobytes() == alpha.tobytes()


def test_save_jpeg_flattens_alpha_onto_white(node, alpha):
    with Image.open(node("image.save", image=alpha, filename="a.jpg", quality=100)) as saved:
        assert saved.mode == "RGB"
        corner, centre = saved.getpixel((1, 1)), saved.getpixel((20, 20))
    assert min(corner) > 245 and centre[1] > 180 and centre[0] < 40


def test_save_quality_changes_jpeg_size(node, shapes):
    low = node("image.save", image=shapes.resize((400, 300)), filename="low.jpg", quality=5)
    high = node("image.save", image=shapes.resize((400, 300)), filename="high.jpg", quality=100)
    assert Image.open(low).size == Image.open(high).size
    assert os.path.getsize(low) < os.path.getsize(high)


def test_save_fills_pattern_fields(node, out_dir, gradient):
    path = node("image.save", image=gradient, name="Red shoe / v2", filename="{date}/{node}-{name}-{index:03d}.png",
                item=(4, 9))
    relative = Path(path).relative_to(out_dir).as_posix()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d/n-Red_shoe_v2-005\.png", relative), relative


def test_save_never_overwrites_unless_told(node, out_dir, gradient, shapes):
    first = node("image.save", image=gradient, filename="x.png")
    second = node("image.save", image=shapes, filename="x.png")
    third = node("image.save", image=shapes, filename="x.png")
    assert [p.rsplit("/", 1)[1] for p in (first, second, third)] == ["x.png", "x_1.png", "x_2.png"]
    assert Image.open(first).size == (64, 48)
    replaced = node("image.save", image=shapes, filename="x.png", overwrite=True)
    assert replaced == first and Image.open(first).size == (80, 60)


@pytest.mark.parametrize("filename, message", [
    ("../escape.png", "would be written outside the output folder"),
    ("/tmp/abs.png", "would be written outside the output folder"),
    ("{name}_{colour}.png", "unknown field(s) {colour}"),
    ("{name.png", "malformed"),
    ("pic.jpg", "ends in .jpg but format is png"),
    ("{index:300000000}.png", "asks for a width of 300,000,000; the most is 64"),
    ("{index:.300000000f}.png", "asks for a precision of 300,000,000"),
    ("{index:{name}}.png", "contains another field"),
    ("{name.__class__}.png", "is not a plain field name"),
    ("{name!r:>64}" * 20, "would be over 1,024 characters"),
])
def test_save_refuses_bad_filenames(node, tmp_path, out_dir, gradient, filename, message):
    with pytest.raises(NodeError, match=re.escape(message)):
        node("image.save", image=gradient, filename=filename, format="png" if "jpg" in filename else "auto")
    assert not (tmp_path / "escape.png").exists()
    assert not out_dir.exists() or not any(out_dir.rglob("*.*"))


def test_save_name_cannot_escape(node, out_dir, gradient):
    path = node("image.save", image=gradient, name="../../etc/passwd", filename="{name}.png")
    assert Path(path).parent == out_dir


def test_preview_passes_the_image_through(node, alpha):
    assert node("image.preview", image=alpha) is alpha
