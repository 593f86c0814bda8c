"""Groups, sticky notes and right-click menus in a real browser: a group made from the selection carries its nodes
when dragged, is renamed, recoloured, resized, saved, deleted (keeping its nodes) and undone; a note is typed,
moved, recoloured, kept over a reload and deleted; the canvas menu adds a node where it was opened, pastes and
fits; a node's menu groups, renames, duplicates and disables."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_editor import STATE, add_from_palette, new_workflow, nodes

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
EMPTY = (700, 975)  # a spot of canvas no test puts anything on (between the zoom bar and the minimap)


def state(page, what: str):
    return page.evaluate(f"JSON.parse(JSON.stringify({STATE}.{what}))")


def drag_by(page, locator, dx: float, dy: float) -> None:
    box = locator.bounding_box()
    x, y = box["x"] + min(60, box["width"] / 2), box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx / 2, y + dy / 2, steps=4)
    page.mouse.move(x + dx, y + dy, steps=4)
    page.mouse.up()


def canvas_menu(page, x: int, y: int, item: str) -> None:
    """Right-click the empty canvas at viewport (x, y) and pick `item` from its menu."""
    page.mouse.click(x, y, button="right")
    page.locator("[data-menu=canvas]").wait_for()
    page.click(f"[data-menu=canvas] [data-menu-item={item}]")


def settle(page) -> None:
    """Let a debounced edit reach Python, then click the empty canvas (closing menus, ending typing)."""
    page.wait_for_timeout(700)
    page.mouse.click(EMPTY[0], EMPTY[1])


def test_a_group_made_from_the_selection_carries_its_nodes(page, editor_server):
    new_workflow(page)
    first = add_from_palette(page, "text.text", 160, 220)
    second = add_from_palette(page, "text.text", 160, 480)
    outside = add_from_palette(page, "image.preview", 760, 260)
    page.click(f".fb-node[data-node='{first}'] .fb-title")
    page.click(f".fb-node[data-node='{second}'] .fb-title", modifiers=["Shift"])
    page.keyboard.press("Control+g")
    title = page.locator("[data-group-title]")
    title.wait_for()
    page.wait_for_function("document.activeElement && document.activeElement.matches('[data-group-title]')")
    page.keyboard.type("Prompts")
    page.keyboard.press("Enter")
    page.wait_for_function(f"Object.values({STATE}.groups)[0]?.title === 'Prompts'")
    (group_id, group), = state(page, "groups").items()
    before = nodes(page)
    for node in (first, second):  # the box takes in both nodes, with room for its title above them
        assert group["x"] < before[node]["x"] and group["y"] + 40 < before[node]["y"]
        assert before[node]["x"] + 280 < group["x"] + group["w"]
    assert not (group["x"] < before[outside]["x"] < group["x"] + group["w"])

    head = page.locator(f".fb-group[data-group='{group_id}'] .fb-group-head")
    drawn = page.locator(f".fb-node[data-node='{second}']").bounding_box()
    drag_by(page, head, 120, 90)
    page.wait_for_function(f"{STATE}.groups['{group_id}'].x !== {group['x']}")
    after, zoom = nodes(page), page.evaluate(f"{STATE}.view.zoom")
    moved = state(page, "groups")[group_id]
    dx, dy = moved["x"] - group["x"], moved["y"] - group["y"]
    assert abs(dx - 120 / zoom) <= 2 and abs(dy - 90 / zoom) <= 2
    for node in (first, second):
        assert (after[node]["x"] - before[node]["x"], after[node]["y"] - before[node]["y"]) == (dx, dy)
    assert (after[outside]["x"], after[outside]["y"]) == (before[outside]["x"], before[outside]["y"])
    now = page.locator(f".fb-node[data-node='{second}']").bounding_box()  # drawn where it went, too
    assert abs(now["x"] - drawn["x"] - 120) <= 3 and abs(now["y"] - drawn["y"] - 90) <= 3

    page.click(f".fb-group[data-group='{group_id}'] [data-group-menu]")
    page.click("[data-menu=box] [data-swatch='#a34848']")
    page.wait_for_function(f"{STATE}.groups['{group_id}'].color === '#a34848'")
    drag_by(page, page.locator(f".fb-group[data-group='{group_id}'] .fb-resize"), 90, 60)
    page.wait_for_function(f"{STATE}.groups['{group_id}'].w > {moved['w']}")
    settle(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "annotations-group.png"))

    page.keyboard.press("Control+s")
    page.locator("input[data-testid=save-name]").fill("grouped")
    page.locator("[data-testid=save-confirm]").click()
    page.get_by_text("Saved grouped.json").wait_for()
    saved = json.loads((editor_server.workflows / "grouped.json").read_text())
    shown = state(page, "groups")[group_id]
    assert saved["groups"] == {group_id: {"title": "Prompts", "color": "#a34848", "x": shown["x"], "y": shown["y"],
                                          "w": shown["w"], "h": shown["h"]}}
    assert saved["ui"]["nodes"][first] == {"x": after[first]["x"], "y": after[first]["y"]}

    head.click()  # selects the group; Delete removes it and keeps its nodes
    page.keyboard.press("Delete")
    page.wait_for_function(f"Object.keys({STATE}.groups).length === 0")
    assert set(nodes(page)) == {first, second, outside}
    page.keyboard.press("Control+z")
    page.wait_for_function(f"{STATE}.groups['{group_id}']?.title === 'Prompts'")

    page.evaluate(f"{STATE}.view = {{...{STATE}.view, zoom: 0.3}}")  # far out, the title is drawn above the box
    far = page.locator(f".fb-group[data-group='{group_id}'] .fb-group-far-title")
    far.wait_for()
    assert far.inner_text() == "Prompts" and far.bounding_box()["height"] >= 14  # still readable on screen
    page.evaluate(f"{STATE}.view = {{...{STATE}.view, zoom: 1}}")
    far.wait_for(state="detached")


def test_a_sticky_note_is_typed_moved_recoloured_kept_and_deleted(page):
    new_workflow(page)
    add_from_palette(page, "text.text", 180, 200)  # (the next test's page waits for a graph with nodes)
    canvas_menu(page, 700, 560, "add_note")
    page.wait_for_function(f"Object.keys({STATE}.notes).length === 1")
    (note_id, note), = state(page, "notes").items()
    text = page.locator(f".fb-note[data-note='{note_id}'] textarea")
    text.click()
    page.keyboard.type("Try 3:4 next.\nThe blue one looked best.")
    settle(page)
    drag_by(page, page.locator(f".fb-note[data-note='{note_id}'] .fb-note-bar"), 140, 60)
    page.wait_for_function(f"{STATE}.notes['{note_id}'].x !== {note['x']}")
    page.click(f".fb-note[data-note='{note_id}'] [data-note-menu]")
    page.click("[data-menu=box] [data-swatch='#8ab8e6']")
    page.wait_for_function(f"{STATE}.notes['{note_id}'].color === '#8ab8e6'")
    canvas_menu(page, 300, 700, "add_note")
    page.wait_for_function(f"Object.keys({STATE}.notes).length === 2")
    page.locator(".fb-note textarea").nth(1).fill("a second thought")
    settle(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "annotations-notes.png"))
    moved = state(page, "notes")[note_id]

    page.reload()  # the notes are in the autosaved workflow, so nothing is lost
    page.wait_for_function(f"{STATE} && {STATE}.notes && Object.keys({STATE}.notes).length === 2")
    assert state(page, "notes")[note_id] == {**moved, "text": "Try 3:4 next.\nThe blue one looked best."}
    assert page.locator(f".fb-note[data-note='{note_id}'] textarea").input_value().startswith("Try 3:4 next.")

    page.click(f".fb-note[data-note='{note_id}'] [data-note-menu]")
    page.click("[data-menu=box] [data-menu-item=delete]")
    page.wait_for_function(f"Object.keys({STATE}.notes).length === 1 && !{STATE}.notes['{note_id}']")


def test_the_canvas_and_node_menus(page):
    new_workflow(page)
    text = add_from_palette(page, "text.text", 180, 200)
    canvas_menu(page, 760, 420, "add_node")
    search = page.locator(".fb-search input")
    search.wait_for()
    search.fill("preview")
    page.keyboard.press("Enter")
    page.wait_for_function(f"Object.keys({STATE}.nodes).length === 2")
    preview = next(n for n in nodes(page) if n != text)
    box = page.locator(f".fb-node[data-node='{preview}']").bounding_box()
    assert abs(box["x"] - 760) < 12 and abs(box["y"] - 420) < 40  # where the menu was opened

    page.click(f".fb-node[data-node='{text}'] .fb-title")
    page.keyboard.press("Control+c")
    canvas_menu(page, 300, 640, "paste")
    page.wait_for_function(f"Object.keys({STATE}.nodes).length === 3")
    pasted = next(n for n in nodes(page) if n not in (text, preview))
    assert nodes(page)[pasted]["type"] == "text.text"

    canvas_menu(page, 1000, 800, "select_all")
    assert len(state(page, "selection")) == 3
    page.evaluate(f"{STATE}.view = {{x: -3000, y: -2000, zoom: 1}}")  # lost far away; Fit brings it all back
    canvas_menu(page, 700, 500, "fit")
    viewport = page.locator(".fb-viewport").bounding_box()
    for node in (text, preview, pasted):
        b = page.locator(f".fb-node[data-node='{node}']").bounding_box()
        assert viewport["x"] <= b["x"] and b["x"] + b["width"] <= viewport["x"] + viewport["width"]
        assert viewport["y"] <= b["y"] and b["y"] + b["height"] <= viewport["y"] + viewport["height"]

    page.mouse.click(EMPTY[0], EMPTY[1])  # the selection cleared: the menu is about this node alone
    page.click(f".fb-node[data-node='{text}'] .fb-title", button="right")
    menu = page.locator(".fb-menu").first
    for item in ("Rename…", "Duplicate", "Delete", "Disable (skip when running)", "Group this node"):
        assert menu.get_by_text(item, exact=False).count() >= 1, item
    page.screenshot(path=str(ARTIFACTS / "annotations-node-menu.png"))
    menu.get_by_text("Disable (skip when running)").click()
    page.wait_for_function(f"{STATE}.nodes['{text}'].disabled === true")
    page.click(f".fb-node[data-node='{text}'] .fb-title", button="right")
    page.locator(".fb-menu [data-menu-item=group]").click()
    page.wait_for_function(f"Object.keys({STATE}.groups).length === 1")
