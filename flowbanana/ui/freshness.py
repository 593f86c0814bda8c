"""Which results a change made stale: per node, a digest of everything its result was made from.

A result is stamped with its node's digest when its run starts; once an edit changes the digest (a param of the
node or of any node upstream, a link, a subgraph), the editor dims that result until it runs again.
"""
from __future__ import annotations

import hashlib
import json

from ..workflow import Workflow


def signatures(workflow: Workflow) -> dict[str, str]:
    """Every node's digest: its type, params and subgraph, and the digests of the nodes linked into it."""
    found: dict[str, str] = {}

    def digest(node_id: str, visiting: frozenset[str]) -> str:
        if node_id in found:
            return found[node_id]
        node = workflow.nodes.get(node_id)
        if node is None or node_id in visiting:  # a link to nothing, or a cycle (refused by validation)
            return ""
        inner = node.workflow.to_dict() if isinstance(node.workflow, Workflow) else node.workflow
        inputs = {port: [f"{digest(link.node, visiting | {node_id})}.{link.output}" for link in links]
                  for port, links in node.inputs.items()}
        text = json.dumps([node.type, node.params, inner, inputs], sort_keys=True, default=str)
        found[node_id] = hashlib.sha256(text.encode()).hexdigest()[:16]
        return found[node_id]

    for node_id in workflow.nodes:
        digest(node_id, frozenset())
    return found
