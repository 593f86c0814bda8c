"""Fixtures for the server tests: a shared loopback server, a client for it, servers of one's own."""
from __future__ import annotations

from typing import Iterator

import httpx
import pytest
from PIL import Image

from serverkit import Server, prepare


@pytest.fixture(scope="session")
def photo() -> Image.Image:
    image = Image.new("RGB", (64, 48))
    image.putdata([(x * 4, y * 5, 128) for y in range(48) for x in range(64)])
    return image


@pytest.fixture(scope="session")
def server(tmp_path_factory, photo) -> Iterator[Server]:
    """One loopback server shared by the tests that only add runs."""
    running = prepare(Server(tmp_path_factory.mktemp("server")), photo).start()
    yield running
    running.stop()


@pytest.fixture
def client(server) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


@pytest.fixture
def start_server(tmp_path, photo):
    """A factory for a server of one's own (its own folder, host, token or queue size); stopped after the test."""
    started: list[Server] = []

    def start(**kwargs) -> Server:
        root = tmp_path / f"server{len(started)}"
        root.mkdir()
        started.append(prepare(Server(root, **kwargs), photo).start())
        return started[-1]

    yield start
    for s in started:
        s.stop()
