"""The editor with big graphs and busy runs, in headless Chromium: what the page receives during a run, and the
nodes it leaves out of the page while they are out of view. Behaviour only; bench/editor_open.py measures speed."""
from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.browser

STATE = "window.flowbananaCanvas"
RUN_METHOD = re.compile(r'runMethod\(\d+, \\"(\w+)\\", (\[.*\])\)')


def chains(count: int, extra: dict | None = None) -> dict:
    """`count` chains of prompt -> template -> generate -> preview, one per row (as bench/editor_open.py)."""
    nodes, layout = {}, {}
    for i in range(count):
        nodes[f"prompt{i}"] = {"type": "text.text", "params": {"text": f"teapot {i}"}}
        nodes[f"fill{i}"] = {"type": "text.template", "params": {"template": "{subject}, studio light"},
                             "inputs": {"subject": f"prompt{i}.text"}}
        nodes[f"gen{i}"] = {"type": "gemini.generate", "params": {"aspect_ratio": "4:3"},
                            "inputs": {"prompt": f"fill{i}.text"}}
        nodes[f"show{i}"] = {"type": "image.preview", "inputs": {"image": f"gen{i}.image"}}
        for step, name in enumerate(("prompt", "fill", "gen", "show")):
            layout[f"{name}{i}"] = {"x": step * 340, "y": i * 560}
    for node_id, (node, place) in (extra or {}).items():
        nodes[node_id], layout[node_id] = node, place
    return {"format": "flowbanana/workflow", "version": 1, "name": "scale", "nodes": nodes, "ui": {"nodes": layout}}


def open_graph(page, workflow: dict) -> None:
    """Open a workflow as a dropped .json file would be opened."""
    page.evaluate(f"(text) => {STATE}.$emit('command', {{cmd: 'open_text', name: 'scale.json', text}})",
                  json.dumps(workflow))
    done = f"Object.keys({STATE}.nodes).length === {len(workflow['nodes'])} && {STATE}.nodes.prompt0 !== undefined"
    done = done if "prompt0" in workflow["nodes"] else done.replace("prompt0", "prompt")
    page.wait_for_function(f"({done}) || document.body.innerText.includes('Discard the unsaved')")
    if not page.evaluate(done):  # the tab restored an edited graph: discard it
        page.get_by_role("button", name="Discard").click()
    page.wait_for_function(done)
    page.wait_for_function("document.querySelectorAll('.fb-link').length > 0")


def drawn(page) -> set[str]:
    return set(page.evaluate("[...document.querySelectorAll('.fb-node')].map((e) => e.dataset.node)"))


def test_a_run_sends_statuses_of_the_nodes_that_changed_and_pictures_by_url(browser, editor_server, tmp_path):
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda data: frames.append(
        data if isinstance(data, str) else data.decode(errors="replace"))))
    page.goto(editor_server.url)
    page.wait_for_function(f"{STATE} && Object.keys({STATE}.nodes).length > 0")
    open_graph(page, chains(6))
    page.wait_for_timeout(500)
    frames.clear()
    page.get_by_test_id("run").click()
    page.get_by_text("Run done").wait_for()
    page.wait_for_function(f"Object.values({STATE}.statuses).filter((s) => s.state === 'done').length === 24")
    page.screenshot(path=str(tmp_path / "run.png"))
    context.close()

    calls = [(m.group(1), json.loads(json.loads(f'"{m.group(2)}"'))) for f in frames
             if (m := RUN_METHOD.search(f))]
    names = [name for name, _ in calls]
    assert "setStatuses" in names
    assert not {"load", "patch"} & set(names), "a run re-sent the graph"
    assert not any("aspect_ratio" in f for f in frames), "a status message carried node params"
    status_keys = {"state", "label", "progress", "error", "hint", "history"}
    pictures = []
    updates = 0
    for name, args in calls:
        if name != "setStatuses":
            continue
        for node_id, status in args[0].items():
            updates += 1
            assert set(status) <= status_keys, (node_id, status)
            for entry in status.get("history", []):
                pictures += [entry["thumb"], entry["full"]] if entry["thumb"] else []
                pictures += [url for image in entry["images"] for url in (image["thumb"], image["full"])]
    assert len(pictures) >= 12 * 2  # every generate and preview node shows its picture
    assert all(url.startswith("/flowbanana/media/") for url in pictures), pictures[:4]
    assert not any("base64" in f or "data:image" in f for f in frames), "image bytes went over the websocket"
    # statuses travel together: fewer messages than node updates (6 queued at once, then batched)
    assert len([n for n in names if n == "setStatuses"]) < updates


def test_nodes_out_of_view_are_left_out_and_come_back_when_panned_into_view(page):
    far = {"far": ({"type": "image.preview", "inputs": {"image": "gen0.image"}}, {"x": 1020, "y": 30000})}
    open_graph(page, chains(50, far))
    shown = drawn(page)
    assert "prompt0" in shown and "show49" not in shown and "far" not in shown
    assert len(shown) < 60  # of 201
    # a link to a node out of view is still drawn, from the node in view
    assert page.locator(".fb-link-hit[data-link-to='far.image']").count() == 1

    page.evaluate(f"{STATE}.centerOn('show49')")
    page.wait_for_function("document.querySelector(\".fb-node[data-node='show49']\")")
    shown = drawn(page)
    assert "prompt0" not in shown and {"prompt49", "fill49", "gen49", "show49"} <= shown
    page.wait_for_function("document.querySelector(\".fb-link-hit[data-link-to='show49.image']\")")
    page.locator(".fb-node[data-node='gen49'] [data-param='aspect_ratio']").select_option("16:9")
    page.wait_for_function(f"{STATE}.nodes.gen49.params.aspect_ratio === '16:9'")


def test_a_drag_moves_every_selected_node_in_view_or_not(page):
    open_graph(page, chains(50))
    before = page.evaluate(f"JSON.parse(JSON.stringify({STATE}.nodes))")
    page.locator(".fb-zoom-label").click()  # nothing typed into: Ctrl+A selects every node
    page.keyboard.press("Control+a")
    page.wait_for_function(f"Object.keys({STATE}.selection).length === 200")
    head = page.locator(".fb-node[data-node='gen0'] .fb-head").bounding_box()
    page.mouse.move(head["x"] + 40, head["y"] + 10)
    page.mouse.down()
    page.mouse.move(head["x"] + 140, head["y"] + 60, steps=10)
    page.mouse.up()
    page.wait_for_function(f"{STATE}.nodes.show49.x !== {before['show49']['x']}")
    after = page.evaluate(f"JSON.parse(JSON.stringify({STATE}.nodes))")
    moves = {(after[n]["x"] - before[n]["x"], after[n]["y"] - before[n]["y"]) for n in before}
    assert len(moves) == 1 and moves != {(0, 0)}  # all 200 by the same offset, those out of view too
    page.keyboard.press("Control+z")  # one edit: one undo puts them all back
    page.wait_for_function(f"{STATE}.nodes.show49.x === {before['show49']['x']}")


def test_a_result_picture_does_not_cover_the_node_below(page):
    workflow = {"format": "flowbanana/workflow", "version": 1, "name": "tight", "nodes": {
        "prompt": {"type": "text.text", "params": {"text": "a teapot"}},
        "gen": {"type": "gemini.generate", "params": {"aspect_ratio": "1:1"}, "inputs": {"prompt": "prompt.text"}},
        "below": {"type": "image.preview", "inputs": {"image": "gen.image"}}},
        "ui": {"nodes": {"prompt": {"x": 0, "y": 0}, "gen": {"x": 340, "y": 0}, "below": {"x": 380, "y": 0}}}}
    open_graph(page, workflow)
    page.wait_for_function(f"{STATE}.offsets.gen && {STATE}.offsets.gen.h > 0")
    height = page.evaluate(f"{STATE}.offsets.gen.h")
    workflow["ui"]["nodes"]["below"]["y"] = height + 140  # room for a small picture, not a 300 px one
    open_graph(page, workflow)
    page.wait_for_function(f"{STATE}.nodes.below.y === {height + 140}")
    page.get_by_test_id("run").click()
    page.get_by_text("Run done").wait_for()
    thumb = page.locator(".fb-node[data-node='gen'] .fb-thumb")
    thumb.wait_for()
    page.wait_for_function("(() => { const i = document.querySelector(\".fb-node[data-node='gen'] .fb-thumb\");"
                           " return i.complete && i.naturalHeight > 0; })()")
    page.wait_for_timeout(300)  # measured, then fitted to its room
    gen = page.locator(".fb-node[data-node='gen']").bounding_box()
    below = page.locator(".fb-node[data-node='below']").bounding_box()
    assert gen["y"] + gen["height"] <= below["y"], (gen, below)
    assert thumb.bounding_box()["height"] >= 60  # still a picture, fitted to the room
    assert thumb.get_attribute("src").startswith("/flowbanana/media/")
