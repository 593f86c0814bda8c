"""Edits of a workflow's groups and sticky notes, as a part of `Document` (each edit one undo step).

The canvas works out which nodes a dragged group carries (those inside its box) and sends their new places with
the group's in one `move`; here a group is only a box with a title and a colour. Nothing here imports NiceGUI.
"""
from __future__ import annotations

import copy
from typing import Any

from ..annotations import COLOR, GROUP_COLOR, MIN_SIZE, NOTE_COLOR, Group, Note

KINDS = ("groups", "notes")


class Annotations:
    """Mixed into `Document`, which provides `workflow`, `_checkpoint` and `EditRefused`-style refusals."""

    _sent_annotations: dict[str, dict] | None = None

    # ---- what the canvas draws --------------------------------------------------------------
    def annotations_view(self) -> dict[str, dict]:
        """Every group and note as the canvas draws them; resets what `annotations_patch` compares with."""
        view = {kind: {k: v.to_dict() for k, v in getattr(self.workflow, kind).items()} for kind in KINDS}
        self._sent_annotations = copy.deepcopy(view)
        return view

    def annotations_patch(self) -> dict[str, dict]:
        """The groups and notes, each kind only when something in it changed since the canvas last had it."""
        before = self._sent_annotations or {}
        now = self.annotations_view()
        return {kind: now[kind] for kind in KINDS if before.get(kind) != now[kind]}

    # ---- edits --------------------------------------------------------------------------------
    def add_group(self, x: float, y: float, w: float, h: float, title: str = "Group",
                  color: str = GROUP_COLOR) -> str:
        """A group box at that place (the canvas sizes it around the selection); returns its id."""
        group_id = self._fresh_annotation_id("groups", "group")
        self._checkpoint()
        self.workflow.groups[group_id] = Group(*_box(x, y, w, h), color=_color(color, GROUP_COLOR),
                                               title=str(title).strip())
        return group_id

    def add_note(self, x: float, y: float, w: float = 240, h: float = 150, text: str = "",
                 color: str = NOTE_COLOR) -> str:
        note_id = self._fresh_annotation_id("notes", "note")
        self._checkpoint()
        self.workflow.notes[note_id] = Note(*_box(x, y, w, h), color=_color(color, NOTE_COLOR), text=str(text))
        return note_id

    def set_group(self, group_id: str, title: str | None = None, color: str | None = None) -> None:
        group = self._annotation("groups", group_id)
        title = group.title if title is None else str(title).strip()
        color = group.color if color is None else _color(color, group.color)
        if (title, color) != (group.title, group.color):
            self._checkpoint(merge_key=("group", group_id))
            group.title, group.color = title, color

    def set_note(self, note_id: str, text: str | None = None, color: str | None = None) -> None:
        """Typing in a note is one undo step per pause, like typing in a param."""
        note = self._annotation("notes", note_id)
        text = note.text if text is None else str(text)
        color = note.color if color is None else _color(color, note.color)
        if (text, color) != (note.text, note.color):
            self._checkpoint(merge_key=("note", note_id))
            note.text, note.color = text, color

    def resize_annotation(self, kind: str, item_id: str, x: float, y: float, w: float, h: float) -> None:
        item = self._annotation(kind, item_id)
        box = _box(x, y, w, h)
        if box != (item.x, item.y, item.w, item.h):
            self._checkpoint()
            item.x, item.y, item.w, item.h = box

    def delete_annotation(self, kind: str, item_id: str) -> None:
        """Remove a group (its nodes stay where they are) or a note."""
        self._annotation(kind, item_id)
        self._checkpoint()
        del getattr(self.workflow, kind)[item_id]

    def known_boxes(self, boxes: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Of new places sent for groups and notes ({"groups": {id: [x, y]}, ...}), those of ones that exist."""
        known = {kind: {k: xy for k, xy in (boxes.get(kind) or {}).items() if k in getattr(self.workflow, kind)}
                 for kind in KINDS}
        return {kind: places for kind, places in known.items() if places}

    def move_annotations(self, boxes: dict[str, dict[str, Any]]) -> None:
        """Put groups and notes at new places, inside the caller's undo step."""
        for kind, places in boxes.items():
            items = getattr(self.workflow, kind)
            for item_id, (x, y) in places.items():
                items[item_id].x, items[item_id].y = round(float(x)), round(float(y))

    def annotate(self, args: dict) -> None:
        """One edit the canvas sent as {"op": "annotate", "action": ..., ...}."""
        action, kind, item_id = args.get("action"), args.get("kind"), args.get("id")
        if action == "add_group":
            self.add_group(args["x"], args["y"], args["w"], args["h"], args.get("title", "Group"),
                           args.get("color", GROUP_COLOR))
        elif action == "add_note":
            self.add_note(args["x"], args["y"], text=args.get("text", ""), color=args.get("color", NOTE_COLOR))
        elif action == "set" and kind == "groups":
            self.set_group(item_id, args.get("title"), args.get("color"))
        elif action == "set" and kind == "notes":
            self.set_note(item_id, args.get("text"), args.get("color"))
        elif action == "resize":
            self.resize_annotation(kind, item_id, args["x"], args["y"], args["w"], args["h"])
        elif action == "delete":
            self.delete_annotation(kind, item_id)
        else:
            raise ValueError(f"unknown annotation edit {action!r}")

    # ---- helpers ------------------------------------------------------------------------------
    def _annotation(self, kind: str, item_id: str) -> Group | Note:
        if kind not in KINDS:
            raise ValueError(f"no such kind of annotation: {kind!r}")
        item = getattr(self.workflow, kind).get(item_id)
        if item is None:  # only a page out of step sends one (the editor says the edit was not applied)
            raise KeyError(f"there is no {kind[:-1]} {item_id!r} any more")
        return item

    def _fresh_annotation_id(self, kind: str, base: str) -> str:
        taken = getattr(self.workflow, kind)
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}_{n}"
        return candidate


def _box(x: float, y: float, w: float, h: float) -> tuple[int, int, int, int]:
    return round(float(x)), round(float(y)), max(MIN_SIZE, round(float(w))), max(MIN_SIZE, round(float(h)))


def _color(value: Any, default: str) -> str:
    return value if isinstance(value, str) and COLOR.match(value) else default
