"""Gemini models in the editor: the picker names them, a retired id is flagged with its successor and updated in one
click (the file too), and a grounded answer's sources show under the node's result (against the fake Gemini API)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowbanana.providers.models import MODELS
from test_editor import STATE, nodes, open_template

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]

RETIRED = "gemini-3-pro-image-preview"


def with_model(page, server, name: str, **params) -> str:
    """hello-gemini with the generate node's params changed, saved in the server's workflows folder as a template
    (the page is reloaded, so that its File menu lists it)."""
    data = json.loads((ROOT / "workflows" / "hello-gemini.json").read_text())
    data["nodes"]["generate"]["params"].update(params)
    (server.workflows / f"{name}.json").write_text(json.dumps(data, indent=2))
    page.reload()
    page.wait_for_function(f"{STATE} && Object.keys({STATE}.nodes).length > 0")
    return name


def test_the_model_picker_shows_names_with_the_ids_beneath(page, editor_server):
    open_template(page, with_model(page, editor_server, "picker", model="nano-banana-pro"))
    picker = page.locator(".fb-node[data-node='generate'] .fb-model-btn")
    # an alias is shown by its model's name, with what the file says and the id it is sent as
    assert picker.locator(".fb-model-name").inner_text() == "Nano Banana Pro"
    assert picker.locator(".fb-model-id").inner_text() == "nano-banana-pro → gemini-3-pro-image"
    picker.click()
    items = page.locator(".fb-node[data-node='generate'] .fb-model-item[data-model]")
    shown = {items.nth(i).get_attribute("data-model"): items.nth(i).inner_text().split("\n")
             for i in range(items.count())}
    assert shown["gemini-3.1-flash-image"] == ["Nano Banana 2", "gemini-3.1-flash-image"]
    assert shown["gemini-2.5-flash-image"][0].lower().startswith("nano banana") and "deprecated" in \
        shown["gemini-2.5-flash-image"][0].lower()
    assert RETIRED not in shown  # retired ids are not offered
    page.locator(".fb-node[data-node='generate'] .fb-model-item[data-model='gemini-3.1-flash-lite-image']").click()
    page.wait_for_function(f"{STATE}.nodes.generate.params.model === 'gemini-3.1-flash-lite-image'")
    assert picker.locator(".fb-model-name").inner_text() == MODELS["gemini-3.1-flash-lite-image"].name
    assert not page.locator(".fb-model-list").is_visible()

    picker.click()  # any other id can still be typed
    page.locator(".fb-node[data-node='generate'] [data-model-other]").click()
    typed = page.locator(".fb-node[data-node='generate'] input[data-param='model']")
    typed.fill("gemini-next-image")
    typed.press("Enter")
    page.wait_for_function(f"{STATE}.nodes.generate.params.model === 'gemini-next-image'")
    assert picker.locator(".fb-model-id").inner_text() == "not in flowbanana's model table"
    warning = page.locator(".fb-node[data-node='generate'] .fb-warning")
    assert "'gemini-next-image' is not in flowbanana's catalogue" in warning.inner_text()


def test_a_retired_id_is_flagged_and_updated_in_the_file_with_one_click(page, editor_server):
    open_template(page, with_model(page, editor_server, "old-pro", model=RETIRED))
    warning = page.locator(".fb-node[data-node='generate'] .fb-warning")
    text = warning.inner_text()
    assert RETIRED in text and "gemini-3-pro-image " in text and "2026-06-25" in text
    assert not text.startswith("node ")  # the node does not name itself
    picker = page.locator(".fb-node[data-node='generate'] .fb-model-btn")
    assert picker.locator(".fb-model-id").inner_text() == f"{RETIRED} · retired"
    # a warning does not stop a run
    page.locator("[data-testid=run]").click()
    page.get_by_text("Run done").wait_for()

    page.keyboard.press("Control+s")  # a file of its own: the update is written into it
    page.locator("input[data-testid=save-name]").fill("mine")
    page.locator("[data-testid=save-confirm]").click()
    page.get_by_text("Saved mine.json").wait_for()
    warning.locator("[data-update-models]").click()
    page.get_by_text(f"Updated 1 node to today's model ids ({RETIRED} → gemini-3-pro-image) and saved mine.json.") \
        .wait_for()
    assert nodes(page)["generate"]["params"]["model"] == "gemini-3-pro-image"
    saved = json.loads((editor_server.workflows / "mine.json").read_text())
    assert saved["nodes"]["generate"]["params"]["model"] == "gemini-3-pro-image"
    assert not warning.is_visible() and not page.locator("[data-testid=unsaved]").is_visible()
    page.keyboard.press("Control+z")  # one undo step brings the old id back (unsaved now)
    page.wait_for_function(f"{STATE}.nodes.generate.params.model === '{RETIRED}'")
    warning.wait_for()


def test_grounding_sources_show_under_the_result(gemini_page, gemini_editor):
    page = gemini_page
    assert page.locator("[data-testid=provider-badge]").inner_text().strip().endswith("Gemini")
    open_template(page, with_model(page, gemini_editor, "searched", model="gemini-3.1-flash-image", search="web"))
    page.locator("[data-testid=run]").click()
    page.get_by_text("Run done").wait_for()
    line = page.locator(".fb-node[data-node='generate'] .fb-sources")
    line.wait_for()
    assert line.inner_text().split("\n")[0].strip() == "sources"
    links = line.locator("a")
    assert [links.nth(i).inner_text() for i in range(links.count())] == ["Weather today", "example.com"]
    assert links.first.get_attribute("href") == "https://example.org/weather-today"
    assert links.first.get_attribute("rel") == "noopener noreferrer"
    assert not page.locator(".fb-node[data-node='preview'] .fb-sources").count()  # only where the answer came
    page.screenshot(path=str(ROOT / "test-artifacts" / "grounding-sources.png"))
