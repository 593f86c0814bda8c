"""What users of other node editors expect: fuzzy node search, an image dropped on the canvas becomes a Load image
node, notices that keep off the nodes and can be dismissed, File > New without the old results, and results dimmed
once a param they were made with changes."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from test_editor import STATE, add_from_palette, drag_link, new_workflow, nodes, port
from test_mask_and_sharing import drop_file

pytestmark = pytest.mark.browser


def palette_order(page) -> list[str]:
    return page.locator(".fb-pal-item").evaluate_all("items => items.map((i) => i.dataset.type)")


def test_search_is_fuzzy_over_titles_keywords_and_descriptions(page):
    search = page.locator(".fb-palette-search")
    search.fill("gen img")  # abbreviations of the title's words
    page.wait_for_function("document.querySelector('.fb-pal-item')?.dataset.type === 'gemini.generate'")
    search.fill("upscale")  # a keyword: Resize does not say "upscale" in its title
    page.wait_for_function("document.querySelector('.fb-pal-item')?.dataset.type === 'image.resize'")
    assert palette_order(page) == ["image.resize"]
    search.fill("black white")  # words of a keyword, in any node
    page.wait_for_function("document.querySelector('.fb-pal-item')?.dataset.type === 'image.grayscale'")
    search.fill("watermark")  # keywords and descriptions both count; a title word would come first
    assert set(palette_order(page)) >= {"image.text", "image.composite"}
    search.fill("zzqx")
    page.get_by_text("No node matches.").wait_for()
    search.fill("")

    new_workflow(page)  # the canvas's own search (double-click) ranks the same way
    page.locator(".fb-viewport").dblclick(position={"x": 500, "y": 300})
    page.locator(".fb-search input").fill("gen img")
    first = page.locator(".fb-search-item").first
    assert first.locator(".fb-pal-id").inner_text() == "gemini.generate"
    page.locator(".fb-search input").press("Enter")
    page.wait_for_function(f"Object.values({STATE}.nodes).some((n) => n.type === 'gemini.generate')")


def test_a_picture_dropped_on_the_canvas_becomes_a_load_image_node(page, tmp_path):
    new_workflow(page)
    picture = tmp_path / "holiday photo.png"
    Image.new("RGB", (64, 48), (200, 80, 40)).save(picture)
    drop_file(page, picture, "image/png")
    page.wait_for_function(f"Object.values({STATE}.nodes).some((n) => n.type === 'image.load' && n.params.path)")
    (node_id, node), = nodes(page).items()
    assert node["type"] == "image.load" and Path(node["params"]["path"]).suffix == ".png"
    box = page.locator(".fb-viewport").bounding_box()
    head = page.locator(f".fb-node[data-node='{node_id}']").bounding_box()
    assert abs(head["x"] - (box["x"] + 300)) < 60 and abs(head["y"] - (box["y"] + 300)) < 60  # where it was dropped
    assert page.evaluate(f"{STATE}.selection['{node_id}']") is True
    assert not page.evaluate(f"{STATE}.problems.filter((p) => p.node === '{node_id}').length")  # the file is readable

    preview = add_from_palette(page, "image.preview", 900, 300)  # and it runs: the picture shows in a preview
    drag_link(page, port(page, node_id, "out", "image"), port(page, preview, "in", "image"))
    page.wait_for_function(f"{STATE}.nodes['{preview}'].inputs.image?.length === 1")
    page.keyboard.press("Control+Enter")
    page.locator(f".fb-node[data-node='{preview}'] img.fb-thumb").wait_for()

    page.keyboard.press("Control+z")  # undo takes the node away in one step
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+z")
    page.wait_for_function(f"Object.keys({STATE}.nodes).length === 0")
