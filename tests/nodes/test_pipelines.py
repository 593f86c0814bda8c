"""The node packs through the real executor: list mapping, the cache, failure isolation, files written."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageChops

CATALOGUE_CSV = "product,colour\nred sneakers,#ff0000\nsteel watch,#00ff00\nwool scarf,#0000ff\n"


@pytest.fixture
def photo(wf_dir, gradient) -> str:
    gradient.resize((256, 192)).save(wf_dir / "photo.png")
    return "photo.png"


def batch_nodes(photo: str) -> dict:
    """A CSV column becomes prompts, each captioned onto the photo and saved under its product's name."""
    return {
        "csv": {"type": "list.from_csv", "params": {"path": "products.csv", "column": "product"}},
        "tpl": {"type": "text.template", "params": {"template": "{product} on marble"},
                "inputs": {"product": "csv.items"}},
        "load": {"type": "image.load", "params": {"path": photo}},
        "caption": {"type": "image.text", "params": {"size": 16, "position": "top-left"},
                    "inputs": {"image": "load.image", "text": "tpl.text"}},
        "save": {"type": "image.save", "params": {"filename": "{name}-{index}.png"},
                 "inputs": {"image": "caption.image", "name": "csv.items"}},
    }


def test_csv_to_template_to_save_maps_per_item(run, wf_dir, out_dir, photo):
    (wf_dir / "products.csv").write_text(CATALOGUE_CSV)
    result, events = run(batch_nodes(photo))
    assert result.ok, {k: v.error for k, v in result.nodes.items()}
    assert result.output("tpl") == ["red sneakers on marble", "steel watch on marble", "wool scarf on marble"]
    names = sorted(p.name for p in result.files)
    assert names == ["red_sneakers-1.png", "steel_watch-2.png", "wool_scarf-3.png"]
    assert sorted(out_dir.iterdir()) == sorted(result.files)
    captions = [Image.open(out_dir / n) for n in names]
    assert all(c.size == (256, 192) for c in captions)
    assert ImageChops.difference(captions[0], captions[1]).getbbox() is not None  # different words drawn
    progress = [e.data["message"] for e in events if e.kind == "node_progress" and e.node == "save"]
    assert progress[-1] == "3 of 3 items"


def test_second_run_is_cached_and_keeps_the_files_it_already_wrote(run, wf_dir, out_dir, photo):
    (wf_dir / "products.csv").write_text(CATALOGUE_CSV)
    first, _ = run(batch_nodes(photo))
    written = {p: p.stat().st_mtime_ns for p in first.files}
    result, _ = run(batch_nodes(photo))
    assert {n: r.status for n, r in result.nodes.items()} == {
        "csv": "cached", "tpl": "cached", "load": "cached", "caption": "cached", "save": "done"}
    assert sorted(result.files) == sorted(written) and sorted(out_dir.iterdir()) == sorted(written)
    assert {p: p.stat().st_mtime_ns for p in result.files} == written  # not even written again


def test_a_changed_picture_is_saved_beside_the_old_file_never_over_it(run, wf_dir, out_dir, photo):
    (wf_dir / "products.csv").write_text(CATALOGUE_CSV)
    run(batch_nodes(photo))
    nodes = batch_nodes(photo)
    nodes["caption"]["params"]["size"] = 20
    result, _ = run(nodes)
    assert sorted(p.name for p in result.files) == ["red_sneakers-1_1.png", "steel_watch-2_1.png",
                                                     "wool_scarf-3_1.png"]
    assert len(list(out_dir.iterdir())) == 6


def test_the_cache_keys_on_file_content(run, wf_dir, photo):
    nodes = {"load": {"type": "image.load", "params": {"path": photo}},
             "show": {"type": "image.preview", "inputs": {"image": "load.image"}}}
    first, _ = run(nodes)
    assert run(nodes)[0].nodes["load"].status == "cached"
    Image.new("RGB", (10, 10), "red").save(wf_dir / photo)
    changed, _ = run(nodes)
    assert changed.nodes["load"].status == "done" and changed.output("show").size == (10, 10)
    assert first.output("load", "width") == 256 and changed.output("load", "width") == 10


def test_one_failing_item_names_it_and_the_rest_are_cached_and_saved(run, wf_dir):
    """Paths built by a template: one names no file, so only its item fails; the other items and the other
    branch are still saved."""
    (wf_dir / "shots").mkdir()
    for name in ("a.png", "b.png"):
        Image.new("RGB", (4, 4)).save(wf_dir / "shots" / name)
    Image.new("RGB", (8, 8)).save(wf_dir / "p.png")
    nodes = {
        "names": {"type": "list.from_lines", "params": {"text": "a.png\nmissing.png\nb.png"}},
        "tpl": {"type": "text.template", "params": {"template": "shots/{file}"}, "inputs": {"file": "names.items"}},
        "load": {"type": "image.load", "inputs": {"path": "tpl.text"}},
        "save": {"type": "image.save", "inputs": {"image": "load.image"}},
        "other": {"type": "image.load", "params": {"path": "p.png"}},
        "keep": {"type": "image.save", "params": {"filename": "kept.png"}, "inputs": {"image": "other.image"}},
    }
    result, _ = run(nodes)
    load = result.nodes["load"]
    assert load.status == "failed" and load.error == "item 2 of 3: no file at 'shots/missing.png'."
    assert "The 2 other items are cached" in load.hint
    assert result.nodes["save"].status == "skipped" and result.nodes["keep"].status == "done"
    assert "needs node 'load', which failed (1 of 3 items; the other 2 are done)" in result.nodes["save"].error
    assert sorted(p.name for p in result.files) == ["kept.png", "save_1.png", "save_3.png"]


def test_folder_to_contact_sheet(run, wf_dir, out_dir):
    (wf_dir / "shots").mkdir()
    for i, colour in enumerate(("red", "green", "blue", "yellow", "white")):
        Image.new("RGB", (40, 30), colour).save(wf_dir / "shots" / f"shot{i + 1}.png")
    nodes = {
        "folder": {"type": "image.load_folder", "params": {"folder": "shots", "pattern": "*.png"}},
        "count": {"type": "list.count", "inputs": {"items": "folder.images"}},
        "sheet": {"type": "image.grid", "params": {"columns": 3, "spacing": 2, "cell_width": 0},
                  "inputs": {"images": "folder.images", "labels": "folder.names"}},
        "save": {"type": "image.save", "params": {"filename": "sheet.png"}, "inputs": {"image": "sheet.image"}},
    }
    result, _ = run(nodes)
    assert result.ok and result.output("count") == 5
    sheet = Image.open(out_dir / "sheet.png")
    assert sheet.width == 3 * 42 + 2
    assert sheet.getpixel((2, 2)) == (255, 0, 0) and sheet.getpixel((44, 2)) == (0, 128, 0)


def test_masks_flow_into_composite_and_preview(run, wf_dir, photo):
    Image.new("RGB", (256, 192), "white").save(wf_dir / "white.png")
    nodes = {
        "base": {"type": "image.load", "params": {"path": photo}},
        "paint": {"type": "image.load", "params": {"path": "white.png"}},
        "shape": {"type": "mask.shape", "params": {"units": "pixels", "x": 0, "y": 0, "width": 128, "height": 192},
                  "inputs": {"image": "paint.image"}},
        "soft": {"type": "mask.feather", "params": {"radius": 0}, "inputs": {"mask": "shape.mask"}},
        "mix": {"type": "image.composite", "inputs": {"base": "base.image", "overlay": "paint.image",
                                                      "mask": "soft.mask"}},
        "show": {"type": "image.preview", "inputs": {"image": "mix.image"}},
        "mask_view": {"type": "image.preview", "inputs": {"image": "soft.mask"}},
    }
    result, _ = run(nodes)
    assert result.ok, {k: v.error for k, v in result.nodes.items()}
    mixed = result.output("show")
    assert mixed.getpixel((10, 10)) == (255, 255, 255) and mixed.getpixel((200, 10)) != (255, 255, 255)
    assert result.output("mask_view").mode == "L"
    assert not result.files


def test_a_workflow_cannot_write_outside_its_output_folder(run, tmp_path, photo):
    nodes = {"load": {"type": "image.load", "params": {"path": photo}},
             "save": {"type": "image.save", "params": {"filename": "../../escaped.png"},
                      "inputs": {"image": "load.image"}}}
    result, _ = run(nodes)
    assert result.nodes["save"].status == "failed"
    assert "would be written outside the output folder" in result.nodes["save"].error
    assert not list(Path(tmp_path).rglob("escaped.png"))


@pytest.mark.parametrize("lines", ["p.png", "p.png\nq.png"], ids=["linked", "mapped"])
def test_a_linked_path_is_cached_by_the_file_content_too(run, wf_dir, lines):
    """A path fed by a link (a template, a CSV) re-reads a file whose content changed, like a typed path does."""
    for name in ("p.png", "q.png"):
        Image.new("RGB", (10, 10)).save(wf_dir / name)
    nodes = {"paths": {"type": "list.from_lines", "params": {"text": lines}},
             "pick": {"type": "list.pick", "inputs": {"items": "paths.items"}},
             "load": {"type": "image.load", "inputs": {"path": "pick.item" if "\n" not in lines else "paths.items"}},
             "show": {"type": "image.preview", "inputs": {"image": "load.image"}}}
    run(nodes)
    assert run(nodes)[0].nodes["load"].status == "cached"
    Image.new("RGB", (20, 20)).save(wf_dir / "p.png")
    result, _ = run(nodes)
    assert result.nodes["load"].status == "done"
    widths = result.output("load", "width")
    assert widths == 20 if "\n" not in lines else widths == [20, 10]


@pytest.mark.parametrize("path, linked", [("/", False), ("..", False), ("/", True), ("bad\x00name.png", True),
                                          ("~nosuchuser/x", True), pytest.param("x" * 5000, True, id="5000 x")])
def test_paths_outside_or_unusable_fail_clearly_without_being_hashed(run, path, linked):
    """The cache key must not walk a folder the run may not read (or choke on a name): the node says what is wrong."""
    folder = {"type": "image.load_folder", "inputs": {"folder": "where.text"}} if linked else \
        {"type": "image.load_folder", "params": {"folder": path}}
    nodes = {"where": {"type": "text.text", "params": {"text": path}}, "folder": folder,
             "sheet": {"type": "image.grid", "inputs": {"images": "folder.images"}},
             "show": {"type": "image.preview", "inputs": {"image": "sheet.image"}}}
    result, _ = run(nodes)
    folder = result.nodes["folder"]
    assert folder.status == "failed" and "unexpected" not in folder.hint, folder.error
