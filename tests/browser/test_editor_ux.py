"""What users of other node editors expect: fuzzy node search, an image dropped on the canvas becomes a Load image
node, notices that keep off the nodes and can be dismissed, File > New without the old results, and results dimmed
once a param they were made with changes."""
from __future__ import annotations

import pytest

from test_editor import STATE, new_workflow, nodes

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
