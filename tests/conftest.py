"""Fixtures shared by every test folder; each folder may add its own conftest.py beside its tests."""
from __future__ import annotations

import importlib.util
import sys
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


def gemini_test_module(name: str):
    """A module of tests/gemini (the fake Gemini API), loaded by path: test folders are not packages."""
    key = f"shared_{name}"
    module = sys.modules.get(key)
    if module is None:
        spec = importlib.util.spec_from_file_location(key, TESTS / "gemini" / f"{name}.py")
        module = sys.modules[key] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


@pytest.fixture
def fake_gemini():
    """tests/gemini's fake Gemini API, a real HTTP server, for tests in other folders."""
    module = gemini_test_module("fake_gemini")
    fake = module.FakeGemini().start()
    fake.key = module.FAKE_KEY
    yield fake
    fake.stop()


@pytest.fixture
def fake_batches(fake_gemini):
    """The fake's Batch and Files APIs, on the same server."""
    return gemini_test_module("fake_batches").FakeBatches(fake_gemini)
