"""Sweeps in the editor: "Sweep …" from a param's right-click menu, the estimate, the run, the grid, "use this"."""
from __future__ import annotations

import re

import pytest

from flowbanana.providers.models import DEFAULT_IMAGE_MODEL, model_choices
from test_editor import STATE, open_template

pytestmark = pytest.mark.browser


def sweep_param(page, node: str, param: str, values: str) -> None:
    """Right-click the param on the node, pick Sweep, type the values, confirm."""
    page.locator(f".fb-node[data-node='{node}'] [data-param='{param}']").click(button="right")
    page.click(".fb-menu [data-menu=sweep]")
    dialog = page.locator("[data-testid=sweep-dialog]")
    dialog.wait_for()
    dialog.locator("textarea").fill(values)
    dialog.locator("[data-testid=sweep-confirm]").click()
    dialog.wait_for(state="hidden")


def test_sweep_two_params_estimate_run_and_use_a_cell(page):
    open_template(page, "hello-gemini")
    seed = page.locator(".fb-node[data-node='generate'] input[data-param='seed']")
    seed.fill("4242")  # nothing an earlier test ran, so every cell is new
    seed.press("Enter")
    page.wait_for_function(f"{STATE}.nodes.generate.params.seed === 4242")

    page.locator(".fb-node[data-node='generate'] [data-param='aspect_ratio']").click(button="right")
    assert page.locator(".fb-menu [data-menu=sweep]").inner_text() == "Sweep “aspect ratio”…"
    page.keyboard.press("Escape")
    sweep_param(page, "generate", "aspect_ratio", "1:1\n16:9")
    page.wait_for_function(f"{STATE}.nodes.sweep && {STATE}.nodes.sweep.inputs.image?.[0] === 'generate.image'")
    sweep_param(page, "generate", "seed", "4242\n4243")  # x is taken, so the dialog puts this one down (y)
    page.wait_for_function(f"{STATE}.nodes.sweep.params.y === 'generate.seed'")
    assert page.evaluate(f"{STATE}.nodes.sweep.params") == {
        "x": "generate.aspect_ratio", "x_values": "1:1\n16:9", "y": "generate.seed", "y_values": "4242\n4243",
        "mode": "every combination"}

    page.click("[data-testid=estimate]")
    page.get_by_text(re.compile(r"Running now makes 4 model calls \(.+\): free \(offline preview\)\.")).wait_for()

    page.click("[data-testid=run]")
    thumb = page.locator(".fb-node[data-node='sweep'] img.fb-thumb")
    thumb.wait_for(timeout=30000)
    page.wait_for_function(f"{STATE}.statuses.generate?.label === '4 cells done'")
    page.wait_for_function("document.querySelector(\".fb-node[data-node='sweep'] img.fb-thumb\").naturalWidth > 0")
    page.screenshot(path="test-artifacts/sweep-canvas.png")

    page.evaluate(f"{STATE}.centerOn('sweep')")  # the canvas never scrolls: pan to the grid, as a user would
    box = thumb.bounding_box()  # a tall grid can reach under the minimap: click its top, near the view's middle
    thumb.click(position={"x": box["width"] / 2, "y": min(12, box["height"] / 2)})
    cells = page.locator(".fb-grid-cell")
    cells.first.wait_for()
    assert cells.count() == 4
    page.wait_for_function("[...document.querySelectorAll('.fb-grid-sheet img')].every((i) => i.naturalWidth > 0)")
    cells.nth(3).click()  # second row, second column: 16:9 with seed 4243
    page.wait_for_function("document.querySelector('[data-testid=grid-chosen]').innerText === "
                           "'generate.aspect_ratio = 16:9, generate.seed = 4243'")
    page.screenshot(path="test-artifacts/sweep-grid.png")
    page.click("[data-testid=grid-use]")
    page.wait_for_function(f"{STATE}.nodes.generate.params.aspect_ratio === '16:9'")
    assert page.evaluate(f"{STATE}.nodes.generate.params.seed") == 4243

    page.keyboard.press("Control+z")  # one undo step takes both values back
    page.wait_for_function(f"{STATE}.nodes.generate.params.aspect_ratio === '4:3'")
    assert page.evaluate(f"{STATE}.nodes.generate.params.seed") == 4242


def test_compare_models_sweeps_every_model_in_the_table(page):
    open_template(page, "hello-gemini")
    page.locator(".fb-node[data-node='generate'] .fb-menu-btn").click()
    page.click(".fb-menu [data-menu=compare_models]")
    dialog = page.locator("[data-testid=sweep-dialog]")
    dialog.wait_for()
    assert dialog.locator("textarea").input_value() == "*"
    count = len(model_choices(DEFAULT_IMAGE_MODEL, live=True))  # live ones only: not the deprecated
    assert dialog.locator("[data-testid=sweep-cells]").inner_text().startswith(f"{count} cells")
    dialog.locator("[data-testid=sweep-confirm]").click()
    page.wait_for_function(f"{STATE}.nodes.sweep?.params.x === 'generate.model'")
    assert page.evaluate(f"{STATE}.nodes.sweep.params.x_values") == "*"
    assert not page.evaluate(f"{STATE}.problems.filter((p) => p.node === 'sweep')")
