"""The workflows folder (templates and saves), which workflow a tab opens with, and its autosave records."""
from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import WorkflowInvalid
from ..sources import open_workflow
from ..workflow import Workflow, loads

EXAMPLE = "hello-gemini.json"  # the example a new user sees first, when the folder has it
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def templates(folder: Path) -> list[tuple[Path, str]]:
    """Every workflow file in the folder with its name, sorted by file name; unreadable files are left out."""
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            name = json.loads(path.read_text(encoding="utf-8")).get("name") or path.stem
        except (OSError, ValueError, AttributeError):
            continue
        found.append((path, str(name)))
    return found


def first_workflow(folder: Path, file: Path | None) -> Workflow:
    """The file given on the command line (a .json, an image made by flowbanana, a .zip bundle), else the
    example, else any template, else an empty workflow."""
    candidates = [file] if file else []
    candidates += [folder / EXAMPLE] + [path for path, _ in templates(folder)]
    for path in candidates:
        try:
            return open_workflow(path)
        except WorkflowInvalid:
            continue
    return Workflow(name="Untitled")


def restore(record: dict | None) -> Workflow | None:
    """A workflow from an autosave record ({"json", "source"}), or None if there is none or it is damaged."""
    if not record or not isinstance(record.get("json"), str):
        return None
    try:
        source = Path(record["source"]) if record.get("source") else None
        return loads(record["json"], source)
    except (WorkflowInvalid, TypeError, ValueError):
        return None


def file_name(text: str, suffix: str = ".json") -> str:
    """A plain file name from what the user typed (no folders, no dots in front)."""
    stem = SAFE_NAME.sub("-", Path(text.strip()).name).strip("-.") or "workflow"
    if stem.lower().endswith(suffix):
        stem = stem[: -len(suffix)]
    return stem + suffix


def free_name(folder: Path, name: str) -> str:
    """`name`, or the first of name-2, name-3... that no file in `folder` has."""
    path, number = Path(name), 1
    while (folder / name).exists():
        number += 1
        name = f"{path.stem}-{number}{path.suffix}"
    return name
