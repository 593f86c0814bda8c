"""The run-wide limiter: requests in flight and requests per minute per model."""
import asyncio

import pytest

from flowbanana.limits import CallLimiter


class FakeTime:
    """A clock that asyncio.sleep moves forward, so a minute passes instantly."""

    def __init__(self):
        self.now = 0.0
        self.real_sleep = asyncio.sleep

    def __call__(self):
        return self.now

    async def sleep(self, seconds):
        self.now += seconds
        await self.real_sleep(0)


@pytest.fixture
def fake_time(monkeypatch):
    clock = FakeTime()
    monkeypatch.setattr("flowbanana.limits.asyncio.sleep", clock.sleep)
    return clock


def test_requests_per_minute_are_spread_per_model(fake_time):
    limiter = CallLimiter(concurrency=10, rpm={"pro": 2, "*": 0}, clock=fake_time)
    starts = {"pro": [], "flash": []}

    async def call(model):
        async with limiter.slot(model):
            starts[model].append(fake_time.now)

    async def scenario():
        await asyncio.gather(*(call("pro") for _ in range(5)), *(call("flash") for _ in range(5)))

    asyncio.run(scenario())
    assert starts["pro"] == [0, 0, 60, 60, 120]
    assert len(set(starts["flash"])) == 1      # no limit for other models: all five at once


def test_concurrency_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        CallLimiter(concurrency=0)
