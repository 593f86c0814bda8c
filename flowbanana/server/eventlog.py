"""One run's event stream: kept in memory while the run lives, appended to its events.jsonl, replayable.

Each event gets a sequence number (its SSE id), so a listener that joins late, or reconnects with
Last-Event-ID, sees every event from the one it names on, exactly once.
"""
from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, AsyncIterator


class EventLog:
    def __init__(self, path: Path):
        self.events: list[dict[str, Any]] = []
        self.closed = False
        self._file = path.open("a", encoding="utf-8")
        self._changed = asyncio.Event()

    def append(self, event: dict[str, Any]) -> None:
        """Call on the event loop's thread only."""
        event = {"seq": len(self.events), **event}
        self.events.append(event)
        self._file.write(json.dumps(event, default=str) + "\n")  # flushed with the record, and on close
        self._wake()

    def flush(self) -> None:
        if not self.closed:
            self._file.flush()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._file.close()
            self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def follow(self, after: int = -1) -> AsyncIterator[dict[str, Any]]:
        """Every event with seq > `after`, then each new one as it comes, until the run ends."""
        index = after + 1
        while True:
            changed = self._changed
            while index < len(self.events):
                yield self.events[index]
                index += 1
            if self.closed:
                return
            await changed.wait()
