"""Run statuses on their way to the page, coalesced so a busy run cannot flood the websocket.

A run reports every node several times (queued, running, progress, done, its result); the page needs only the
latest of each, at most about ten times a second. `StatusBatch` merges the updates per node as the canvas does
(a dict is merged into the node's status, None removes it) and hands them on in one call: at once when nothing
went out in the last `interval` seconds, else at the end of that interval. Nothing here imports NiceGUI.
"""
from __future__ import annotations

import asyncio
import time
from typing import Callable

INTERVAL = 0.1  # seconds between two sends at most; one animation frame is 1/60 s, a status needs no more


class StatusBatch:
    def __init__(self, send: Callable[[dict[str, dict | None]], None], interval: float = INTERVAL):
        self._send = send
        self.interval = interval
        self._pending: dict[str, dict | None] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._last = 0.0  # monotonic time of the last send

    def add(self, statuses: dict[str, dict | None]) -> None:
        for node_id, status in statuses.items():
            if node_id in self._pending and self._pending[node_id] is None and status is not None:
                self.flush()  # a removal, then a new status: the page must see both, in order
            if status is None or self._pending.get(node_id) is None:
                self._pending[node_id] = None if status is None else dict(status)
            else:
                self._pending[node_id].update(status)
        if not self._pending or self._timer is not None:
            return
        wait = self._last + self.interval - time.monotonic()
        if wait <= 0:
            self.flush()
        else:
            self._timer = asyncio.get_running_loop().call_later(wait, self.flush)

    def flush(self) -> None:
        """Send what is pending now (before anything that must come after it, such as clearing the statuses)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        self._last = time.monotonic()
        self._send(pending)
