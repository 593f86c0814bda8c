"""One limiter per run for provider calls: a bound on concurrent requests and on requests per minute per model."""
from __future__ import annotations

import asyncio
import time
from collections import deque
from contextlib import asynccontextmanager


class CallLimiter:
    """`async with limiter.slot(model):` around every provider request.

    `concurrency` bounds requests in flight across the whole run; `rpm` (per model, 0 = no
    limit) spaces requests so that no 60-second window holds more than `rpm` starts.
    """

    def __init__(self, concurrency: int = 4, rpm: int | dict[str, int] = 0, clock=time.monotonic):
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency
        self._rpm = rpm
        self._slots = asyncio.Semaphore(concurrency)
        self._starts: dict[str, deque[float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._clock = clock
        self.in_flight = 0
        self.peak = 0

    def rpm_for(self, model: str) -> int:
        return self._rpm.get(model, self._rpm.get("*", 0)) if isinstance(self._rpm, dict) else self._rpm

    @asynccontextmanager
    async def slot(self, model: str = "*"):
        async with self._slots:
            await self._wait_for_rate(model)
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            try:
                yield
            finally:
                self.in_flight -= 1

    async def _wait_for_rate(self, model: str) -> None:
        rpm = self.rpm_for(model)
        if rpm <= 0:
            return
        starts = self._starts.setdefault(model, deque())
        async with self._locks.setdefault(model, asyncio.Lock()):
            while True:
                now = self._clock()
                while starts and now - starts[0] >= 60.0:
                    starts.popleft()
                if len(starts) < rpm:
                    starts.append(now)
                    return
                await asyncio.sleep(60.0 - (now - starts[0]))
