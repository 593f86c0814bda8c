"""JSON from files and requests nobody vouches for: parsed only when it nests no deeper than a limit.

Python's parser recurses once per level, so `[[[[...` 100,000 deep is a RecursionError, and a
document just under that depth breaks whatever walks it next (deepcopy, scrubbing, printing).
"""
from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 100  # workflows (subgraphs inside subgraphs too), manifests, records and cache entries nest far less
_BRACKETS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_BRACKETS_BYTES = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


class TooDeep(ValueError):
    """The text nests arrays and objects deeper than allowed."""


def json_depth(text: str | bytes, limit: int) -> int:
    """How deeply arrays and objects nest in a JSON text, counting no further than `limit` + 1."""
    pattern = _BRACKETS_BYTES if isinstance(text, bytes) else _BRACKETS
    opening, closing = ((b"[", b"{"), (b"]", b"}")) if isinstance(text, bytes) else (("[", "{"), ("]", "}"))
    depth = deepest = 0
    for match in pattern.finditer(text):  # strings are matched whole, so brackets inside them do not count
        token = match.group()
        if token in opening:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        elif token in closing:
            depth -= 1
    return deepest


def loads(text: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """`json.loads`, refusing (TooDeep, a ValueError) a text nested deeper than `max_depth`."""
    if json_depth(text, max_depth) > max_depth:
        raise TooDeep(f"it nests arrays and objects more than {max_depth} levels deep")
    return json.loads(text)
