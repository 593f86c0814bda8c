"""Text from files and images made safe to print: a terminal shows control characters, never obeys them.

An escape sequence in a PNG's metadata could otherwise set the window title, hide text, or write the
clipboard (OSC 52); bidirectional overrides could make text read differently from what it is.
"""
from __future__ import annotations

import re
from typing import Any

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(value: Any) -> str:
    """`str(value)` with control characters written as escapes (\\x1b, \\n, \\u202e), everything else as is."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(value))
