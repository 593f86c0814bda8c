"""The editor's Batch option: a run sent as Gemini Batch API jobs, or the reason it cannot be."""
from __future__ import annotations

import pytest

from test_editor import open_template
from test_models_in_editor import with_model

pytestmark = pytest.mark.browser


def test_batch_runs_need_gemini_and_say_so_before_anything_runs(page, editor_server):
    assert "offline preview" in page.locator("[data-testid=provider-badge]").inner_text()
    page.locator("[data-testid=batch]").click()
    page.locator("[data-testid=run]").click()
    page.get_by_text("Not run: a batch run sends its model calls to Gemini's Batch API, so it needs Gemini: set an "
                     "API key, or run without batch.").wait_for()
    assert not (editor_server.out / "runs").exists() or not any((editor_server.out / "runs").glob("*/run.json"))
    page.locator("[data-testid=batch]").click()  # off again: the same workflow runs on the offline preview
    page.locator("[data-testid=run]").click()
    page.get_by_text("Run done").wait_for()


def test_a_batch_run_refused_for_a_node_offers_to_run_that_node_direct(gemini_page, gemini_editor, fake_gemini,
                                                                       fake_batches):
    page = gemini_page
    open_template(page, with_model(page, gemini_editor, "searched", search="web"))  # grounding: not batched
    page.locator("[data-testid=batch]").click()
    page.locator("[data-testid=run]").click()
    notice = page.locator("[data-testid=notice]", has_text="the Batch API cannot take the calls of 1 node "
                                                           "('generate': its search is on")
    notice.wait_for()
    assert "Run it direct, at the full price" in notice.inner_text()
    assert not fake_gemini.calls and not fake_batches.creates  # nothing sent yet
    assert not page.get_by_text("Waiting in the run queue").count()  # no other run: nothing to wait for
    button = notice.get_by_role("button", name="Run those direct")
    button.wait_for()
    page.wait_for_timeout(1000)  # only for the screenshot: the toast's slide-in animation ends
    page.screenshot(path="test-artifacts/batch-run-direct-offer.png")
    button.click()
    page.get_by_text("Run done").wait_for()
    assert [c.search for c in fake_gemini.calls] == [{"web"}] and not fake_batches.creates  # direct, once
    assert not notice.is_visible()
