"""One google-genai client per key and endpoint for the whole process: runs share it, and its connections."""
from __future__ import annotations

import pytest

from flowbanana.node_api import NodeError
from flowbanana.providers import GeminiProvider, Request
from flowbanana.providers.clients import CLIENTS
from fake_gemini import FAKE_KEY

OTHER_KEY = "AIzaOTHER-key-for-another-project-000000"
SHOT = {"shot": {"type": "gemini.generate", "params": {"prompt": "a red bicycle", "aspect_ratio": "1:1"}},
        "save": {"type": "image.save", "params": {"filename": "bike.png"}, "inputs": {"image": "shot.image"}}}


async def test_two_runs_in_one_process_share_one_client_and_its_connection(gemini_env, run_workflow):
    first, _ = await run_workflow(SHOT, "gemini")
    again = {**SHOT, "shot": {**SHOT["shot"], "params": {**SHOT["shot"]["params"], "prompt": "a blue bicycle"}}}
    second, _ = await run_workflow(again, "gemini")  # a run of its own: its own provider, made by prepare_run
    assert first.ok and second.ok and [c.prompt for c in gemini_env.calls] == ["a red bicycle", "a blue bicycle"]
    assert len(set(gemini_env.ports)) == 1  # the second run's request went over the first run's connection


async def test_providers_share_the_client_of_their_key_and_a_new_key_gets_its_own(gemini_env, limiter, monkeypatch):
    one, two = GeminiProvider(), GeminiProvider()
    request = Request(model="gemini-3.1-flash-image", prompt="a kettle")
    await one.generate(request, limiter)
    await two.generate(request, limiter)
    assert one._client is two._client
    monkeypatch.setenv("GEMINI_API_KEY", OTHER_KEY)
    other = GeminiProvider()
    with pytest.raises(NodeError, match="rejected the API key"):  # the fake knows only FAKE_KEY, but it was sent
        await other.generate(request, limiter)
    assert other._client is not one._client
    assert [h["x-goog-api-key"] for h in gemini_env.headers_seen] == [FAKE_KEY, FAKE_KEY, OTHER_KEY]
    kept = repr(CLIENTS) + repr(list(CLIENTS._clients))  # what the pool keeps knows the keys by digest only
    assert FAKE_KEY not in kept and OTHER_KEY not in kept and "AIza" not in kept
