"""Subgraphs in a real browser: a workflow used twice as a node runs and shows its results, opens for editing in
place with a breadcrumb back, is made from a selection and unpacked; saved workflows sit in the palette; an output
is exposed from a node's menu."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flowbanana.workflow import load
from test_editor import STATE, add_from_palette, new_workflow, nodes, port
from test_mask_and_sharing import open_template, run_and_wait

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def library(editor_server) -> Path:
    """The server's workflows folder with the Polaroid subgraph, the pair that uses it twice and their photo."""
    folder = editor_server.workflows
    (folder / "inputs").mkdir(exist_ok=True)
    for name in ("polaroid.json", "polaroid-pair.json"):
        shutil.copy(ROOT / "workflows" / name, folder)
    shutil.copy(ROOT / "workflows" / "inputs" / "product.jpg", folder / "inputs")
    return folder


def node_menu(page, node: str, item: str) -> None:
    page.locator(f".fb-node[data-node='{node}'] .fb-menu-btn").click()
    page.click(f"[data-testid=menu-{item}]")


def select(page, *ids: str) -> None:
    page.locator(f".fb-node[data-node='{ids[0]}'] .fb-title").click()
    for other in ids[1:]:
        page.locator(f".fb-node[data-node='{other}'] .fb-title").click(modifiers=["Shift"])


def test_a_subgraph_used_twice_runs_opens_in_place_and_goes_back(page, library):
    open_template(page, "polaroid-pair", "left")
    for kind, name in (("in", "photo"), ("in", "caption"), ("in", "tilt"), ("out", "print")):
        assert port(page, "left", kind, name).count() == 1   # drawn with its workflow's interface
    run_and_wait(page, "save")
    left = page.evaluate(f"{STATE}.statuses.left")
    assert left["state"] == "done" and left["label"] == "done: 8 of 8 inner nodes"
    assert page.locator(".fb-node[data-node='left'] img").count() >= 1   # the print it made
    page.screenshot(path=str(ARTIFACTS / "subgraph-pair-ran.png"))

    node_menu(page, "right", "open-subgraph")
    page.wait_for_function(f"'tilt' in {STATE}.nodes && !('left' in {STATE}.nodes)")
    assert page.locator("[data-testid=crumb-0]").inner_text().endswith("Polaroid pair")
    assert page.locator("[data-testid=crumb-here]").inner_text() == "Polaroid"
    assert page.evaluate(f"{STATE}.statuses.tilt.history.length") >= 1  # the right print's own results, inside
    page.evaluate(f"{STATE}.setParam('caption', 'size', 20, true)")
    page.wait_for_function("document.querySelector('[data-testid=unsaved]').offsetParent !== null")
    page.screenshot(path=str(ARTIFACTS / "subgraph-open-inside.png"))
    page.click("[data-testid=crumb-0]")
    page.wait_for_function(f"'left' in {STATE}.nodes && !('tilt' in {STATE}.nodes)")
    page.get_by_text("Saved the subgraph's file polaroid.json").wait_for()
    assert load(library / "polaroid.json").nodes["caption"].params["size"] == 20
    assert page.locator("[data-testid=crumb-0]").count() == 0


def test_make_a_subgraph_from_a_selection_open_it_and_unpack_it(page, library):
    open_template(page, "polaroid-pair", "left")
    select(page, "warm", "mono")
    node_menu(page, "mono", "make-subgraph")
    page.wait_for_function(f"'subgraph' in {STATE}.nodes && !('warm' in {STATE}.nodes)")
    shown = nodes(page)
    assert shown["left"]["inputs"]["photo"] == ["subgraph.image"] and shown["right"]["inputs"]["photo"] == \
        ["subgraph.mono_image"]
    for kind, name in (("in", "image"), ("in", "mono_image"), ("out", "image"), ("out", "mono_image")):
        assert port(page, "subgraph", kind, name).count() == 1
    assert page.evaluate(f"{STATE}.problems.length") == 0
    page.screenshot(path=str(ARTIFACTS / "subgraph-made.png"))

    node_menu(page, "subgraph", "open-subgraph")
    page.wait_for_function(f"'warm' in {STATE}.nodes && !('left' in {STATE}.nodes)")
    assert page.locator("[data-testid=crumb-here]").inner_text() == "Subgraph"
    page.evaluate(f"{STATE}.setParam('warm', 'saturation', 2, true)")
    page.wait_for_function(f"{STATE}.nodes.warm.params.saturation === 2")
    page.reload()                                      # the autosave holds the whole workflow, edit included
    page.wait_for_function(f"{STATE} && 'subgraph' in {STATE}.nodes")
    assert nodes(page)["subgraph"]["workflow"]["nodes"]["warm"]["params"]["saturation"] == 2
    node_menu(page, "subgraph", "open-subgraph")
    page.wait_for_function(f"'warm' in {STATE}.nodes")
    page.click("[data-testid=crumb-0]")
    page.wait_for_function(f"'subgraph' in {STATE}.nodes")

    node_menu(page, "subgraph", "unpack")
    page.wait_for_function(f"'warm' in {STATE}.nodes && !('subgraph' in {STATE}.nodes)")
    assert nodes(page)["left"]["inputs"]["photo"] == ["warm.image"]
    assert nodes(page)["warm"]["params"]["saturation"] == 2          # the edit made inside it
    page.keyboard.press("Control+z")
    page.wait_for_function(f"'subgraph' in {STATE}.nodes")


def test_saved_workflows_are_in_the_palette_and_an_output_is_exposed_from_a_menu(page, library):
    new_workflow(page)
    item = page.locator(".fb-pal-item[data-type='polaroid.json']")
    assert "Polaroid" in item.inner_text()
    node = add_from_palette(page, "polaroid.json", 420, 260)
    # an unsaved workflow's relative paths start from the editor's folder (saving it moves them along)
    assert nodes(page)[node]["workflow"] == "workflows/polaroid.json"
    assert port(page, node, "out", "print").count() == 1
    node_menu(page, node, "expose-output")
    page.locator("input[data-testid=output-name]").fill("framed")
    page.click("[data-testid=output-confirm]")
    page.locator("[data-testid=interface-framed]").wait_for()
    assert "polaroid.print" in page.locator("[data-testid=interface-framed]").inner_text()
