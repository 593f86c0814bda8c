"""Path rules for the server: what is inside what, and server paths turned into run-relative names."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def relative_file(path: str, outputs: Path) -> str | None:
    """A file the run wrote, named relative to its outputs folder; None if it lies elsewhere."""
    resolved = Path(path).resolve()
    root = outputs.resolve()
    return resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else None


def public_meta(meta: Any, outputs: Path) -> Any:
    """Node meta or outputs with the run's file paths made relative to its outputs folder, JSON-safe."""
    return _Publisher(outputs).clean(meta)


def public_event(event: dict[str, Any], outputs: Path) -> dict[str, Any]:
    """An executor event as listeners outside the process see it."""
    event = dict(event)
    if "out_dir" in event:
        event["out_dir"] = "outputs"
    publisher = _Publisher(outputs)
    for key in ("meta", "outputs"):
        if key in event:
            event[key] = publisher.clean(event[key])
    return event


class _Publisher:
    def __init__(self, outputs: Path):
        self.outputs = outputs
        self.prefix = str(outputs) + os.sep  # the store hands out resolved run folders

    def clean(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: self._files(item) if key == "files" and isinstance(item, list) else self.clean(item)
                    for key, item in value.items()}
        if isinstance(value, list):
            return [self.clean(v) for v in value]
        if isinstance(value, str):
            return value[len(self.prefix):] if value.startswith(self.prefix) else value
        if value is None or isinstance(value, (int, float, bool)):
            return value
        return str(value)

    def _files(self, files: list) -> list[str]:
        return [r for r in (relative_file(str(f), self.outputs) for f in files) if r is not None]
