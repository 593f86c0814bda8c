"""The editor's Batch option: a run sent as Gemini Batch API jobs, or the reason it cannot be."""
from __future__ import annotations

import pytest

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
