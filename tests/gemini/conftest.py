"""Fixtures for the Gemini tests: the fake server, the real SDK pointed at it, and providers on it."""
from __future__ import annotations

import pytest

from flowbanana.limits import CallLimiter
from flowbanana.providers import GeminiProvider
from flowbanana.providers.retry import RetryPolicy

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
