"""The editor's modules import one another in one direction only: the dialogs (mask painter, compare, sharing,
sweeps) take what they share from tab.py, never from editor.py, and no chain of imports comes back to where it
started."""
from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

import flowbanana.ui

UI = Path(flowbanana.ui.__file__).parent


def imports() -> nx.DiGraph:
    """ui module -> the ui modules it imports (`from .x import ...`, at any depth in the file)."""
    graph = nx.DiGraph()
    for path in UI.glob("*.py"):
        graph.add_node(path.stem)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                graph.add_edge(path.stem, node.module.split(".")[0])
    return graph


def test_no_two_ui_modules_import_each_other():
    graph = imports()
    assert {"editor", "tab", "mask_editor", "compare", "sharing"} <= set(graph)
    assert list(nx.simple_cycles(graph)) == []


def test_only_the_app_imports_the_editor():
    assert set(imports().predecessors("editor")) == {"app"}
