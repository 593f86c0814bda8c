"""What one run may use: provider calls (concurrent, per minute per model) and memory (pixels, items, bytes)."""
from __future__ import annotations

import asyncio
import time
from collections import deque
from contextlib import asynccontextmanager
from dataclasses import dataclass

MAX_PIXELS = 64_000_000  # per image: what flowbanana reads, makes or keeps (the server's decompression-bomb guard)


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


@dataclass(frozen=True)
class RunLimits:
    """How much one run may hold, so that no workflow (a 500-byte request, say) can exhaust the machine.

    Each check returns (message, hint) for a NodeError, or None when the value is within bounds.
    """
    max_pixels: int = MAX_PIXELS             # per image, on every node's output (as on every image read)
    max_items: int = 10_000                  # items in one node's list, mapped over or returned
    max_image_bytes: int | None = None       # all images the run holds at once (None: no bound; servers set one)

    def pixels_problem(self, width: int, height: int, what: str) -> tuple[str, str] | None:
        if width * height <= self.max_pixels:
            return None
        return (f"{what} would be {width}×{height} pixels ({width * height:,}), over the limit of "
                f"{self.max_pixels:,} pixels per image.",
                "Make it smaller (image.resize, a smaller size or scale).")

    def items_problem(self, count: int, what: str) -> tuple[str, str] | None:
        if count <= self.max_items:
            return None
        return (f"{what} is a list of {count:,} items, over the limit of {self.max_items:,} per node.",
                "Use a shorter list (the limit param of list.from_csv or image.load_folder), or split the work "
                "into several runs.")

    def memory_problem(self, held: int, adding: int) -> tuple[str, str] | None:
        if self.max_image_bytes is None or held + adding <= self.max_image_bytes:
            return None
        return (f"the run would hold {_mb(held + adding)} of images, over its limit of {_mb(self.max_image_bytes)}.",
                "Use fewer or smaller images in one run (image.resize earlier, a shorter list), or split the work "
                "into several runs.")


def _mb(count: int) -> str:
    return f"{count / 2**20:,.0f} MB"
