"""The workflow as a networkx DiGraph: one vertex per node, one edge per source/target pair."""
from __future__ import annotations

import networkx as nx

from .workflow import Workflow


def build_graph(workflow: Workflow) -> nx.DiGraph:
    """Edges carry `links`: the (output, port) pairs from source to target. Links to missing nodes are left out."""
    graph = nx.DiGraph()
    for node_id, node in workflow.nodes.items():
        graph.add_node(node_id, type=node.type)
    for node_id, node in workflow.nodes.items():
        for port, links in node.inputs.items():
            for link in links:
                if link.node not in workflow.nodes:
                    continue
                if graph.has_edge(link.node, node_id):
                    graph.edges[link.node, node_id]["links"].append((link.output, port))
                else:
                    graph.add_edge(link.node, node_id, links=[(link.output, port)])
    return graph


def cycles(graph: nx.DiGraph) -> list[list[str]]:
    """Each group of nodes that depend on each other, in a readable order."""
    groups = [sorted(c) for c in nx.strongly_connected_components(graph)
              if len(c) > 1 or graph.has_edge(next(iter(c)), next(iter(c)))]
    return sorted(groups)


def critical_path_length(graph: nx.DiGraph, weight: str = "seconds") -> float:
    """The longest chain of node weights: no schedule can finish sooner."""
    longest: dict[str, float] = {}
    for node in nx.topological_sort(graph):
        before = max((longest[p] for p in graph.predecessors(node)), default=0.0)
        longest[node] = before + graph.nodes[node].get(weight, 0.0)
    return max(longest.values(), default=0.0)
