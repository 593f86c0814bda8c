"""Run statuses as the canvas shows them at one level of subgraphs.

Runs report inner nodes by path (`pair/left/caption`). At the level the user looks at, an inner node of
an open subgraph shows under its own id, and a subgraph node sums up its inner nodes: failed if one
failed, running while one runs, done when all are, with the result of the node its first output is.
Nothing here imports NiceGUI.
"""
from __future__ import annotations

from dataclasses import dataclass, field

_ORDER = ("failed", "running", "queued", "cancelled", "skipped", "done", "cached")


@dataclass
class LevelStatuses:
    states: dict[str, str] = field(default_factory=dict)  # flat node id -> its latest state in this run
    errors: dict[str, str] = field(default_factory=dict)  # flat node id -> why it failed

    def clear(self) -> None:
        self.states.clear()
        self.errors.clear()

    def local(self, statuses: dict[str, dict], path: str, shown_by: dict[str, str]) -> dict[str, dict]:
        """`statuses` (by flat id) for the level at `path` ("" at the top). `shown_by` maps each subgraph node of
        that level to the flat node whose results stand for it (its first output's)."""
        for flat_id, status in statuses.items():
            if status and "state" in status:
                self.states[flat_id] = status["state"]
                if status.get("error") and status["state"] == "failed":
                    self.errors[flat_id] = status["error"]
        prefix = f"{path}/" if path else ""
        found: dict[str, dict] = {}
        for flat_id, status in statuses.items():
            if not flat_id.startswith(prefix):
                continue
            rest = flat_id[len(prefix):]
            local_id = rest.split("/")[0]
            if local_id == rest:
                found[local_id] = status
                continue
            entry = found.setdefault(local_id, {})
            if status is None or "state" in status:
                entry.update(self.summary(prefix + local_id))
            if status and "history" in status and shown_by.get(local_id) == flat_id:
                entry["history"] = status["history"]
        return found

    def summary(self, sub_path: str) -> dict:
        """A subgraph node's status from its inner nodes' states."""
        members = {k: v for k, v in self.states.items() if k.startswith(sub_path + "/")}
        if not members:
            return {}
        state = min(members.values(), key=lambda s: _ORDER.index(s) if s in _ORDER else len(_ORDER))
        if state in ("done", "cached") and any(s == "done" for s in members.values()):
            state = "done"
        finished = sum(1 for s in members.values() if s in ("done", "cached"))
        status = {"state": state, "label": f"{state}: {finished} of {len(members)} inner nodes", "progress": None,
                  "error": None, "hint": None}
        failed = next((k for k, s in members.items() if s == "failed"), None)
        if failed:
            status["error"] = f"{failed[len(sub_path) + 1:]}: {self.errors.get(failed, 'failed')}"
        return status
