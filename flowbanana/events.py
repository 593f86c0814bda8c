"""The executor's event stream: what the CLI, the editor and (later) the HTTP API listen to.

Kinds: run_started, node_started, node_progress, node_warning, node_cached, node_finished,
node_failed, node_skipped, node_cancelled, run_finished; a batch run adds batch_status (`message`: a job
submitted, a job's new state, a wait). This is a stable contract.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    kind: str
    node: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    time: float = field(default_factory=time.time)

    def to_json(self) -> dict:
        return {"event": self.kind, "node": self.node, "time": self.time, **self.data}
