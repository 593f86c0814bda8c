"""Mask nodes: shapes, masks from images and files, invert, grow, shrink and feather, checked on pixels."""
from __future__ import annotations

import re

import pytest
from PIL import Image

from flowbanana.node_api import NodeError


def white_box(mask: Image.Image) -> tuple[int, int, int, int] | None:
    return mask.point(lambda v: 255 if v >= 128 else 0).getbbox()


def test_shape_rectangle_in_pixels(node, shapes):
    mask = node("mask.shape", image=shapes, units="pixels", x=10, y=5, width=20, height=30)
    assert mask.mode == "L" and mask.size == (80, 60)
    assert mask.getbbox() == (10, 5, 30, 35) and mask.getcolors() == [(80 * 60 - 600, 0), (600, 255)]


def test_shape_ellipse_in_percent_scales_with_the_image(node, gradient):
    mask = node("mask.shape", image=gradient, shape="ellipse")  # the centred half
    assert mask.getbbox() == (16, 12, 48, 36)
    assert mask.getpixel((32, 24)) == 255 and mask.getpixel((17, 13)) == 0  # the corner of the box is outside
    big = node("mask.shape", image=gradient.resize((128, 96)), shape="ellipse")
    assert big.getbbox() == (32, 24, 96, 72)


@pytest.mark.parametrize("params, message", [
    ({"width": 0}, "width and height must make it at least 1 pixel"),
    ({"units": "pixels", "x": 500, "y": 0, "width": 10, "height": 10},
     "the rectangle at x=500, y=0, 10×10 px lies entirely outside the 64×48 image"),
])
def test_shape_errors(node, gradient, params, message):
    with pytest.raises(NodeError, match=re.escape(message)):
        node("mask.shape", image=gradient, **params)


def test_from_image_alpha_and_luminance(node, alpha, shapes):
    from_alpha = node("mask.from_image", image=alpha)
    assert from_alpha.mode == "L" and from_alpha.getbbox() == (10, 10, 30, 30)
    bright = node("mask.from_image", image=shapes, source="luminance", threshold=200)
    assert bright.getcolors()[-1][1] == 255 and bright.getpixel((55, 35)) == 255 and bright.getpixel((15, 15)) == 0
    soft = node("mask.from_image", image=shapes, source="luminance")
    assert soft.getpixel((15, 15)) == 76  # red's luminance, kept grey


def test_from_image_without_alpha_says_so(node, shapes):
    with pytest.raises(NodeError, match=r"has no transparency \(mode RGB\)"):
        node("mask.from_image", image=shapes)


def test_invert(node, alpha):
    inverted = node("mask.invert", mask=node("mask.from_image", image=alpha))
    assert inverted.getpixel((0, 0)) == 255 and inverted.getpixel((15, 15)) == 0


@pytest.mark.parametrize("pixels, box", [(0, (10, 10, 30, 30)), (3, (7, 7, 33, 33)), (-4, (14, 14, 26, 26)),
                                         (-10, None)])
def test_grow_and_shrink(node, alpha, pixels, box):
    mask = node("mask.from_image", image=alpha)
    assert node("mask.grow", mask=mask, pixels=pixels).getbbox() == box


def test_grow_refuses_huge_values(node, alpha):
    with pytest.raises(NodeError, match="pixels must be between -256 and 256, got 1000"):
        node("mask.grow", mask=Image.new("L", (4, 4)), pixels=1000)


def test_feather_softens_only_the_edge(node, alpha):
    mask = node("mask.from_image", image=alpha)
    soft = node("mask.feather", mask=mask, radius=3)
    assert soft.getpixel((20, 20)) == 255 and soft.getpixel((0, 0)) == 0
    assert 0 < soft.getpixel((10, 20)) < 255
    assert white_box(soft) == (10, 10, 30, 30)


def test_load_mask_from_file(node, wf_dir, alpha):
    alpha.save(wf_dir / "cutout.png")
    node_mask = node("mask.load", path="cutout.png", source="alpha")
    assert node_mask.mode == "L" and node_mask.getbbox() == (10, 10, 30, 30)
    Image.new("RGB", (8, 8), (200, 200, 200)).save(wf_dir / "grey.jpg", quality=100)
    assert node("mask.load", path="grey.jpg", threshold=128).getextrema() == (255, 255)


def test_load_mask_errors_name_the_path(node, wf_dir):
    with pytest.raises(NodeError, match="no file at 'nothing.png'"):
        node("mask.load", path="nothing.png")
    Image.new("RGB", (4, 4)).save(wf_dir / "flat.png")
    with pytest.raises(NodeError, match="'flat.png' has no transparency"):
        node("mask.load", path="flat.png", source="alpha")
