"""Path rules for the server: what is inside what, and server paths turned into run-relative names."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def inside(path: Path, root: Path) -> bool:
    """Whether `path` (links followed) lies within `root`."""
    return Path(path).resolve().is_relative_to(Path(root).resolve())


def relative_file(path: str, outputs: Path) -> str | None:
    """A file the run wrote, named relative to its outputs folder; None if it lies elsewhere."""
    resolved = Path(path).resolve()
    root = outputs.resolve()
    return resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else None


def public_meta(meta: Any, outputs: Path) -> Any:
    """Node meta or outputs with the run's file paths made relative to its outputs folder, JSON-safe."""
    if isinstance(meta, dict):
        clean = {}
        for key, value in meta.items():
            if key == "files" and isinstance(value, list):
                clean[key] = [r for r in (relative_file(str(v), outputs) for v in value) if r is not None]
            else:
                clean[key] = public_meta(value, outputs)
        return clean
    if isinstance(meta, list):
        return [public_meta(v, outputs) for v in meta]
    if isinstance(meta, str):
        root = str(outputs.resolve()) + os.sep
        return meta[len(root):] if meta.startswith(root) else meta
    if meta is None or isinstance(meta, (int, float, bool)):
        return meta
    return str(meta)


def public_event(event: dict[str, Any], outputs: Path) -> dict[str, Any]:
    """An executor event as listeners outside the process see it."""
    event = dict(event)
    if "out_dir" in event:
        event["out_dir"] = "outputs"
    if "meta" in event:
        event["meta"] = public_meta(event["meta"], outputs)
    if "outputs" in event:
        event["outputs"] = public_meta(event["outputs"], outputs)
    return event
