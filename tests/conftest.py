"""Fixtures shared by every test folder; each folder may add its own conftest.py beside its tests."""
from __future__ import annotations

from pathlib import Path

import pytest

from flowbanana.cache import Cache
from flowbanana.catalogue import Catalogue, load_catalogue
from flowbanana.workflow import Workflow, from_dict

TESTS = Path(__file__).parent
ROOT = TESTS.parent


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    """The installed packs plus tests/packs (the engine's test nodes)."""
    return load_catalogue([TESTS / "packs"])


@pytest.fixture
def cache(tmp_path) -> Cache:
    return Cache(tmp_path / "cache")


def workflow_from(nodes: dict, **top) -> Workflow:
    return from_dict({"format": "flowbanana/workflow", "version": 2, "name": top.pop("name", "test"),
                      "nodes": nodes, **top})


@pytest.fixture
def make_workflow():
    """A factory: `make_workflow({"a": {"type": ...}}, name=...)` builds a model as if read from a file."""
    return workflow_from
