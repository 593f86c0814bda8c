"""Items, not whole lists: how a list moves through a run one item at a time.

A node fed a list on a single-value input runs once per item. Its `ItemStream` publishes each item as
soon as it is made, so the nodes it feeds start on row 1 while row 500 is still being made; a node that
takes the whole list (a list port: grid, count, pick) waits for the producer to finish, as before.

Memory stays bounded: an item's outputs are held for the readers that have yet to take them and then
let go (the cache keeps them), and a producer runs at most `window` items ahead of its slowest reader.

A list output (gemini.generate's variations) is joined over the items. When the output says how long
each item's list is (`Output.length`), position j is item j // k at once. Otherwise positions are known
while every item gave exactly one value (the stream is *aligned*): position j is item j once items
0..j are settled; once an item gives another number, readers of that port wait for the whole list.
A stream's length is *final* once the lists it is made from are; `Settled.aligned` tells a reader
pairing several lists whether an item's position is still its row's.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Callable


class Missing(Exception):
    """The item asked for was not made: its producer failed on it, or stopped before it."""

    def __init__(self, node_id: str, reason: str):
        super().__init__(reason)
        self.node_id = node_id
        self.reason = reason


@dataclass(slots=True)
class Settled:
    """One item's outcome: outputs (list ports as lists), their digests, what the call recorded."""
    outputs: dict[str, Any] | None  # None: not made (see error)
    digests: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    hit: bool = False
    error: str = ""
    cause: str = ""       # the node that did not make it
    aligned: bool = True  # its index is its row's: each list it was made from was still one value per row
    seconds: float = 0.0


class ListSource:
    """A whole list a finished node made, read position by position like a stream."""

    def __init__(self, values: list, digests: list[str]):
        self.values, self.digests = values, digests

    def length(self, port: str) -> tuple[int, bool]:
        return len(self.values), True

    async def get(self, port: str, position: int, reader: str) -> tuple[Any, str, bool]:
        return self.values[position], self.digests[position], True

    def attach(self, reader: str, port: str, wake: Callable[[], None]) -> None:
        pass

    def release(self, position: int, reader: str) -> None:
        pass

    def detach(self, reader: str) -> None:
        pass


class ItemStream:
    """The items of one node that runs once per item, for the nodes it feeds item by item."""

    def __init__(self, node_id: str, count: int, final: bool, list_ports: dict[str, int | None], window: int):
        self.node_id = node_id
        self.count = count            # items to make (may change until `final`)
        self.final = final            # the count can no longer change
        self.list_ports = list_ports  # list outputs, joined over the items: port -> each item's length, if fixed
        self.window = window
        self.items: list[Settled | None] = [None] * count
        self.aligned = True           # every item so far gave one value on each list port of unknown length
        self.closed = False
        self._prefix = 0                           # items 0.._prefix-1 are settled
        self._done: set[int] = set()               # items the producer is finished with, above _own_low
        self._own_low = 0
        self._readers: dict[str, _Reader] = {}
        self._live: dict[int, tuple[dict[str, Any], set[str]]] = {}  # outputs kept for readers yet to take them
        self._waiters: dict[int, list[asyncio.Future]] = {}
        self._changed = asyncio.Event()            # wakes this node's pump: room in the window, a source changed
        self._joined: dict[str, list[tuple[int, int]]] = {}

    # ---- the producer's side

    def resize(self, count: int, final: bool) -> None:
        if count > len(self.items):
            self.items.extend([None] * (count - len(self.items)))
        changed = (count, final) != (self.count, self.final)
        self.count, self.final = count, final
        if changed:
            self._notify()

    async def room(self, index: int) -> None:
        """Wait until item `index` is within `window` of the slowest reader (and of this node's own work)."""
        while index >= self._low() + self.window:
            await self.changed()

    async def changed(self) -> None:
        """Wait for anything that may let work go on: an item taken or finished, a source's length known."""
        self._changed.clear()
        await self._changed.wait()

    def wake(self) -> None:
        self._changed.set()

    def settle(self, index: int, item: Settled) -> None:
        """Item `index` is made (or failed): readers may take it now."""
        self.items[index] = item
        if item.outputs is not None and self.aligned and any(
                len(item.outputs.get(port) or []) != 1 for port, k in self.list_ports.items() if k is None):
            self.aligned = False
            self._notify()
        if item.outputs is not None:
            pending = {name for name, reader in self._readers.items() if not reader.past(index)}
            if pending:
                self._live[index] = (item.outputs, pending)
        self._wake(index)
        while self._prefix < len(self.items) and self.items[self._prefix] is not None:
            self._wake(self._prefix)
            self._prefix += 1

    def keep(self, index: int, outputs: dict[str, Any]) -> None:
        """What to keep of item `index` once readers have it: the cached refs rather than the pictures."""
        item = self.items[index]
        if item is not None and item.outputs is not None:
            item.outputs = outputs

    def finish(self, index: int) -> None:
        """The producer is done with item `index` (it counts no more against the window)."""
        self._done.add(index)
        while self._own_low in self._done:
            self._done.discard(self._own_low)
            self._own_low += 1
        self._changed.set()

    def close(self) -> None:
        """No more items will come; positions not made are missing from now on."""
        self.closed = self.final = True
        if not self.aligned:
            for port in (p for p, k in self.list_ports.items() if k is None):
                self._joined[port] = [(i, n) for i, item in enumerate(self.items[:self.count])
                                      if item is not None and item.outputs is not None
                                      for n in range(len(item.outputs.get(port) or []))]
        self._live.clear()
        for position in list(self._waiters):
            self._wake(position)
        self._notify()

    # ---- the readers' side

    def length(self, port: str) -> tuple[int | None, bool]:
        """How many positions `port` has, and whether that is final (None: unknown until the producer closes)."""
        if port not in self.list_ports:
            return self.count, self.final
        k = self.list_ports[port]
        if k is not None:
            return self.count * k, self.final
        if not self.aligned:
            return (len(self._joined[port]), True) if self.closed else (None, False)
        return self.count, self.closed

    def attach(self, reader: str, port: str, wake: Callable[[], None]) -> None:
        """`reader` takes positions of `port` one by one from now on; `wake` it when lengths change."""
        self._readers[reader] = _Reader(wake, self.list_ports.get(port) or 1)

    def release(self, position: int, reader: str) -> None:
        """`reader` is done with `position` (taken or not: it may have been skipped)."""
        state = self._readers.get(reader)
        if state is None:
            return
        state.take(position)
        for index in [i for i, (_, pending) in self._live.items() if reader in pending and state.past(i)]:
            self._taken(index, reader)
        self._changed.set()

    def detach(self, reader: str) -> None:
        self._readers.pop(reader, None)
        for index in [i for i, (_, pending) in self._live.items() if reader in pending]:
            self._taken(index, reader)
        self._changed.set()

    async def get(self, port: str, position: int, reader: str) -> tuple[Any, Any, bool]:
        """The value and digest at `position` of output `port`, waiting until it is made, and whether that
        position is still its row's (see `Settled.aligned`)."""
        while True:
            found = self._find(port, position)
            if found is not None:
                index, k = found
                item = self.items[index]
                if item is None or item.outputs is None:
                    raise Missing(item.cause if item and item.cause else self.node_id,
                                  item.error if item else "it was not made")
                live = self._live.get(index)
                outputs = live[0] if live else item.outputs
                value, digest = outputs[port], item.digests.get(port, "")
                if k is not None:
                    value, digest = value[k], digest[k] if isinstance(digest, list) else digest
                positional = item.aligned and (self.list_ports.get(port, 1) is not None or self.aligned)
                self.release(position, reader)
                return value, digest, positional
            if self.closed:
                raise Missing(self.node_id, "it stopped before making it")
            future = asyncio.get_running_loop().create_future()
            self._waiters.setdefault(position, []).append(future)
            try:
                await future
            finally:
                waiting = self._waiters.get(position)
                if waiting and future in waiting:
                    waiting.remove(future)

    def _find(self, port: str, position: int) -> tuple[int, int | None] | None:
        """Which item (and which value of a list output) holds `position`, once that is known."""
        if port not in self.list_ports:
            return (position, None) if position < len(self.items) and self.items[position] is not None else None
        k = self.list_ports[port]
        if k is not None:
            index, n = divmod(position, k)
            return (index, n) if index < len(self.items) and self.items[index] is not None else None
        if self.aligned:
            if self._prefix > position or (self.closed and position < len(self.items)):
                return position, 0
            return None
        if self.closed:
            joined = self._joined[port]
            return joined[position] if position < len(joined) else None
        return None

    def _taken(self, index: int, reader: str) -> None:
        _, pending = self._live[index]
        pending.discard(reader)
        if not pending:
            del self._live[index]

    def _low(self) -> int:
        if self.aligned:
            return min([self._own_low, *(reader.low // reader.k for reader in self._readers.values())])
        return self._own_low  # positions wait for the whole list: readers do not hold the producer back

    def _wake(self, position: int) -> None:
        for future in self._waiters.pop(position, []):
            if not future.done():
                future.set_result(None)
        if self.list_ports:  # a position of a joined list may name a later item: wake those readers too
            for k in {k for k in self.list_ports.values() if k and k > 1}:
                for p in range(position * k, position * k + k):
                    for future in self._waiters.pop(p, []):
                        if not future.done():
                            future.set_result(None)

    def _notify(self) -> None:
        for reader in list(self._readers.values()):
            reader.wake()
        self._changed.set()


class _Reader:
    """The positions one reader has taken: the lowest it has not bounds how far the producer runs ahead."""

    def __init__(self, wake: Callable[[], None], k: int):
        self.wake = wake
        self.k = k  # positions per item of the port it reads
        self.low = 0
        self._taken: set[int] = set()  # above `low`

    def take(self, position: int) -> None:
        if position >= self.low:
            self._taken.add(position)
        while self.low in self._taken:
            self._taken.discard(self.low)
            self.low += 1

    def past(self, index: int) -> bool:
        """Whether every position of item `index` is taken."""
        return self.low >= (index + 1) * self.k
