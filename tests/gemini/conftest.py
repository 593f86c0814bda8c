"""Fixtures for the Gemini tests: the fake server, the real SDK pointed at it, and providers on it."""
from __future__ import annotations

import json

import pytest
from PIL import Image

from flowbanana.api import run_async
from flowbanana.limits import CallLimiter
from flowbanana.providers import GeminiProvider
from flowbanana.providers.retry import RetryPolicy

from fake_batches import FakeBatches
from fake_gemini import FAKE_KEY, FakeGemini

KEY_VARIABLES = ("GEMINI_API_KEY", "GOOGLE_API_KEY", "NANO_BANANA_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI",
                 "GOOGLE_GENAI_USE_ENTERPRISE", "GOOGLE_CLOUD_PROJECT", "GOOGLE_GENAI_API_VERSION",
                 "GOOGLE_GEMINI_BASE_URL", "FLOWBANANA_CONFIG")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No real key, proxy or config file from the machine running the tests leaks in."""
    for name in KEY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config-home"))


@pytest.fixture
def fake():
    server = FakeGemini().start()
    yield server
    server.stop()


@pytest.fixture
def batches(fake) -> FakeBatches:
    """The fake's Batch and Files APIs, on the same server."""
    return FakeBatches(fake)


@pytest.fixture
def gemini_env(fake, monkeypatch):
    """The environment of a user with a key, whose SDK talks to the fake server."""
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.url)
    monkeypatch.setenv("GEMINI_API_KEY", FAKE_KEY)
    return fake


class RecordingSleep:
    """Stands in for asyncio.sleep in the provider: records each wait, waits not at all."""

    def __init__(self):
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
async def provider(gemini_env, sleeps):
    made = GeminiProvider(timeout=2.0, retry=RetryPolicy(attempts=3), sleep=sleeps)
    yield made
    await made.aclose()


@pytest.fixture
def limiter() -> CallLimiter:
    return CallLimiter(concurrency=4)


@pytest.fixture
def wf_dir(tmp_path):
    folder = tmp_path / "wf"
    folder.mkdir()
    return folder


@pytest.fixture
def photo(wf_dir):
    """wf/photo.png, 120×90 with a different colour in every pixel, so any change shows."""
    image = Image.new("RGB", (120, 90))
    image.putdata([(x * 2, y * 2, (x * y) % 256) for y in range(90) for x in range(120)])
    image.save(wf_dir / "photo.png")
    return image


@pytest.fixture
def run_workflow(catalogue, wf_dir, tmp_path):
    """Write `nodes` as wf/wf.json and run the file through flowbanana.run_async: (result, events)."""
    async def run(nodes: dict, provider, **options):
        path = wf_dir / "wf.json"
        path.write_text(json.dumps({"format": "flowbanana/workflow", "version": 2, "name": "t", "nodes": nodes}))
        events = []
        result = await run_async(path, provider=provider, out_dir=tmp_path / "out", cache_dir=tmp_path / "cache",
                                 nodes=catalogue, on_event=events.append, **options)
        return result, events
    return run
