"""What a workflow file holds for people, not for the executor: groups (titled, coloured boxes around nodes)
and sticky notes. Runs never look at them; the editor draws them.

A group does not list its nodes: the nodes inside its box are its nodes, so moving a node in or out of the box
is all it takes to change them (as in other node editors).

    "groups": {"inputs": {"title": "Inputs", "color": "#3f6ea5", "x": 40, "y": 40, "w": 620, "h": 380}}
    "notes": {"note": {"text": "Try 3:4 too", "color": "#e8c547", "x": 700, "y": 40, "w": 240, "h": 140}}
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable

from .errors import Problem

GROUP_COLOR = "#3f6ea5"
NOTE_COLOR = "#e8c547"
MIN_SIZE = 40
COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
ID = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass
class Box:
    """Where a group or note stands on the canvas, in canvas units."""
    x: float
    y: float
    w: float
    h: float
    color: str

    def _place(self) -> dict:
        return {"x": self.x, "y": self.y, "w": self.w, "h": self.h, "color": self.color}


@dataclass
class Group(Box):
    title: str = "Group"

    def to_dict(self) -> dict:
        return {"title": self.title, **self._place()}


@dataclass
class Note(Box):
    text: str = ""

    def to_dict(self) -> dict:
        return {"text": self.text, **self._place()}


def parse_groups(data: dict, problems: list[Problem]) -> dict[str, Group]:
    return _parse(data, "groups", "group", "title", GROUP_COLOR, Group, problems)


def parse_notes(data: dict, problems: list[Problem]) -> dict[str, Note]:
    return _parse(data, "notes", "note", "text", NOTE_COLOR, Note, problems)


def _parse(data: dict, key: str, what: str, text_key: str, color: str, make: Callable[..., Any],
           problems: list[Problem]) -> dict:
    raw = data.get(key, {})
    example = f"{{\"{text_key}\": \"...\", \"x\": 0, \"y\": 0, \"w\": 300, \"h\": 200}}"
    if not isinstance(raw, dict):
        problems.append(Problem(key, f"\"{key}\" must be an object of {what}s keyed by id, like "
                                     f"{{\"a\": {example}}}."))
        return {}
    found = {}
    for item_id, spec in raw.items():
        errors = _check(item_id, spec, what, text_key)
        if errors:
            problems.extend(Problem(key, f"{what} {item_id!r}: {error}", hint=f"Write a {what} like {example}; "
                                    f"\"color\" (like \"{color}\") is optional.") for error in errors)
            continue
        found[item_id] = make(x=spec["x"], y=spec["y"], w=spec["w"], h=spec["h"], color=spec.get("color", color),
                              **{text_key: spec.get(text_key, "")})
    return found


def _check(item_id: str, spec: Any, what: str, text_key: str) -> list[str]:
    if not ID.match(item_id):
        return ["an id may use only letters, digits, _ and -."]
    if not isinstance(spec, dict):
        return [f"must be an object with \"{text_key}\", \"x\", \"y\", \"w\" and \"h\"."]
    errors = [f"unknown key {k!r} (allowed: color, h, {text_key}, w, x, y)."
              for k in sorted(set(spec) - {text_key, "color", "x", "y", "w", "h"})]
    if not isinstance(spec.get(text_key, ""), str):
        errors.append(f"\"{text_key}\" must be text.")
    if "color" in spec and not (isinstance(spec["color"], str) and COLOR.match(spec["color"])):
        errors.append(f"\"color\" must be written like \"#3f6ea5\", not {spec['color']!r}.")
    for name in ("x", "y", "w", "h"):
        value = spec.get(name)
        if not _number(value):
            errors.append(f"\"{name}\" must be a number.")
        elif name in ("w", "h") and value < MIN_SIZE:
            errors.append(f"\"{name}\" must be at least {MIN_SIZE}.")
    return errors


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
