"""Lists: turn text and spreadsheets into batches, one item per prompt; pick from and count lists.

A list linked into a node's single-value input runs that node once per item, so a CSV column
of products becomes a batch of prompts, images and files with no loop written anywhere.
"""
from __future__ import annotations

import csv
from typing import Iterator, TextIO

from flowbanana.node_api import ANY, INT, ROW, TEXT, Input, NodeError, Output, Pack, Param

pack = Pack("list", version="0.1.0", distribution="flowbanana",
            description="Make lists from lines and CSV files; pick and count items.")

DELIMITERS = {"auto": None, "comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}
ITEMS_IN = Input("items", ANY, list=True, description="A list (several links are joined in order).")


@pack.node("list.from_lines", keywords=("split", "batch", "lines", "array"),
           title="Lines to list",
           description="Makes one item per non-empty line of a text, with spaces trimmed from both ends.",
           params=[Param.multiline("text", "", description="One item per line; link a TEXT to split it.")],
           outputs=[Output("items", TEXT, list=True)])
def from_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _read_rows(handle: TextIO, delimiter: str, shown: str) -> Iterator[list[str]]:
    """The non-blank rows of an open CSV file, read as they are needed (a big file is never held whole)."""
    sep = DELIMITERS[delimiter]
    if sep is None:
        sample = handle.read(65536)
        handle.seek(0)
        try:
            sep = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            sep = ","
    try:
        for row in csv.reader(handle, delimiter=sep):
            if any(cell.strip() for cell in row):
                yield row
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


def _row(cells: list[str], names: list[str]) -> dict[str, str]:
    """A row as a ROW value: each cell under its header name (or its number, 1 = first), trimmed."""
    row: dict[str, str] = {}
    for i, name in enumerate(names):
        row.setdefault(name, cells[i].strip() if i < len(cells) else "")
    for i in range(len(names), len(cells)):
        row.setdefault(str(i + 1), cells[i].strip())
    return row


@pack.node("list.from_csv", keywords=("spreadsheet", "table", "batch", "rows"),
           title="CSV to list", version="2",
           description="Reads a CSV file as a batch: one column as texts, and every row whole. Link `rows` into "
                       "list.field for each column you need, so a catalogue's prompts and file names come from the "
                       "same rows and can never be paired with the wrong one. Blank rows are skipped; the "
                       "delimiter is detected unless chosen; every row is read unless limit says otherwise.",
           params=[Param.file("path", None, file_types=(".csv", ".tsv", ".txt"),
                              description="The CSV file, relative to the workflow's folder."),
                   Param.text("column", "", description="A header name, or a number (1 = first); empty = the first."),
                   Param.bool("header", True, description="The first row names the columns (and is not an item)."),
                   Param.choice("delimiter", tuple(DELIMITERS), description="What separates cells; auto detects it."),
                   Param.int("limit", 0, min=0,
                             description="Read at most this many rows (0 = all); rows left out are reported. "
                                         "More than a run's list may hold (10,000 by default) is refused.")],
           outputs=[Output("items", TEXT, list=True, description="The chosen column, one text per row."),
                    Output("rows", ROW, list=True, description="Every row: its cells by column name.")])
def from_csv(path: str, column: str, header: bool, delimiter: str, limit: int, ctx) -> dict:
    file = ctx.resolve_read(path)
    if limit < 0:
        raise NodeError(f"limit must be 0 (all rows) or more, got {limit}.", "Set the largest number of rows to read.")
    rows, total = [], 0
    keep = min(limit or ctx.limits.max_items + 1, ctx.limits.max_items + 1)  # rows past the run's bound: counted
    try:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            reader = _read_rows(handle, delimiter, path)
            names = next(reader, None) if header else None
            for cells in reader:
                total += 1
                if total <= keep:
                    rows.append(cells)
    except FileNotFoundError:
        raise NodeError(f"no file at {path!r}.", "Check the path; it is relative to the workflow's folder.") from None
    except UnicodeDecodeError:
        raise NodeError(f"{path!r} is not UTF-8 text.", "Save the spreadsheet as CSV UTF-8.") from None
    except OSError as exc:
        raise NodeError(f"cannot read {path!r}: {exc.strerror or exc}.", "Check the path and its permissions.") \
            from None
    if problem := ctx.limits.items_problem(min(total, limit or total), f"{path!r} (all its rows)"):
        raise NodeError(*problem)  # said before they were all kept: the file was only counted past the bound
    index = _column_index(column, names, path)
    if not rows:
        raise NodeError(f"{path!r} has no data rows.", "Add rows below the header, or turn header off.")
    if total > len(rows):
        ctx.warn(f"{path} has {total} rows; read the first {limit}, left out {total - limit} "
                 "(raise limit, or set it to 0 to read every row).")
    short = [n for n, row in enumerate(rows, start=2 if names else 1) if index >= len(row)]
    if len(short) == len(rows):  # the number is past every row's end: a wrong column, not missing cells
        raise NodeError(f"{path!r} has {max(map(len, rows))} columns, so no column {index + 1}.",
                        "Set column to a header name or a number (1 = the first column).")
    if short:
        raise NodeError(f"{path!r}: row {short[0]} has no column {index + 1}"
                        + (f" ({len(short)} rows are too short)." if len(short) > 1 else "."),
                        "Fill the missing cells, or choose another column.")
    keys = [h.strip() or str(i + 1) for i, h in enumerate(names)] if names else \
        [str(i + 1) for i in range(max(map(len, rows)))]
    return {"items": [row[index].strip() for row in rows], "rows": [_row(row, keys) for row in rows]}


@pack.node("list.field", keywords=("column", "cell", "row"),
           title="Row field",
           description="One cell of a table row (from list.from_csv's rows) by its column, e.g. each product's SKU. "
                       "A list of rows makes one text per row, in step with everything else made from those rows.",
           inputs=[Input("row", ROW, description="A row, or the rows of list.from_csv.")],
           params=[Param.text("column", "", description="A header name, or a number (1 = first); empty = the first.")],
           outputs=[Output("value", TEXT, description="The cell's text.")])
def field(row: dict, column: str) -> str:
    if not isinstance(row, dict):
        raise NodeError(f"expected a table row, got {type(row).__name__} {row!r:.40}.",
                        "Link the rows output of list.from_csv into row.")
    names, wanted = list(row), column.strip()
    if wanted in row:
        return row[wanted]
    if names and (not wanted or wanted.isdigit() and 1 <= int(wanted) <= len(names)):
        return row[names[int(wanted or 1) - 1]]
    raise NodeError(f"the row has no column {wanted!r}; its columns are {', '.join(map(repr, names)) or 'none'}.",
                    "Set column to one of those names, or to a number (1 = the first column).")


@pack.node("list.pick", keywords=("index", "select", "item", "get"),
           title="Pick item",
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


@pack.node("list.count", keywords=("length", "size", "how many"),
           title="Count items", description="How many items a list holds.",
           inputs=[ITEMS_IN], outputs=[Output("count", INT)])
def count(items: list) -> int:
    return len(items)
