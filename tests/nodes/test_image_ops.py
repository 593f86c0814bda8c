"""Post-processing nodes, checked on pixels and sizes of images the tests draw."""
from __future__ import annotations

import re

import pytest
from PIL import Image, ImageChops

from flowbanana.node_api import NodeError


def same(a: Image.Image, b: Image.Image) -> bool:
    return a.mode == b.mode and a.size == b.size and ImageChops.difference(a, b).getbbox() is None


@pytest.mark.parametrize("params, size", [
    ({"mode": "size", "width": 32, "height": 0}, (32, 24)),
    ({"mode": "size", "width": 0, "height": 12}, (16, 12)),
    ({"mode": "size", "width": 10, "height": 30}, (10, 30)),
    ({"mode": "scale", "scale": 0.25}, (16, 12)),
    ({"mode": "scale", "scale": 2}, (128, 96)),
    ({"mode": "fit", "width": 100, "height": 30}, (40, 30)),
    ({"mode": "fill", "width": 30, "height": 30}, (30, 30)),
])
def test_resize_sizes(node, gradient, params, size):
    assert node("image.resize", image=gradient, **params).size == size


@pytest.mark.parametrize("params", [{"mode": "fit", "width": 100, "height": 100}, {"mode": "scale", "scale": 2},
                                    {"mode": "fill", "width": 70, "height": 20}, {"mode": "size", "width": 65}])
def test_resize_never_enlarges_when_told(node, gradient, params):
    kept = node("image.resize", image=gradient, enlarge=False, **params)
    assert kept.size == (64, 48) and same(kept, gradient)
    assert node("image.resize", image=gradient, enlarge=False, mode="fit", width=32, height=32).size == (32, 24)


def test_resize_fill_crops_from_the_centre(node, gradient):
    filled = node("image.resize", image=gradient, mode="fill", width=48, height=48, resample="nearest")
    # 64×48 to 48×48 drops 8 columns on each side: red starts at x=8 (8*4=32).
    assert filled.getpixel((0, 0))[0] == 32 and filled.getpixel((47, 0))[0] == 55 * 4


def test_resize_keeps_alpha(node, alpha):
    half = node("image.resize", image=alpha, mode="scale", scale=0.5, resample="nearest")
    assert half.mode == "RGBA" and half.getpixel((0, 0))[3] == 0 and half.getpixel((10, 10)) == (0, 200, 0, 255)


@pytest.mark.parametrize("params, message", [
    ({"mode": "size", "width": -5}, "width must not be negative, got -5"),
    ({"mode": "size", "width": 0, "height": 0}, "set width, height or both"),
    ({"mode": "fit", "width": 100, "height": 0}, "mode fit needs both width and height (got 100×0)"),
    ({"mode": "scale", "scale": 0}, "scale must be above 0"),
    ({"mode": "scale", "scale": 1000}, "would be 64000×48000 pixels, over the 16384-pixel limit"),
])
def test_resize_rejects_bad_params(node, gradient, params, message):
    with pytest.raises(NodeError, match=re.escape(message)):
        node("image.resize", image=gradient, **params)


@pytest.mark.parametrize("aspect, size", [("1:1", (48, 48)), ("4:5", (38, 48)), ("16:9", (64, 36)),
                                          ("9/16", (27, 48)), ("2", (64, 32))])
def test_crop_to_aspect_is_centred(node, gradient, aspect, size):
    cropped = node("image.crop", image=gradient, mode="aspect", aspect=aspect)
    assert cropped.size == size
    left, top = (64 - size[0]) // 2, (48 - size[1]) // 2
    assert cropped.getpixel((0, 0)) == gradient.getpixel((left, top))


def test_crop_box(node, shapes):
    square = node("image.crop", image=shapes, mode="box", x=10, y=10, width=20, height=20)
    assert square.size == (20, 20) and square.getcolors() == [(400, (255, 0, 0))]
    rest = node("image.crop", image=shapes, mode="box", x=70, y=50)
    assert rest.size == (10, 10)


@pytest.mark.parametrize("box, message", [
    ({"x": 70, "y": 0, "width": 20, "height": 10}, "the crop box x=70, y=0, 20×10 reaches outside the 80×60 image"),
    ({"x": 80, "y": 0}, "x=80, y=0, 0×60 reaches outside the 80×60 image"),
    ({"x": -1}, "x must not be negative"),
])
def test_crop_box_outside_names_box_and_size(node, shapes, box, message):
    with pytest.raises(NodeError, match=re.escape(message)):
        node("image.crop", image=shapes, mode="box", **box)


@pytest.mark.parametrize("aspect", ["square", "0:1", "1:0", ""])
def test_crop_bad_aspect(node, shapes, aspect):
    with pytest.raises(NodeError, match="is not an aspect ratio"):
        node("image.crop", image=shapes, aspect=aspect)


def test_rotate_quarter_turns_are_exact(node, shapes):
    turned = node("image.rotate", image=shapes, angle=90)
    assert turned.size == (60, 80) and turned.mode == "RGB"
    assert same(turned, shapes.transpose(Image.Transpose.ROTATE_90))
    assert same(node("image.rotate", image=shapes, angle=-270), turned)
    assert same(node("image.rotate", image=shapes, angle=360), shapes)


def test_rotate_free_angle_fills_corners(node, shapes):
    turned = node("image.rotate", image=shapes, angle=45)
    assert turned.mode == "RGBA" and turned.width > 80 and turned.getpixel((0, 0))[3] == 0
    cx, cy = turned.width // 2, turned.height // 2
    assert turned.getpixel((cx, cy))[3] == 255
    filled = node("image.rotate", image=shapes, angle=30, expand=False, fill="#ff00ff")
    assert filled.mode == "RGB" and filled.size == (80, 60) and filled.getpixel((0, 0)) == (255, 0, 255)


@pytest.mark.parametrize("direction, corner", [("horizontal", (63, 0)), ("vertical", (0, 47)), ("both", (63, 47))])
def test_flip(node, gradient, direction, corner):
    flipped = node("image.flip", image=gradient, direction=direction)
    assert flipped.getpixel((0, 0)) == gradient.getpixel(corner)


def test_adjust_each_factor(node, gradient, alpha):
    assert same(node("image.adjust", image=gradient), gradient)
    dark = node("image.adjust", image=gradient, brightness=0)
    assert dark.getextrema() == ((0, 0), (0, 0), (0, 0))
    grey = node("image.adjust", image=gradient, saturation=0)
    r, g, b = grey.getpixel((40, 10))
    assert abs(r - g) <= 1 and abs(g - b) <= 1
    flat = node("image.adjust", image=gradient, contrast=0)
    assert len(flat.getcolors()) == 1
    bright = node("image.adjust", image=alpha, brightness=0.5)
    assert bright.getpixel((15, 15)) == (0, 100, 0, 255) and bright.getpixel((0, 0))[3] == 0


def test_adjust_rejects_negative(node, gradient):
    with pytest.raises(NodeError, match="contrast must not be negative"):
        node("image.adjust", image=gradient, contrast=-1)


def test_blur_softens_edges_and_keeps_colour_under_alpha(node, shapes, alpha):
    blurred = node("image.blur", image=shapes, radius=3)
    assert blurred.size == shapes.size
    edge = blurred.getpixel((10, 20))
    assert 0 < edge[0] < 255 and 0 < edge[2] < 255
    assert same(node("image.blur", image=shapes, radius=0), shapes)
    soft = node("image.blur", image=alpha, radius=3)
    r, g, b, a = soft.getpixel((9, 20))
    assert 0 < a < 255 and g > 190 and r < 10  # premultiplied: no dark fringe
    assert node("image.blur", image=shapes, radius=3, kind="box").getpixel((10, 20)) != shapes.getpixel((10, 20))


def test_sharpen_increases_edge_contrast(node, shapes):
    soft = node("image.blur", image=shapes, radius=2)
    sharp = node("image.sharpen", image=soft, amount=300)
    def spread(img):
        return img.getpixel((12, 20))[0] - img.getpixel((8, 20))[0]
    assert spread(sharp) > spread(soft)


def test_grayscale_keeps_alpha(node, shapes, alpha):
    grey = node("image.grayscale", image=shapes)
    assert grey.mode == "RGB" and grey.getpixel((15, 15)) == (76, 76, 76)  # red at 601 luma
    assert node("image.grayscale", image=alpha).getpixel((0, 0))[3] == 0


@pytest.mark.parametrize("aspect, size, offset", [("1:1", (64, 64), (0, 8)), ("9:16", (64, 114), (0, 33)),
                                                  ("2:1", (96, 48), (16, 0))])
def test_pad_letterboxes(node, gradient, aspect, size, offset):
    padded = node("image.pad", image=gradient, aspect=aspect, color="#102030")
    assert padded.size == size and padded.mode == "RGB"
    assert padded.getpixel((0, 0)) == (16, 32, 48) and padded.getpixel((size[0] - 1, size[1] - 1)) == (16, 32, 48)
    assert padded.getpixel(offset) == gradient.getpixel((0, 0))


def test_pad_border_and_transparent_colour(node, gradient):
    bordered = node("image.pad", image=gradient, mode="border", border=5, color="#ff000000")
    assert bordered.size == (74, 58) and bordered.mode == "RGBA"
    assert bordered.getpixel((0, 0))[3] == 0 and bordered.getpixel((5, 5)) == (*gradient.getpixel((0, 0)), 255)
    with pytest.raises(NodeError, match="border must not be negative"):
        node("image.pad", image=gradient, mode="border", border=-1)


def test_composite_at_a_position_through_alpha(node, shapes, alpha):
    out = node("image.composite", base=shapes, overlay=alpha, x=5, y=5)
    assert out.mode == "RGB" and out.size == (80, 60)
    assert out.getpixel((15, 15)) == (0, 200, 0)      # the overlay's opaque square
    assert out.getpixel((6, 6)) == (0, 0, 255)        # its transparent part shows the base
    corner = node("image.composite", base=shapes, overlay=alpha, position="bottom-right")
    assert corner.getpixel((79 - 15, 59 - 15)) == (0, 200, 0)


def test_composite_mask_and_opacity(node, shapes, gradient):
    mask = Image.new("L", gradient.size, 0)
    mask.paste(255, (0, 0, 32, 48))
    out = node("image.composite", base=shapes, overlay=gradient, mask=mask)
    assert out.getpixel((5, 5)) == gradient.getpixel((5, 5)) and out.getpixel((40, 5)) == shapes.getpixel((40, 5))
    half = node("image.composite", base=shapes, overlay=gradient, opacity=0.5)
    expected = tuple(round((a + b) / 2) for a, b in zip(gradient.getpixel((40, 5)), shapes.getpixel((40, 5))))
    assert all(abs(a - b) <= 1 for a, b in zip(half.getpixel((40, 5)), expected))


def test_composite_errors_name_sizes(node, shapes, gradient):
    with pytest.raises(NodeError, match=re.escape("the mask is 80×60 but the overlay is 64×48")):
        node("image.composite", base=shapes, overlay=gradient, mask=Image.new("L", (80, 60)))
    with pytest.raises(NodeError, match=re.escape("overlay at x=200, y=0 lies entirely outside the 80×60 base")):
        node("image.composite", base=shapes, overlay=gradient, x=200)


def test_text_draws_with_the_bundled_font(node, reports):
    base = Image.new("RGB", (200, 100), (0, 0, 0))
    drawn = node("image.text", image=base, text="Hello", size=30, color="#ff0000", position="top-left", margin=10)
    box = ImageChops.difference(drawn, base).getbbox()
    assert box is not None and box[0] >= 10 and box[1] >= 10 and box[2] < 120 and box[3] < 60
    assert drawn.getpixel((box[0] + 1, box[1] + 1))[1] == 0  # red, not white
    corner = node("image.text", image=base, text="Hello", position="bottom-right", margin=10)
    right, bottom = ImageChops.difference(corner, base).getbbox()[2:]
    assert 185 <= right <= 190 and 85 <= bottom <= 90
    assert not reports.warnings()


def test_text_opacity_and_size(node):
    base = Image.new("RGB", (300, 200), (0, 0, 0))
    faint = node("image.text", image=base, text="█", size=80, color="#ffffff", opacity=0.5, position="center")
    assert faint.getchannel("R").getextrema()[1] in (127, 128)
    small = ImageChops.difference(node("image.text", image=base, text="Hi", size=20), base).getbbox()
    big = ImageChops.difference(node("image.text", image=base, text="Hi", size=60), base).getbbox()
    assert big[2] - big[0] > 2 * (small[2] - small[0])


def test_text_warns_when_cut_off_and_keeps_alpha(node, alpha, reports):
    out = node("image.text", image=alpha, text="far too long a caption", size=40)
    assert out.mode == "RGBA" and out.size == alpha.size
    assert "does not fit in the 40×40 image" in reports.warnings()[0]
    assert same(node("image.text", image=alpha, text="  "), alpha)


def test_grid_layout_and_labels(node):
    tiles = [Image.new("RGB", (20, 10), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    sheet = node("image.grid", images=tiles, columns=2, spacing=4, cell_width=0)
    assert sheet.size == (2 * 24 + 4, 2 * 14 + 4)
    assert [sheet.getpixel(p) for p in ((4, 4), (28, 4), (4, 18), (28, 18), (0, 0))] == [
        (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (255, 255, 255)]
    labelled = node("image.grid", images=tiles, labels=["a", "b", "c"], columns=3, spacing=4, cell_width=0)
    assert labelled.height > 18 and labelled.width == 3 * 24 + 4
    below = labelled.crop((4, 14, 24, labelled.height - 4))
    assert below.getchannel("R").getextrema()[0] < 100  # a dark caption under the first tile


def test_grid_fits_mixed_sizes_into_cells(node, gradient, shapes, alpha):
    sheet = node("image.grid", images=[gradient, shapes, alpha], columns=3, spacing=0, cell_width=40,
                 background="#000000")
    assert sheet.size == (120, 40)  # cell height: the tallest image scaled to 40 wide (alpha: 40×40)
    assert sheet.getpixel((90, 5)) == (0, 0, 0)  # alpha's transparent corner shows the background


@pytest.mark.parametrize("values, message", [({"images": []}, "no images to arrange"),
                                             ({"labels": ["x"]}, "1 labels for 2 images")])
def test_grid_errors(node, gradient, values, message):
    with pytest.raises(NodeError, match=re.escape(message)):
        node("image.grid", **{"images": [gradient, gradient], **values})


def test_convert_modes(node, alpha, gradient):
    flat = node("image.convert", image=alpha, mode="RGB", background="#0000ff")
    assert flat.mode == "RGB" and flat.getpixel((0, 0)) == (0, 0, 255) and flat.getpixel((15, 15)) == (0, 200, 0)
    assert node("image.convert", image=gradient, mode="RGBA").getpixel((0, 0)) == (0, 0, 128, 255)
    grey = node("image.convert", image=gradient, mode="L")
    assert grey.mode == "L" and grey.size == gradient.size
    poster = node("image.convert", image=gradient, mode="RGB", colors=4)
    assert poster.mode == "RGB" and len(poster.getcolors()) <= 4
    assert len(node("image.convert", image=grey, mode="L", colors=3).getcolors()) <= 3
    with pytest.raises(NodeError, match="colors must be 0 .all. or 2 to 256, got 1"):
        node("image.convert", image=gradient, colors=1)


@pytest.mark.parametrize("type_id", ["image.resize", "image.crop", "image.rotate", "image.flip", "image.adjust",
                                     "image.blur", "image.sharpen", "image.grayscale", "image.pad", "image.text",
                                     "image.convert"])
def test_a_mask_linked_as_an_image_is_accepted(node, type_id):
    mask = Image.new("L", (30, 20), 0)
    result = node(type_id, image=mask)
    assert result.mode in ("RGB", "RGBA", "L") and result.width > 0
