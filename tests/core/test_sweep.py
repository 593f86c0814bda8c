"""Sweeps: a workflow unrolled per cell, the labelled grid, the CSV, the dry run's count and cost, the cache."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

import flowbanana
from flowbanana.executor import Execution, RunOptions
from flowbanana.node_api import NodeError
from flowbanana.cache import Cache
from flowbanana.providers.models import DEFAULT_IMAGE_MODEL, IMAGE_MODELS, MODELS, lookup
from flowbanana.providers.offline import OfflineProvider
from flowbanana.sweep import expand, original_id, serves
from flowbanana.validation import validate
from flowbanana.workflow import from_dict

ROOT = Path(__file__).parents[2]
STYLES = ["watercolour", "studio photo, soft light", "pixel art"]


def sweep_doc(**sweep_params) -> dict:
    """subject + style -> prompt -> gen -> sweep, with the sweep's params given; 3 styles by 3 seeds by default."""
    params = {"x": "style.text", "x_values": "\n".join(STYLES), "y": "gen.seed", "y_values": "1\n2\n3",
              "cell_size": 128, **sweep_params}
    return {"format": "flowbanana/workflow", "version": 1, "name": "Sweep test", "nodes": {
        "subject": {"type": "text.text", "params": {"text": "a lighthouse"}},
        "style": {"type": "text.text", "params": {"text": "watercolour"}},
        "prompt": {"type": "text.template", "params": {"template": "{subject}, {style}"},
                   "inputs": {"subject": "subject.text", "style": "style.text"}},
        "gen": {"type": "gemini.generate", "params": {"model": DEFAULT_IMAGE_MODEL, "seed": 1},
                "inputs": {"prompt": "prompt.text"}},
        "sweep": {"type": "sweep.grid", "inputs": {"image": "gen.image"}, "params": params}}}


class Counting(OfflineProvider):
    """The offline preview, counting the requests it answers."""

    def __init__(self):
        super().__init__()
        self.requests = []

    async def generate(self, request, limiter, notify=None):
        self.requests.append(request)
        return await super().generate(request, limiter, notify)


@pytest.fixture
def run_sweep(tmp_path, catalogue):
    async def run(doc, provider=None, **options):
        provider = provider or Counting()
        workflow = from_dict(doc)
        result = await Execution(workflow, catalogue, RunOptions(
            out_dir=tmp_path / "out", cache=Cache(tmp_path / "cache"), resources={"provider": provider},
            **options)).run()
        return result, provider
    return run


def read_cells(tmp_path, folder="sweep"):
    with open(tmp_path / "out" / folder / "cells.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def inked(image: Image.Image, box) -> bool:
    """Whether anything is drawn in `box` of a white sheet (text, a picture)."""
    return ImageStat.Stat(image.crop(box).convert("L")).extrema[0][0] < 200


async def test_a_3x3_sweep_makes_a_labelled_grid_every_image_and_a_csv(run_sweep, tmp_path):
    result, provider = await run_sweep(sweep_doc())
    assert result.ok, {n: r.error for n, r in result.nodes.items() if not r.ok}
    assert len(provider.requests) == 9
    assert sorted(r.seed for r in provider.requests) == [1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert {r.prompt for r in provider.requests} == {f"a lighthouse, {s}" for s in STYLES}
    # what no swept param reaches runs once; what they reach, once per distinct value it sees
    assert {original_id(n) for n in result.nodes} == {"subject", "style", "prompt", "gen", "sweep"}
    assert sorted(n for n in result.nodes if n.startswith("style")) == ["style@x1", "style@x2", "style@x3"]
    assert len([n for n in result.nodes if n.startswith("gen@")]) == 9

    images = result.output("sweep", "images")
    grid = result.output("sweep", "grid")
    cells = result.nodes["sweep"].meta["sweep"]["cells"]
    assert len(images) == len(cells) == 9 and list(grid.size) == result.nodes["sweep"].meta["sweep"]["size"]
    for number, (image, cell) in enumerate(zip(images, cells), start=1):
        row, column = divmod(number - 1, 3)
        assert cell["values"] == {"style.text": STYLES[column], "gen.seed": str(row + 1)}
        left, top, right, bottom = cell["box"]
        shown = grid.crop((left, top, right, bottom)).resize((32, 32))
        assert ImageStat.Stat(ImageChops.difference(shown.convert("RGB"), image.convert("RGB").resize((32, 32)))) \
            .mean[0] < 12, f"cell {number} shows another picture"
        assert inked(grid, (left, bottom + 2, right, bottom + 20)), f"no caption under cell {number}"
    first = cells[0]["box"]
    for column in range(3):  # a header above each column, one beside each row
        left, top, right, _ = cells[column]["box"]
        assert inked(grid, (left, top - 24, right, top - 2)), f"no header over column {column + 1}"
    for row in range(3):
        _, top, _, bottom = cells[row * 3]["box"]
        assert inked(grid, (0, top, first[0] - 2, bottom)), f"no header beside row {row + 1}"

    rows = read_cells(tmp_path)
    assert [(r["style.text"], r["gen.seed"]) for r in rows] == [(s, str(seed)) for seed in (1, 2, 3) for s in STYLES]
    assert all(r["status"] == "made" and float(r["seconds"]) > 0 and float(r["cost_usd"]) == 0.0 for r in rows)
    for row, image in zip(rows, images):
        on_disk = Image.open(tmp_path / "out" / "sweep" / row["file"])
        assert on_disk.size == image.size
    assert Image.open(tmp_path / "out" / "sweep" / "grid.png").size == grid.size
    assert {p.name for p in result.files} == {"grid.png", "cells.csv", *(r["file"] for r in rows)}


async def test_a_second_run_takes_every_cell_from_the_cache_and_a_changed_row_only_costs_its_cells(run_sweep,
                                                                                                  tmp_path):
    await run_sweep(sweep_doc())
    again, provider = await run_sweep(sweep_doc())
    assert again.ok and provider.requests == []
    assert all(again.nodes[n].status == "cached" for n in again.nodes if n != "sweep")
    assert all(r["status"] == "cached" for r in read_cells(tmp_path))
    changed, provider = await run_sweep(sweep_doc(y_values="1\n2\n4"))
    assert sorted((r.seed, r.prompt) for r in provider.requests) == sorted((4, f"a lighthouse, {s}") for s in STYLES)
    assert [r["status"] for r in read_cells(tmp_path)] == ["cached"] * 6 + ["made"] * 3


async def test_a_param_after_the_image_node_does_not_repeat_the_calls_before_it(run_sweep, tmp_path):
    doc = sweep_doc(y="small.width", y_values="64\n96")
    doc["nodes"]["small"] = {"type": "image.resize", "params": {"width": 64, "height": 0},
                             "inputs": {"image": "gen.image"}}
    doc["nodes"]["sweep"]["inputs"]["image"] = "small.image"
    result, provider = await run_sweep(doc)
    assert result.ok, {n: r.error for n, r in result.nodes.items() if not r.ok}
    assert len(provider.requests) == 3          # one per style; the widths reuse them
    assert sorted(n for n in result.nodes if n.startswith("gen@")) == ["gen@x1", "gen@x2", "gen@x3"]
    assert [i.width for i in result.output("sweep", "images")] == [64, 64, 64, 96, 96, 96]


async def test_paired_makes_one_cell_per_line(run_sweep, tmp_path):
    result, provider = await run_sweep(sweep_doc(mode="paired"))
    assert result.ok
    assert sorted((r.seed, r.prompt) for r in provider.requests) == [
        (1, "a lighthouse, watercolour"), (2, "a lighthouse, studio photo, soft light"), (3, "a lighthouse, pixel art")]
    assert [(r["style.text"], r["gen.seed"]) for r in read_cells(tmp_path)] == list(zip(STYLES, "123"))


async def test_run_this_node_and_force_reach_every_copy(run_sweep):
    _, _ = await run_sweep(sweep_doc())
    result, provider = await run_sweep(sweep_doc(), targets=frozenset({"gen"}), force=frozenset({"gen"}))
    assert "sweep" not in result.nodes and len(provider.requests) == 9


async def test_a_failed_cell_is_marked_and_the_others_still_make_the_grid(run_sweep, tmp_path):
    class RefusesPixelArt(Counting):
        async def generate(self, request, limiter, notify=None):
            if "pixel art" in request.prompt:
                raise NodeError("the model refused (IMAGE_SAFETY).")
            return await super().generate(request, limiter, notify)

    result, provider = await run_sweep(sweep_doc(), provider=RefusesPixelArt())
    assert result.status == "failed" and result.nodes["sweep"].status == "done"
    assert sorted(n for n, r in result.nodes.items() if r.status == "failed") == ["gen@x3y1", "gen@x3y2", "gen@x3y3"]
    rows = read_cells(tmp_path)
    assert [r["status"] for r in rows] == ["made", "made", "failed"] * 3 and rows[2]["file"] == ""
    assert len(result.output("sweep", "images")) == 6
    grid, cells = result.output("sweep", "grid"), result.nodes["sweep"].meta["sweep"]["cells"]
    left, top, right, bottom = cells[2]["box"]
    assert grid.getpixel(((left + right) // 2, top + 4)) == (250, 228, 228)  # the failed cell's shade


def test_star_means_every_value_the_param_offers(catalogue):
    models = expand(from_dict(sweep_doc(x="gen.model", x_values="*", y="", y_values="")), catalogue)
    live = [m for m in IMAGE_MODELS if MODELS[m].status == "live"]
    assert [models.workflow.nodes[n].params["model"] for n in models.copies["gen"]] == live
    assert "gemini-2.5-flash-image" in IMAGE_MODELS and "gemini-2.5-flash-image" not in live  # deprecated
    ratios = expand(from_dict(sweep_doc(y="gen.aspect_ratio", y_values="*")), catalogue)
    takes = catalogue.get("gemini.generate").param("aspect_ratio").choices
    assert len(ratios.copies["gen"]) == 3 * len(takes)


def test_copies_know_their_cells():
    assert serves("gen@3", 3, 0, 0) and not serves("gen@3", 4, 0, 0)
    assert serves("style@x2", 5, 1, 1) and not serves("style@x2", 4, 0, 1)
    assert serves("gen@x1y2", 4, 0, 1) and not serves("gen@x1y2", 1, 0, 0)
    assert serves("gen", 1, 0, 0) is None
    assert original_id("gen@x1y2") == "gen" and original_id("gen@3") == "gen"


@pytest.mark.parametrize("change, words", [
    ({"x": "gen.colour"}, ["'gen.colour' is not a param", "gen has params"]),
    ({"x": "nowhere.text"}, ["'nowhere.text' is not a param"]),
    ({"x": ""}, ["x names no param"]),
    ({"y_values": "1\nlots"}, ["'lots' is not a value of gen.seed"]),
    ({"y": "gen.aspect_ratio", "y_values": "1:1\n7:3"}, ["'7:3' is not a value of gen.aspect_ratio", "Choose from"]),
    ({"mode": "paired", "y_values": "1\n2"}, ["paired needs as many y values as x values"]),
    ({"y": "style.text"}, ["x and y both sweep style.text"]),
    ({"y": "subject.text", "y_values": "*"}, ["* means every value subject.text offers, but it takes any value"]),
    ({"y_values": "\n".join(map(str, range(40)))}, ["would make 120 cells; a sweep makes at most 100"]),
    ({"y_values": "1\n1"}, ["listed twice"]),
])
def test_a_bad_sweep_is_a_problem_naming_the_sweep(catalogue, change, words):
    problems = validate(from_dict(sweep_doc(**change)), catalogue)
    assert problems and all(p.node == "sweep" for p in problems)
    text = " ".join(f"{p.message} {p.hint}" for p in problems)
    for word in words:
        assert word in text, text


def test_an_image_the_sweep_does_not_vary_is_a_problem(catalogue):
    doc = sweep_doc()
    doc["nodes"]["other"] = {"type": "gemini.generate", "params": {"prompt": "a cat"}}
    doc["nodes"]["sweep"]["inputs"]["image"] = "other.image"
    problems = validate(from_dict(doc), catalogue)
    assert [p.port for p in problems] == ["image"] and "does not depend on style.text or gen.seed" in problems[0].message


def test_dry_run_counts_the_calls_and_prices_them_before_anything_runs(tmp_path):
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps(sweep_doc()))
    done = subprocess.run([sys.executable, "-m", "flowbanana", "run", str(path), "--dry-run", "--provider", "gemini",
                           "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache")],
                          capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    model = lookup(DEFAULT_IMAGE_MODEL)
    price = 3 * sum(model.estimate(size="1K", prompt=f"a lighthouse, {style}") for style in STYLES)
    assert "A real run (gemini) would make 9 model calls:" in done.stdout
    assert f"Estimated cost: ${price:.3f}" in done.stdout and price > 0
    assert not (tmp_path / "out").exists()


async def test_the_compare_models_example_puts_every_table_model_side_by_side(tmp_path):
    result = await flowbanana.run_async(flowbanana.load(ROOT / "workflows" / "compare-models.json"), out_dir=tmp_path / "out",
                                        cache_dir=tmp_path / "cache", provider="offline")
    assert result.ok
    cells = result.nodes["compare"].meta["sweep"]["cells"]
    assert [c["values"]["gen.model"] for c in cells] == [m for m in IMAGE_MODELS if MODELS[m].status == "live"]
