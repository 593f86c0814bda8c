"""Lists: turn text and spreadsheets into batches, one item per prompt; pick from and count lists.

A list linked into a node's single-value input runs that node once per item, so a CSV column
of products becomes a batch of prompts, images and files with no loop written anywhere.
"""
from __future__ import annotations

import csv
import io

from flowbanana.node_api import ANY, INT, TEXT, Input, NodeError, Output, Pack, Param

pack = Pack("list", version="0.1.0", distribution="flowbanana",
            description="Make lists from lines and CSV files; pick and count items.")

DELIMITERS = {"auto": None, "comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}
ITEMS_IN = Input("items", ANY, list=True, description="A list (several links are joined in order).")


@pack.node("list.from_lines", title="Lines to list",
           description="Makes one item per non-empty line of a text, with spaces trimmed from both ends.",
           params=[Param.multiline("text", "", description="One item per line; link a TEXT to split it.")],
           outputs=[Output("items", TEXT, list=True)])
def from_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _read_rows(data: str, delimiter: str, shown: str) -> list[list[str]]:
    sep = DELIMITERS[delimiter]
    if sep is None:
        try:
            sep = csv.Sniffer().sniff(data[:65536], delimiters=",;\t|").delimiter
        except csv.Error:
            sep = ","
    try:
        return [row for row in csv.reader(io.StringIO(data), delimiter=sep) if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise NodeError(f"{shown!r} is not a readable CSV file: {exc}.", "Check its quotes, or pick the delimiter.")


def _column_index(column: str, header: list[str] | None, shown: str) -> int:
    """A column named in the header, or numbered from 1."""
    wanted = column.strip()
    if not wanted:
        return 0
    if header is not None and wanted in [h.strip() for h in header]:
        return [h.strip() for h in header].index(wanted)
    if wanted.isdigit() and int(wanted) >= 1:
        return int(wanted) - 1
    names = ", ".join(repr(h.strip()) for h in header) if header else "none (header is off)"
    raise NodeError(f"{shown!r} has no column {wanted!r}; its columns are {names}.",
                    "Set column to one of those names, or to a number (1 = the first column).")


@pack.node("list.from_csv", title="CSV column to list",
           description="Reads a column of a CSV file as a list of texts, one per row, so a catalogue of products "
                       "becomes a batch of prompts. Blank rows are skipped; the delimiter is detected unless chosen.",
           params=[Param.file("path", None, file_types=(".csv", ".tsv", ".txt"),
                              description="The CSV file, relative to the workflow's folder."),
                   Param.text("column", "", description="A header name, or a number (1 = first); empty = the first."),
                   Param.bool("header", True, description="The first row names the columns (and is not an item)."),
                   Param.choice("delimiter", tuple(DELIMITERS), description="What separates cells; auto detects it."),
                   Param.int("limit", 1000, min=1, max=100000, description="Read at most this many rows.")],
           outputs=[Output("items", TEXT, list=True)])
def from_csv(path: str, column: str, header: bool, delimiter: str, limit: int, ctx) -> list[str]:
    file = ctx.resolve_read(path)
    try:
        data = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise NodeError(f"no file at {path!r}.", "Check the path; it is relative to the workflow's folder.") from None
    except UnicodeDecodeError:
        raise NodeError(f"{path!r} is not UTF-8 text.", "Save the spreadsheet as CSV UTF-8.") from None
    except OSError as exc:
        raise NodeError(f"cannot read {path!r}: {exc.strerror or exc}.", "Check the path and its permissions.") \
            from None
    if limit < 1:
        raise NodeError(f"limit must be 1 or more, got {limit}.", "Set the largest number of rows to read.")
    rows = _read_rows(data, delimiter, path)
    names = rows.pop(0) if header and rows else None
    index = _column_index(column, names, path)
    if not rows:
        raise NodeError(f"{path!r} has no data rows.", "Add rows below the header, or turn header off.")
    if len(rows) > limit:
        ctx.warn(f"{path} has {len(rows)} rows; reading the first {limit} (raise limit to read more).")
        rows = rows[:limit]
    short = [n for n, row in enumerate(rows, start=2 if names else 1) if index >= len(row)]
    if len(short) == len(rows):  # the number is past every row's end: a wrong column, not missing cells
        raise NodeError(f"{path!r} has {max(map(len, rows))} columns, so no column {index + 1}.",
                        "Set column to a header name or a number (1 = the first column).")
    if short:
        raise NodeError(f"{path!r}: row {short[0]} has no column {index + 1}"
                        + (f" ({len(short)} rows are too short)." if len(short) > 1 else "."),
                        "Fill the missing cells, or choose another column.")
    return [row[index].strip() for row in rows]


@pack.node("list.pick", title="Pick item",
           description="One item of a list by its position: 1 is the first, -1 the last.",
           inputs=[ITEMS_IN], params=[Param.int("index", 1, description="1 = first, 2 = second, -1 = last.")],
           outputs=[Output("item", ANY)])
def pick(items: list, index: int):
    if not items:
        raise NodeError("the list is empty, so there is nothing to pick.", "Check what feeds the list.")
    if index == 0 or abs(index) > len(items):
        raise NodeError(f"there is no item {index} in a list of {len(items)}.",
                        f"Use 1 to {len(items)} from the start, or -1 to -{len(items)} from the end.")
    return items[index - 1 if index > 0 else index]


@pack.node("list.count", title="Count items", description="How many items a list holds.",
           inputs=[ITEMS_IN], outputs=[Output("count", INT)])
def count(items: list) -> int:
    return len(items)
