"""The `sweep.grid` node: the cells of a sweep as one labelled grid, each image on its own, and a CSV.

Registered like any pack (entry point `sweep`); `flowbanana.sweep` unrolls the workflow around it before a
run, so by the time it runs its `image` input holds one picture per cell, in cell order.
"""
from __future__ import annotations

import csv
import io
import math
import re

from PIL import Image, ImageDraw, ImageFont, ImageOps

from .node_api import IMAGE, Input, NodeError, Output, Pack, Param
from .sweep import EVERY, EVERYTHING, MODES, PAIRED, SWEEP, layout, serves, value_lines

pack = Pack("sweep", version="0.1.0", distribution="flowbanana",
            description="Sweeps: one workflow over several values of its params, in a labelled grid.")

INK, PAPER, MUTED, RULE, FAILED = (24, 24, 28), (255, 255, 255), (110, 110, 120), (225, 225, 230), (250, 228, 228)


@pack.node(SWEEP, title="Sweep", category="sweep",
           description="Runs the workflow once per value of one or two params and shows the images side by side. "
                       "The grid has the values as headers (x across, y down) and each cell's time and cost; every "
                       "image and a CSV of the cells go in its folder too. Name a param as node.param (e.g. "
                       f"gen.model) and list its values one per line; {EVERYTHING} alone lists every value it "
                       "offers (every model, every ratio). Only what a swept param reaches runs per cell; the rest "
                       "runs once, and cells made before come from the cache.",
           inputs=[Input("image", IMAGE, list=True, partial=True,
                         description="The image each cell makes: link the output of the swept node, or of one after "
                                     "it. A cell whose node failed shows as failed; the others still make the grid.")],
           params=[Param.text("x", "", description="The param across the columns, as node.param (gen.model)."),
                   Param.multiline("x_values", "", description=f"Its values, one per line ({EVERYTHING}: all)."),
                   Param.text("y", "", optional=True, description="The param down the rows (optional)."),
                   Param.multiline("y_values", "", optional=True, description="Its values, one per line."),
                   Param.choice("mode", MODES, EVERY, description="every combination: a cell per (x, y) pair; "
                                                                  "paired: the n-th x with the n-th y."),
                   Param.int("cell_size", 384, min=64, max=2048, description="Pixels a cell's image fits in."),
                   Param.text("folder", "sweep", description="Where in the output folder the grid, each image "
                                                             "and cells.csv go (replaced on each run).")],
           outputs=[Output("grid", IMAGE, description="The labelled grid."),
                    Output("images", IMAGE, list=True, description="The cells' images, in cell order (failed ones "
                                                                          "left out).")],
           output=True, cacheable=False)
def grid(image, x, x_values, y, y_values, mode, cell_size, folder, ctx):
    xs, ys = value_lines(x_values), value_lines(y_values) if (y or "").strip() else []
    positions = layout(mode, len(xs), len(ys))
    if len(image) != len(positions):
        raise NodeError(f"the sweep has {len(positions)} cells but {len(image)} images arrived; each cell must make "
                        "one image.", "Set count to 1 on the swept node, or pick one image with list.pick.")
    if all(picture is None for picture in image):
        raise NodeError("every cell failed, so there is no grid to draw.", "See the failed nodes' errors.")
    stats, total = cell_stats(ctx.lineage(), positions)
    labels = [[xs[i]] + ([ys[j]] if j is not None else []) for i, j, _, _ in positions]
    sheet, boxes = draw(image, positions, xs, ys, mode, cell_size, stats, total, (x.strip(), (y or "").strip()))
    base = folder.strip().strip("/") or "sweep"
    ctx.write_file(ctx.resolve_write(f"{base}/grid.png"),
                   lambda handle: sheet.save(handle, format="PNG", **ctx.provenance("PNG")))
    rows, cells = [], []
    targets = [x.strip()] + ([y.strip()] if ys else [])
    for number, (picture, values, stat, box) in enumerate(zip(image, labels, stats, boxes), start=1):
        name = f"{number:02d}-{_slug('-'.join(values))}.png" if picture is not None else ""
        if picture is not None:
            ctx.write_file(ctx.resolve_write(f"{base}/{name}"),
                           lambda handle, picture=picture: picture.save(handle, format="PNG", **ctx.provenance("PNG")))
        status = "failed" if picture is None else "cached" if stat["cached"] else "made"
        rows.append([number, *values, name, status, f"{stat['seconds']:.2f}",
                     "" if stat["cost"] is None else f"{stat['cost']:.4f}"])
        cells.append({"box": box, "values": dict(zip(targets, values)), "status": status})
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(["cell", *targets, "file", "status", "seconds", "cost_usd"])
    writer.writerows(rows)
    ctx.write_file(ctx.resolve_write(f"{base}/cells.csv"), lambda handle: handle.write(table.getvalue().encode()))
    ctx.record(sweep={"size": list(sheet.size), "cells": cells})  # for the editor: which cell is where
    if None in image:
        ctx.warn(f"{image.count(None)} of {len(image)} cells failed; the grid marks them.")
    return {"grid": sheet, "images": [picture for picture in image if picture is not None]}


def cell_stats(lineage: list[dict], positions) -> tuple[list[dict], float | None]:
    """Per cell: seconds spent in this run by the node copies it needed, the estimated cost of their model calls
    (a copy two cells share counts in both), and whether all came from the cache; and the cost of them all, each
    copy counted once. Nodes every cell shares are left out: they ran once for all."""
    stats = [{"seconds": 0.0, "cost": None, "cached": True} for _ in positions]
    total = None
    for record in lineage:
        costs = [m["cost"] for m in record["meta"].get("items", [record["meta"]])
                 if isinstance(m, dict) and m.get("cost") is not None]
        served = [stat for number, ((i, j, _, _), stat) in enumerate(zip(positions, stats), start=1)
                  if serves(record["node"], number, i, j)]
        for stat in served:
            if not record.get("cached"):
                stat["cached"] = False
                stat["seconds"] += record.get("seconds") or 0.0
            if costs:
                stat["cost"] = (stat["cost"] or 0.0) + sum(costs)
        if served and costs:
            total = (total or 0.0) + sum(costs)
    return stats, total


def caption(stat: dict) -> str:
    """What is written under a cell: its time (or that it came from the cache) and its estimated cost."""
    when = "cached" if stat["cached"] else f"{stat['seconds']:.1f} s"
    return when if stat["cost"] is None else f"{when} · ${stat['cost']:.3f}"


WRAP = 6  # a one-row sweep with more cells than this wraps onto rows of about its square root


def draw(images, positions, xs, ys, mode, cell_size, stats, total, names) -> tuple[Image.Image, list[list[int]]]:
    """The grid and each cell's box in it (left, top, right, bottom). A sweep of every combination has the x values
    as column headers and the y values as row headers; a paired or one-param sweep heads each cell with its values
    (wrapping onto several rows when long). A caption under each cell gives its time and cost."""
    pad = max(8, cell_size // 24)
    font, small, bold = _font(max(12, cell_size // 18)), _font(max(11, cell_size // 24)), _font(max(12, cell_size // 20))
    grid_rows = max(p[2] for p in positions) > 0
    if grid_rows:
        places = [(row, column) for _, _, row, column in positions]
        heads = {(0, c): xs[i] for i, _, row, c in positions if row == 0}
    else:
        per_row = len(positions) if len(positions) <= WRAP else math.ceil(math.sqrt(len(positions)))
        places = [divmod(n, per_row) for n in range(len(positions))]
        heads = {place: " / ".join([xs[i]] + ([ys[j]] if j is not None else []))
                 for place, (i, j, _, _) in zip(places, positions)}
    rows, columns = max(r for r, _ in places) + 1, max(c for _, c in places) + 1
    head_lines = {place: _wrap(text, font, cell_size) for place, text in heads.items()}
    head_h = max(len(lines) for lines in head_lines.values()) * _line(font) + pad
    row_w = int(min(cell_size, max(font.getlength(v) for v in ys) + 2 * pad)) if grid_rows else 0
    band_h = cell_size + _line(small) + pad + pad  # a row of cells with their captions
    bands = [head_h if any(r == row for r, _ in heads) else 0 for row in range(rows)]
    title_h = _line(bold) + pad
    width = pad + row_w + columns * (cell_size + pad)
    height = pad + title_h + sum(bands) + rows * band_h
    sheet = Image.new("RGB", (width, height), PAPER)
    ink = ImageDraw.Draw(sheet)
    axes = f"{names[0]} across" + (f", {names[1]} down" if grid_rows else f" and {names[1]}, paired" if ys else "")
    ink.text((pad, pad), axes, font=bold, fill=INK)
    summary = f"{len(stats)} cells" + ("" if total is None else f", estimated ${total:.3f} in all")
    ink.text((width - pad, pad), summary, font=small, fill=MUTED, anchor="ra")
    tops = [pad + title_h + sum(bands[:r + 1]) + r * band_h for r in range(rows)]
    for (row, column), lines in head_lines.items():
        centre, top = pad + row_w + column * (cell_size + pad) + cell_size // 2, tops[row] - bands[row]
        for k, line in enumerate(lines):
            ink.text((centre, top + k * _line(font)), line, font=font, fill=INK, anchor="ma")
    if grid_rows:
        for row, value in enumerate(ys):
            lines = _wrap(value, font, row_w - pad)
            for k, line in enumerate(lines):
                middle = tops[row] + cell_size // 2 + (k - len(lines) / 2) * _line(font)
                ink.text((pad, middle), line, font=font, fill=INK)
    boxes = []
    for picture, (row, column), stat in zip(images, places, stats):
        left, top = pad + row_w + column * (cell_size + pad), tops[row]
        ink.rectangle((left - 1, top - 1, left + cell_size, top + cell_size), outline=RULE)
        if picture is None:
            ink.rectangle((left, top, left + cell_size - 1, top + cell_size - 1), fill=FAILED)
            ink.text((left + cell_size // 2, top + cell_size // 2), "failed", font=font, fill=INK, anchor="mm")
        else:
            fitted = ImageOps.contain(picture.convert("RGB"), (cell_size, cell_size), Image.Resampling.LANCZOS)
            sheet.paste(fitted, (left + (cell_size - fitted.width) // 2, top + (cell_size - fitted.height) // 2))
        ink.text((left + cell_size // 2, top + cell_size + pad // 2), "failed" if picture is None else caption(stat),
                 font=small, fill=MUTED, anchor="ma")
        boxes.append([left, top, left + cell_size, top + cell_size])
    return sheet, boxes


def _font(size: int):
    return ImageFont.load_default(size=size)


def _line(font) -> int:
    return int(font.getbbox("Ag")[3] * 1.25)


def _wrap(text: str, font, width: float) -> list[str]:
    """Words on lines no wider than `width`; a word too long for a line is cut with an ellipsis. At most 3 lines."""
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and font.getlength(candidate) <= width:
            lines[-1] = candidate
        else:
            lines.append(word)
    lines = [_fit(line, font, width) for line in lines] or [""]
    return lines if len(lines) <= 3 else lines[:2] + [_fit(" ".join(lines[2:]) + "…", font, width)]


def _fit(line: str, font, width: float) -> str:
    while len(line) > 1 and font.getlength(line) > width:
        line = line[:-2] + "…"
    return line


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-").lower()[:60] or "cell"
