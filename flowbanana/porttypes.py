"""Port types: the names written in the catalogue and which links between them are allowed."""
from __future__ import annotations

IMAGE = "IMAGE"
MASK = "MASK"
TEXT = "TEXT"
INT = "INT"
FLOAT = "FLOAT"
BOOL = "BOOL"
ROW = "ROW"
ANY = "ANY"

PORT_TYPES: dict[str, dict[str, str]] = {
    IMAGE: {"color": "#64b5f6", "description": "an RGB or RGBA picture (PIL.Image.Image)"},
    MASK: {"color": "#e0e0e0", "description": "a greyscale picture, white = the area to change (mode L)"},
    TEXT: {"color": "#81c784", "description": "a string"},
    INT: {"color": "#ffb74d", "description": "a whole number"},
    FLOAT: {"color": "#ffd54f", "description": "a number"},
    BOOL: {"color": "#ba68c8", "description": "true or false"},
    ROW: {"color": "#4db6ac", "description": "one row of a table: its cells by column name (dict of str to str)"},
    ANY: {"color": "#90a4ae", "description": "any value"},
}

# Widening links that lose nothing: a mask is a picture, an int is a number.
_WIDENING = {(MASK, IMAGE), (INT, FLOAT)}


def compatible(source: str, target: str) -> bool:
    """Whether an output of type `source` may feed an input of type `target`."""
    return source == target or ANY in (source, target) or (source, target) in _WIDENING
