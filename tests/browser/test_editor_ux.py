"""What users of other node editors expect: fuzzy node search, an image dropped on the canvas becomes a Load image
node, notices that keep off the nodes and can be dismissed, File > New without the old results, and results dimmed
once a param they were made with changes."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from test_editor import STATE, add_from_palette, drag_link, new_workflow, nodes, open_template, port
from test_mask_and_sharing import drop_file

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


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
    open_template(page, "hello-gemini")  # the next tab opens on what this one autosaved: not an empty graph


def overlaps(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and \
        a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def test_notices_keep_off_the_canvas_and_can_be_closed(page):
    open_template(page, "hello-gemini")
    canvas = page.locator(".fb-viewport").bounding_box()
    page.click("[data-testid=estimate]")
    notice = page.locator("[data-testid=notice]").filter(has_text="Running now makes")
    notice.wait_for()
    box = notice.bounding_box()
    assert not overlaps(box, canvas)  # over the side panel, right of the canvas
    assert box["x"] >= canvas["x"] + canvas["width"]
    page.screenshot(path=str(ARTIFACTS / "notice-over-side-panel.png"))
    notice.get_by_role("button").click()  # ✕ closes it at once
    notice.wait_for(state="detached")

    page.click("[data-testid=side-toggle]")  # the side panel closed: the canvas is wider, the notice goes left
    page.wait_for_function(f"document.querySelector('.fb-viewport').getBoundingClientRect().width > {canvas['width']}")
    canvas = page.locator(".fb-viewport").bounding_box()
    page.click("[data-testid=estimate]")
    notice.wait_for()
    box = notice.bounding_box()
    assert not overlaps(box, canvas) and box["x"] + box["width"] <= canvas["x"]  # over the palette
    page.screenshot(path=str(ARTIFACTS / "notice-over-palette.png"))
    notice.get_by_role("button").click()
    notice.wait_for(state="detached")
    page.click("[data-testid=side-toggle]")


def test_file_new_clears_the_old_results(page):
    open_template(page, "hello-gemini")
    page.locator("[data-testid=run]").click()
    page.locator(".fb-node[data-node='preview'] img.fb-thumb").wait_for()
    page.locator("[data-testid=results] img").first.wait_for()

    new_workflow(page)
    generate = add_from_palette(page, "gemini.generate", 400, 200)
    assert generate == "generate"  # the name the last workflow's node had: its results must not come back
    assert not page.locator(".fb-result").count() and not page.locator("[data-testid=results] img").count()
    page.click("text=Results")
    page.get_by_text("Run the workflow (Ctrl+Enter) to see every image it makes here.").wait_for()
    page.reload()  # nor from the tab's storage
    page.wait_for_function(f"{STATE} && {STATE}.nodes.generate !== undefined")
    page.click("[data-testid=estimate]")  # a round trip: whatever the restore sent after the graph has arrived too
    page.locator("[data-testid=notice]").filter(has_text="Not run").wait_for()  # (it has no output node yet)
    assert not page.locator(".fb-result").count() and not page.locator("[data-testid=results] img").count()


def test_a_changed_param_dims_the_results_it_made_stale(page):
    open_template(page, "hello-gemini")
    page.locator("[data-testid=run]").click()
    page.locator(".fb-node[data-node='preview'] img.fb-thumb").wait_for()
    page.get_by_text("Run done").wait_for()
    shown = ".fb-node[data-node='{}'] .fb-result"
    for node in ("prompt", "generate", "preview"):
        assert "fb-stale" not in page.locator(shown.format(node)).get_attribute("class")

    seed = page.locator(".fb-node[data-node='generate'] input[data-param='seed']")
    seed.fill("8")
    seed.press("Enter")
    # the node changed and what it feeds: dimmed and marked; what feeds it is still what it was
    page.wait_for_function("document.querySelector(\".fb-node[data-node='preview'] .fb-result\")"
                           ".classList.contains('fb-stale')")
    assert "fb-stale" in page.locator(shown.format("generate")).get_attribute("class")
    assert page.locator(".fb-node[data-node='generate'] [data-outdated]").is_visible()
    assert "fb-stale" not in page.locator(shown.format("prompt")).get_attribute("class")
    page.screenshot(path=str(ARTIFACTS / "stale-results.png"))

    seed.fill("7")  # back to what the results were made with: not stale
    seed.press("Enter")
    page.wait_for_function("!document.querySelector(\".fb-node[data-node='preview'] .fb-result\")"
                           ".classList.contains('fb-stale')")
    assert "fb-stale" not in page.locator(shown.format("generate")).get_attribute("class")

    text = page.locator(".fb-node[data-node='subject'] textarea[data-param='text']")  # upstream of everything
    text.fill("a pear")
    text.press("Tab")
    page.wait_for_function("document.querySelector(\".fb-node[data-node='prompt'] .fb-result\")"
                           ".classList.contains('fb-stale')")
    page.locator("[data-testid=run]").click()  # running again makes them current
    page.wait_for_function("document.querySelector(\".fb-node[data-node='prompt'] .fb-text-result\")"
                           "?.innerText.startsWith('a pear')")
    page.get_by_text("Run done").last.wait_for()
    page.wait_for_function("!document.querySelector('.fb-result.fb-stale')")
