"""mask.paint: the editor's painted PNG becomes a mask of the image's size; gaps and mismatches warn, never crash."""
from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from flowbanana.node_api import NodeError


def painted(wf_dir, size=(64, 48), box=(8, 8, 23, 19), mode="L", name="masks/paint.png") -> str:
    """A mask file as the editor writes it: white box on black, inside the workflow's folder."""
    image = Image.new(mode, size, 0)
    ImageDraw.Draw(image).rectangle(box, fill=255 if mode == "L" else (255, 255, 255, 255))
    (wf_dir / name).parent.mkdir(parents=True, exist_ok=True)
    image.save(wf_dir / name)
    return name


def test_reads_the_painted_png_at_the_image_size(node, wf_dir, gradient, reports):
    mask = node("mask.paint", image=gradient, mask=painted(wf_dir))
    assert mask.mode == "L" and mask.size == gradient.size
    assert mask.getbbox() == (8, 8, 24, 20) and mask.getpixel((10, 10)) == 255 and mask.getpixel((40, 40)) == 0
    assert reports.warnings() == []


def test_transparent_paint_counts_only_where_opaque(node, wf_dir, gradient):
    """A mask saved with alpha (another program's export): transparent white is not 'change'."""
    image = Image.new("RGBA", gradient.size, (255, 255, 255, 0))
    ImageDraw.Draw(image).rectangle((0, 0, 9, 9), fill=(255, 255, 255, 255))
    image.save(wf_dir / "alpha.png")
    mask = node("mask.paint", image=gradient, mask="alpha.png")
    assert mask.getbbox() == (0, 0, 10, 10)


@pytest.mark.parametrize("value, prepare, says", [
    ("", None, "no mask is painted yet"),
    ("black.png", lambda d: Image.new("L", (64, 48)).save(d / "black.png"), "'black.png' is all black"),
])
def test_no_paint_is_an_all_black_mask_with_a_warning(node, wf_dir, gradient, reports, value, prepare, says):
    if prepare:
        prepare(wf_dir)
    mask = node("mask.paint", image=gradient, mask=value)
    assert mask.size == gradient.size and mask.getbbox() is None
    (warning,) = reports.warnings()
    assert says in warning


@pytest.mark.parametrize("value, prepare, says", [
    ("masks/gone.png", None, "the mask file 'masks/gone.png' is missing"),
    ("empty.png", lambda d: (d / "empty.png").write_bytes(b""), "the mask file 'empty.png' is empty"),
])
def test_a_painted_mask_whose_file_is_lost_is_an_error(node, wf_dir, gradient, value, prepare, says):
    if prepare:
        prepare(wf_dir)
    with pytest.raises(NodeError, match=says) as failure:
        node("mask.paint", image=gradient, mask=value)
    assert "Paint the mask again" in failure.value.hint


def test_a_mask_of_another_size_is_stretched_with_both_sizes_named(node, wf_dir, gradient, reports):
    mask = node("mask.paint", image=gradient, mask=painted(wf_dir, size=(32, 24), box=(0, 0, 15, 11)))
    assert mask.size == (64, 48)
    assert mask.getpixel((10, 10)) == 255 and mask.getpixel((50, 40)) == 0
    (warning,) = reports.warnings()
    assert "32×24 but the image 64×48" in warning and "stretched" in warning


def test_a_path_outside_the_workflow_folder_is_refused(node, gradient, tmp_path):
    Image.new("L", (4, 4), 255).save(tmp_path / "outside.png")
    with pytest.raises(NodeError, match="outside the folders this run may read"):
        node("mask.paint", image=gradient, mask=str(tmp_path / "outside.png"))


def test_not_an_image_is_a_clear_error(node, gradient, wf_dir):
    (wf_dir / "notes.png").write_text("not a picture")
    with pytest.raises(NodeError, match="'notes.png' is not an image flowbanana can read"):
        node("mask.paint", image=gradient, mask="notes.png")


def test_repainting_the_file_invalidates_the_cache(run, wf_dir, gradient):
    gradient.save(wf_dir / "photo.png")
    name = painted(wf_dir)
    nodes = {"load": {"type": "image.load", "params": {"path": "photo.png"}},
             "paint": {"type": "mask.paint", "params": {"mask": name}, "inputs": {"image": "load.image"}},
             "show": {"type": "image.preview", "inputs": {"image": "paint.mask"}}}
    first, _ = run(nodes)
    assert first.ok and first.output("paint").getbbox() == (8, 8, 24, 20)
    again, _ = run(nodes)
    assert again.nodes["paint"].status == "cached"
    painted(wf_dir, box=(30, 30, 39, 39))
    repainted, _ = run(nodes)
    assert repainted.nodes["paint"].status == "done" and repainted.output("paint").getbbox() == (30, 30, 40, 40)
