"""The editor's mask and sharing logic without a browser: where painted masks are kept, what is refused, how
they travel on save, which node holds a mask, and opening images and bundles (also for `flowbanana ui FILE`)."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from flowbanana import provenance
from flowbanana.bundle import export_bundle
from flowbanana.errors import WorkflowInvalid
from flowbanana.ui.library import first_workflow
from flowbanana.ui.mask_editor import MAX_MASK_BYTES, MaskRefused, carry_masks, mask_param, readable, store_mask
from flowbanana.ui.media import MediaStore
from flowbanana.ui.runner import EditorConfig
from flowbanana.ui.sharing import read_shared

NODES = {
    "photo": {"type": "image.load", "params": {"path": "photo.png"}},
    "paint": {"type": "mask.paint", "params": {"mask": ""}, "inputs": {"image": "photo.image"}},
    "shape": {"type": "mask.shape", "inputs": {"image": "photo.image"}},
    "inpaint": {"type": "gemini.inpaint", "params": {"instruction": "a hat"},
                "inputs": {"image": "photo.image", "mask": "paint.mask"}},
    "boxed": {"type": "gemini.inpaint", "inputs": {"image": "photo.image", "mask": "shape.mask"}},
}


def png(size=(40, 30), box=(5, 5, 14, 9), mode="RGBA") -> bytes:
    """What the browser sends: an opaque picture, white where painted."""
    image = Image.new(mode, size, "black")
    ImageDraw.Draw(image).rectangle(box, fill="white")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def saved(make_workflow, tmp_path):
    """A workflow saved in a folder of its own."""
    workflow = make_workflow(NODES)
    workflow.source = tmp_path / "project" / "wf.json"
    workflow.source.parent.mkdir()
    return workflow


def test_a_saved_workflow_keeps_its_mask_beside_it_named_by_content(saved, tmp_path):
    value = store_mask(saved, tmp_path / "uploads", "paint", png())
    assert value.startswith("masks/paint-") and value.endswith(".png")
    kept = Image.open(saved.base_dir / value)
    assert kept.mode == "L" and kept.size == (40, 30) and kept.getbbox() == (5, 5, 15, 10)
    assert store_mask(saved, tmp_path / "uploads", "paint", png()) == value  # the same paint, the same file
    other = store_mask(saved, tmp_path / "uploads", "paint", png(box=(0, 0, 3, 3)))
    assert other != value and (saved.base_dir / value).exists()  # an older version (undo) keeps its file
    assert not (tmp_path / "uploads").exists()


def test_an_unsaved_workflow_keeps_its_mask_in_the_uploads_folder(make_workflow, tmp_path):
    value = store_mask(make_workflow(NODES), tmp_path / "uploads", "paint", png())
    path = Path(value)
    assert path.is_absolute() and path.parent == tmp_path / "uploads" / "masks" and path.is_file()


@pytest.mark.parametrize("data, says", [
    (b"not a picture", "not a readable PNG mask"),
    (png()[:60], "not a readable PNG mask"),  # cut short
    (Image.new("RGB", (4, 4)).tobytes(), "not a readable PNG mask"),
])
def test_anything_but_a_whole_png_is_refused(saved, tmp_path, data, says):
    with pytest.raises(MaskRefused, match=says):
        store_mask(saved, tmp_path / "uploads", "paint", data)
    assert not (saved.base_dir / "masks").exists() or not any((saved.base_dir / "masks").iterdir())


def test_a_jpeg_or_a_decompression_bomb_is_refused(saved, tmp_path):
    jpeg = io.BytesIO()
    Image.new("RGB", (8, 8)).save(jpeg, format="JPEG")
    with pytest.raises(MaskRefused):
        store_mask(saved, tmp_path, "paint", jpeg.getvalue())
    bomb = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(bomb, format="PNG")  # 100 Mpx in a few kB
    with pytest.raises(MaskRefused, match="DecompressionBomb"):
        store_mask(saved, tmp_path, "paint", bomb.getvalue())
    with pytest.raises(MaskRefused, match="at most"):
        store_mask(saved, tmp_path, "paint", b"\0" * (MAX_MASK_BYTES + 1))


def test_which_node_holds_the_mask(catalogue, saved):
    assert mask_param(catalogue, saved, "paint") == ("paint", "mask")
    assert mask_param(catalogue, saved, "inpaint") == ("paint", "mask")  # the inpaint node's mask source
    assert mask_param(catalogue, saved, "boxed") is None  # a shape mask is not painted
    assert mask_param(catalogue, saved, "photo") is None
    assert mask_param(catalogue, saved, "gone") is None


def test_saving_elsewhere_carries_the_masks_along(catalogue, saved, tmp_path):
    saved.nodes["paint"].params["mask"] = store_mask(saved, tmp_path / "uploads", "paint", png())
    assert not carry_masks(saved, catalogue, saved.base_dir)  # already beside the file: nothing to do
    elsewhere = tmp_path / "elsewhere"
    assert carry_masks(saved, catalogue, elsewhere)
    value = saved.nodes["paint"].params["mask"]
    assert value.startswith("masks/") and (elsewhere / value).read_bytes() == (saved.base_dir / value).read_bytes()


def test_an_unsaved_workflows_masks_move_beside_it_when_first_saved(catalogue, make_workflow, tmp_path):
    workflow = make_workflow(NODES)
    workflow.nodes["paint"].params["mask"] = store_mask(workflow, tmp_path / "uploads", "paint", png())
    assert carry_masks(workflow, catalogue, tmp_path / "project")
    assert (tmp_path / "project" / workflow.nodes["paint"].params["mask"]).is_file()


def test_only_files_the_runs_may_read_are_shown(saved, tmp_path):
    (saved.base_dir / "photo.png").write_bytes(png())
    (tmp_path / "secret.png").write_bytes(png())
    assert readable(saved, tmp_path / "uploads", "photo.png") == (saved.base_dir / "photo.png").resolve()
    assert readable(saved, tmp_path / "uploads", "../secret.png") is None
    assert readable(saved, tmp_path / "uploads", str(tmp_path / "secret.png")) is None
    assert readable(saved, tmp_path / "uploads", "") is None


@pytest.fixture
def config(catalogue, tmp_path) -> EditorConfig:
    return EditorConfig(catalogue=catalogue, workflows_dir=tmp_path / "workflows", out_root=tmp_path / "out",
                        cache_dir=tmp_path / "cache", media=MediaStore(tmp_path / "media"),
                        uploads_dir=tmp_path / "uploads")


@pytest.fixture
def bundle(catalogue, saved, tmp_path) -> Path:
    (saved.base_dir / "photo.png").write_bytes(png())
    saved.nodes["paint"].params["mask"] = store_mask(saved, tmp_path / "uploads", "paint", png())
    return export_bundle(saved, catalogue, tmp_path / "shared.zip")


def test_a_dropped_bundle_opens_unpacked_under_the_cache(config, bundle):
    workflow = read_shared(config, "shared.zip", bundle.read_bytes())
    assert workflow.source.parent.is_relative_to(config.cache_dir / "bundles")
    assert (workflow.base_dir / workflow.nodes["paint"].params["mask"]).is_file()
    assert not any((config.media.root / "incoming").iterdir())  # the sent file is not kept


def test_a_dropped_picture_opens_its_workflow_and_others_are_refused(config, tmp_path):
    picture = io.BytesIO()
    workflow = {"format": "flowbanana/workflow", "version": 2, "name": "In a picture", "nodes": NODES}
    Image.new("RGB", (8, 8)).save(picture, format="PNG", **provenance.save_options("PNG", workflow, {"node": "s"}))
    assert read_shared(config, "made.png", picture.getvalue()).name == "In a picture"
    with pytest.raises(WorkflowInvalid, match="holds no flowbanana workflow"):
        read_shared(config, "plain.png", png())
    with pytest.raises(WorkflowInvalid, match="not an image or a .zip bundle"):
        read_shared(config, "notes.txt", b"hello")
    with pytest.raises(WorkflowInvalid, match="not a zip file"):
        read_shared(config, "fake.zip", b"PK not really")


def test_flowbanana_ui_opens_a_bundle_or_a_picture_given_on_the_command_line(bundle, tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWBANANA_CACHE_DIR", str(tmp_path / "cache"))
    opened = first_workflow(tmp_path / "no-templates", bundle)
    assert opened.name == "test" and set(opened.nodes) == set(NODES)
    assert (opened.base_dir / opened.nodes["paint"].params["mask"]).is_file()
    picture = tmp_path / "made.png"
    Image.new("RGB", (8, 8)).save(picture, **provenance.save_options("PNG", json.loads(
        (opened.base_dir / "workflow.json").read_text()), {"node": "s"}))
    assert set(first_workflow(tmp_path / "no-templates", picture).nodes) == set(NODES)
