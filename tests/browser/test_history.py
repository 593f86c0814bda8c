"""The History tab in a real browser: runs from the editor and from the HTTP API are listed with a thumbnail and
status as they happen; a past run's workflow opens in the editor, and re-running it goes through the queue."""
from __future__ import annotations

import json
import urllib.request

import pytest

from test_editor import STATE, discard_if_asked, nodes

pytestmark = pytest.mark.browser

SHOTS = {
    "format": "flowbanana/workflow", "version": 2, "name": "History shots",
    "inputs": {"prompt": {"node": "prompt", "param": "text"}},
    "nodes": {"prompt": {"type": "text.text", "params": {"text": "a teapot on a table"}},
              "generate": {"type": "gemini.generate", "inputs": {"prompt": "prompt.text"}},
              "save": {"type": "image.save", "params": {"filename": "shot.png"}, "inputs": {"image": "generate.image"}}},
}


def row(page, run_id: str | None = None, status: str | None = None):
    selector = "[data-testid=history-run]" + (f"[data-run='{run_id}']" if run_id else "") + \
        (f"[data-status='{status}']" if status else "")
    return page.locator(selector)


def thumb_loaded(page, run_id: str) -> str:
    """The row's thumbnail once the browser has drawn it; returns its URL."""
    selector = f"[data-run='{run_id}'] img[data-testid=history-thumb]"
    page.wait_for_function(f"document.querySelector(\"{selector}\")?.naturalWidth > 0")
    return page.locator(selector).get_attribute("src")


def submit(editor_server, body: dict) -> dict:
    request = urllib.request.Request(editor_server.url + "api/runs", data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request) as response:
        assert response.status == 202
        return json.loads(response.read())


def test_history_lists_editor_and_api_runs_opens_and_reruns_them(page, editor_server):
    (editor_server.workflows / "history-shots.json").write_text(json.dumps(SHOTS))
    page.reload()  # the File menu lists the new template
    page.wait_for_function(f"{STATE} && Object.keys({STATE}.nodes).length > 0")
    page.click("[data-testid=file-menu]")
    page.click("[data-testid=template-history-shots]")
    discard_if_asked(page, f"{STATE}.nodes.save !== undefined")

    page.click("[data-testid=run]")
    page.locator("[data-testid=run-status]").wait_for(timeout=30000)
    page.click("[data-testid=history-tab]")
    mine = row(page, status="done").first
    mine.wait_for()
    editor_run = mine.get_attribute("data-run")
    assert "editor" in mine.inner_text() and "History shots" in mine.inner_text()
    assert thumb_loaded(page, editor_run) == f"/api/runs/{editor_run}/files/shot.png"  # by URL, never base64

    api_run = submit(editor_server, {"workflow": SHOTS, "inputs": {"prompt": "a kite over a beach"}})["id"]
    row(page, api_run, "done").wait_for(timeout=30000)  # appears without a reload, and finishes live
    assert row(page).first.get_attribute("data-run") == api_run  # newest first
    assert "API" in row(page, api_run).inner_text()
    thumb_loaded(page, api_run)
    with page.expect_download() as download:
        row(page, api_run).locator("[data-testid=history-download]").click()
        page.get_by_role("link", name="shot.png").click()
    assert download.value.suggested_filename == "shot.png"

    row(page, api_run).locator("[data-testid=history-open]").click()  # the run's workflow, with its inputs
    discard_if_asked(page, f"{STATE}.nodes.prompt && {STATE}.nodes.prompt.params.text === 'a kite over a beach'")
    assert set(nodes(page)) == {"prompt", "generate", "save"}

    row(page, api_run).locator("[data-testid=history-rerun]").click()
    again = page.locator("[data-testid=history-run][data-status=done]", has_text="re-run")
    again.wait_for(timeout=30000)
    assert row(page).count() == 3
    rerun_id = again.get_attribute("data-run")
    with urllib.request.urlopen(f"{editor_server.url}api/runs/{rerun_id}") as response:
        record = json.loads(response.read())
    assert record["inputs"] == {"prompt": "a kite over a beach"} and record["origin"] == f"rerun of {api_run}"
    assert record["nodes"]["generate"]["status"] == "cached"  # the model call came from the cache


def test_history_pages_with_load_more(page, editor_server):
    quick = {"format": "flowbanana/workflow", "version": 2, "name": "Quick",
             "nodes": {"n": {"type": "test.number", "params": {"value": 1}},
                       "show": {"type": "test.show", "inputs": {"value": "n.value"}}}}
    for _ in range(21):
        submit(editor_server, {"workflow": quick})
    page.click("[data-testid=history-tab]")
    more = page.locator("[data-testid=history-more]")
    more.wait_for()
    assert row(page).count() == 20  # a page at a time, newest first
    more.click()
    page.wait_for_function("document.querySelectorAll('[data-testid=history-run]').length > 20")
    total = int(page.locator("[data-testid=history-count]").inner_text().split()[0])
    assert row(page).count() == min(total, 40) and total >= 21
