"""google-genai clients shared by every run of the process: one per key and endpoint, made once.

A server or the editor runs many workflows; each run used to make (and close) a client of its own, paying for
the SDK's client set-up and new connections every time. Runs now take the client made for the same key, base
URL, Vertex AI project, API version and timeout. The SDK keeps one connection pool per event loop inside a
client, so runs on different loops can share it too; a front end whose loop ends with its run (the CLI) closes
them first (`aclose`). Only a digest of the key is kept
here, never the key; the pool's repr shows neither.
"""
from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from typing import Callable

from .keys import uses_vertex

KEEP = 4  # clients kept; when keys or endpoints change more often than this, the oldest is let go
_SETTINGS = ("GOOGLE_GEMINI_BASE_URL", "GOOGLE_VERTEX_BASE_URL", "GOOGLE_GENAI_API_VERSION", "GOOGLE_CLOUD_PROJECT",
             "GOOGLE_CLOUD_LOCATION")  # what the SDK reads from the environment when it makes a client


class ClientPool:
    def __init__(self, keep: int = KEEP):
        self.keep = keep
        self._clients: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str | None, timeout: float, make: Callable[[], object]):
        """The client for `key` (None: the SDK finds its own credentials) at this endpoint; `make()` it if none yet.
        Blocks while a client is made: call it from a worker thread."""
        ident = _identity(key, timeout)
        with self._lock:
            client = self._clients.get(ident)
            if client is None:
                client = self._clients[ident] = make()
                while len(self._clients) > self.keep:  # runs still holding it keep it alive; it closes when freed
                    self._clients.popitem(last=False)
            self._clients.move_to_end(ident)
            return client

    async def aclose(self) -> None:
        """Close every client's connections and forget the clients: for an `asyncio.run` (the CLI, `flowbanana.run`)
        that is done with Gemini, before its loop ends. A server never needs it."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), OrderedDict()
        for client in clients:
            await client.aio.aclose()

    def __len__(self) -> int:
        return len(self._clients)

    def __repr__(self) -> str:
        return f"<ClientPool: {len(self._clients)} of at most {self.keep} clients>"


def _identity(key: str | None, timeout: float) -> tuple:
    digest = hashlib.sha256(key.encode()).hexdigest() if key else None
    return digest, uses_vertex(), timeout, *(os.environ.get(name) for name in _SETTINGS)


CLIENTS = ClientPool()
