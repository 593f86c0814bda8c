"""Text from files and images made safe to print: a terminal shows control characters, never obeys them.

An escape sequence in a PNG's metadata, a file name or a node's error could otherwise set the window title,
hide text, or write the clipboard (OSC 52); bidirectional overrides could make text read differently from what
it is. Every CLI command writes through guarded streams, so no print path can send them.
"""
from __future__ import annotations

import contextlib
import re
import sys
from typing import Any, TextIO

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(value: Any) -> str:
    """`str(value)` with control characters written as escapes (\\x1b, \\n, \\u202e), everything else as is."""
    return _CONTROL.sub(_escaped, str(value))


# what the guarded streams escape: the same, but lines and tabs pass, as the CLI's own output is made of them
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class Guarded:
    """A text stream that shows control characters instead of sending them (lines and tabs pass), whoever writes:
    a file name, a node's error, a pack's description, image metadata. `control()` sends flowbanana's own
    sequences (the status line's redraw) as they are."""

    def __init__(self, stream: TextIO):
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(_UNSAFE.sub(_escaped, text))
        return len(text)

    def control(self, sequence: str) -> None:
        self.stream.write(sequence)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@contextlib.contextmanager
def guarded_output():
    """sys.stdout and sys.stderr guarded while the block runs (a CLI command)."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = Guarded(out), Guarded(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


def _escaped(match: re.Match) -> str:
    return match.group().encode("unicode_escape").decode("ascii")
