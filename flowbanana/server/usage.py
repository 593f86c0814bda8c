"""Usage and estimated cost of a run so far, added up from what its finished nodes recorded in their meta."""
from __future__ import annotations

from typing import Any

COST_KEYS = ("cost", "cost_usd", "estimated_cost")


def summarise_usage(nodes: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], float | None]:
    """(token totals, cost in dollars or None) over the nodes that ran in this run (cached ones cost nothing)."""
    usage: dict[str, float] = {}
    cost: list[float] = []
    for node in nodes.values():
        if node.get("status") != "done":
            continue
        _collect(node.get("meta") or {}, usage, cost)
    return usage, (round(sum(cost), 6) if cost else None)


def _collect(meta: dict[str, Any], usage: dict[str, float], cost: list[float]) -> None:
    for item in meta.get("items", []) if isinstance(meta.get("items"), list) else []:
        if isinstance(item, dict):
            _collect(item, usage, cost)
    if isinstance(meta.get("usage"), dict):
        for key, value in meta["usage"].items():
            if _number(value):
                usage[key] = usage.get(key, 0) + value
    for key in COST_KEYS:
        if _number(meta.get(key)):
            cost.append(float(meta[key]))
            break


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
