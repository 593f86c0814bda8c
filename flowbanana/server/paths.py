"""Path rules for the server: what is inside what, and server paths turned into names a client may see."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterable


def relative_file(path: str, outputs: Path) -> str | None:
    """A file the run wrote, named relative to its outputs folder; None if it lies elsewhere."""
    resolved = Path(path).resolve()
    root = outputs.resolve()
    return resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else None


class Publisher:
    """Values as the server's clients see them, in events, records and responses.

    A run's files are named relative to its outputs folder; anywhere else in a text (a node's error, an
    OSError's message, the folders a run may read) a server folder's absolute path becomes its name
    (`folders`: (name, folder) pairs), so no answer tells a client where the server keeps things.
    """

    def __init__(self, outputs: Path, folders: Iterable[tuple[str, Path]]):
        self.outputs = outputs
        self.prefix = str(outputs) + os.sep  # the store hands out resolved run folders
        spots: dict[str, str] = {}
        for name, folder in folders:
            for form in (str(folder.absolute()), str(folder.resolve())):
                spots[form] = name
        self._names = spots
        # longest first, so a folder inside another reads by its own name; the same folders make the same
        # pattern, which `re` compiles once
        alternatives = "|".join(re.escape(spot) for spot in sorted(spots, key=len, reverse=True))
        self._pattern = re.compile(f"(?:{alternatives})(?![\\w-])") if spots else None

    def text(self, value: str) -> str:
        if value.startswith(self.prefix):
            return value[len(self.prefix):]
        value = value.replace(self.prefix, "outputs/").replace(str(self.outputs), "outputs")
        return self._pattern.sub(lambda match: self._names[match.group()], value) if self._pattern else value

    def clean(self, value: Any) -> Any:
        """Node meta, outputs, errors, whole records: JSON-safe, with paths as above."""
        if isinstance(value, dict):
            return {key: self._files(item) if key == "files" and isinstance(item, list) else self.clean(item)
                    for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.clean(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        if value is None or isinstance(value, (int, float, bool)):
            return value
        return self.text(str(value))

    def event(self, event: dict[str, Any]) -> dict[str, Any]:
        """An executor event as listeners outside the process see it."""
        event = self.clean(event)
        if "out_dir" in event:
            event["out_dir"] = "outputs"
        return event

    def _files(self, files: list) -> list[str]:
        """Files the run wrote, relative to its outputs (names already relative stay); others left out."""
        named = (str(f) if not os.path.isabs(str(f)) else relative_file(str(f), self.outputs) for f in files)
        return [name for name in named if name is not None]
