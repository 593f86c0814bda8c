"""Every workflows/*.json is canonical, valid and runs offline; the node library's examples make what they say."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops

import flowbanana
from flowbanana import provenance
from flowbanana.workflow import load

WORKFLOWS = Path(__file__).parents[2] / "workflows"
EXAMPLES = sorted(WORKFLOWS.glob("*.json"))


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No API key in reach: examples must run without one."""
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)


async def run_example(name: str, tmp_path: Path, **kwargs):
    result = await flowbanana.run_async(WORKFLOWS / name, out_dir=tmp_path / "out", cache_dir=tmp_path / "cache",
                                        **kwargs)
    assert result.ok, {n: (r.status, r.error) for n, r in result.nodes.items() if not r.ok}
    return result, {p.name: Image.open(p) for p in result.files}


def test_the_node_library_examples_exist():
    assert {"social-sizes.json", "watermark-export.json", "contact-sheet.json"} <= {p.name for p in EXAMPLES}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
async def test_example_is_canonical_valid_and_runs_offline(path, tmp_path):
    workflow = load(path)
    assert workflow.dumps() == path.read_text(encoding="utf-8"), "save it with Workflow.dumps()"
    assert workflow.description, "each example says what it does"
    assert flowbanana.validate(workflow) == []
    result = await flowbanana.run_async(workflow, out_dir=tmp_path / "out", cache_dir=tmp_path / "cache")
    assert result.ok, {n: (r.status, r.error) for n, r in result.nodes.items() if not r.ok}
    assert all(Path(f).is_relative_to(tmp_path / "out") for f in result.files)


async def test_social_sizes_makes_three_feed_sizes(tmp_path):
    _, files = await run_example("social-sizes.json", tmp_path)
    assert {n: (f.format, f.size) for n, f in files.items()} == {
        "square_1080x1080.jpg": ("JPEG", (1080, 1080)), "portrait_1080x1350.jpg": ("JPEG", (1080, 1350)),
        "story_1080x1920.jpg": ("JPEG", (1080, 1920))}
    story = files["story_1080x1920.jpg"].convert("RGB")
    top, middle = story.getpixel((540, 10)), story.getpixel((540, 960))
    assert all(abs(a - b) <= 3 for a, b in zip(top, (0xEC, 0xE4, 0xD8)))  # the pad colour above the photo
    assert middle[0] > 200 and middle[2] < 100                           # the orange ball in the middle


async def test_social_sizes_takes_another_photo(tmp_path):
    Image.new("RGB", (300, 600), "navy").save(tmp_path / "tall.png")
    _, files = await run_example("social-sizes.json", tmp_path, inputs={"photo": str(tmp_path / "tall.png")},
                                 read_roots=(tmp_path,))
    assert files["square_1080x1080.jpg"].size == (1080, 1080)


async def test_watermark_export_stamps_logo_and_line(tmp_path):
    result, files = await run_example("watermark-export.json", tmp_path, inputs={"watermark": "© Test 2026"})
    web, thumb = files["photo_web.jpg"], files["photo_thumb.webp"]
    assert web.size == (900, 600) and thumb.format == "WEBP" and thumb.size == (400, 267)
    plain = result.output("fit")
    stamped = web.convert("RGB")
    logo_spot = (900 - 24 - 160, 24 + 30)   # inside the logo's dark plate
    assert sum(stamped.getpixel(logo_spot)) < sum(plain.getpixel(logo_spot)) - 150
    line = ImageChops.difference(result.output("mark"), result.output("stamp")).getbbox()
    assert line and line[0] > 450 and line[1] > 500 and line[2] <= 900 - 28 and line[3] <= 600 - 28


async def test_contact_sheet_captions_every_shot(tmp_path):
    result, files = await run_example("contact-sheet.json", tmp_path)
    assert result.output("folder", "names") == ["01-lemon", "02-plum", "03-sage", "04-coral", "05-sky", "06-slate"]
    sheet = files["contact-sheet.png"]
    assert sheet.width == 2 * 24 + 3 * (240 + 16) + 16
    first_cell = (24 + 16 + 120, 24 + 16 + 100)
    assert sheet.getpixel(first_cell)[:3] == pytest.approx((245, 208, 50), abs=12)  # the lemon triangle
    caption = sheet.crop((40, 40 + 180, 40 + 240, 40 + 180 + 16)).convert("L")
    assert caption.getextrema()[1] > 150  # light caption text on the dark sheet


async def test_polaroid_pair_uses_one_subgraph_twice_and_caches_its_inner_nodes(tmp_path):
    result, files = await run_example("polaroid-pair.json", tmp_path)
    sheet = files["polaroid-pair.png"].convert("RGB")
    assert sheet.size == result.output("sheet").size
    assert {"left/caption", "right/caption", "left/tilt", "right/tilt"} <= set(result.nodes)
    assert "left/photo" not in result.nodes      # each print takes its photo from outside: the default never loads
    r, g, b = sheet.getpixel((330, 345))          # the ball in the colour print
    assert r > 150 and b < 60
    assert len(set(sheet.getpixel((948, 350)))) == 1  # and in the black-and-white one
    again, _ = await run_example("polaroid-pair.json", tmp_path, inputs={"right_caption": "Grey"})
    rerun = {n for n, r in again.nodes.items() if r.status == "done"}
    assert rerun == {"right/caption", "right/tilt", "right/show", "sheet", "save"}


async def test_polaroid_runs_alone_on_the_example_photo(tmp_path):
    result, _ = await run_example("polaroid.json", tmp_path)
    assert result.named_outputs()["print"].mode == "RGBA"   # its declared output, by name


def test_the_readme_first_command_runs(tmp_path):
    """`flowbanana run workflows/social-sizes.json`, as a user types it, with no key and no cache."""
    done = subprocess.run([sys.executable, "-m", "flowbanana", "run", str(WORKFLOWS / "social-sizes.json"),
                           "--out", str(tmp_path / "out"), "--no-cache"], capture_output=True, text=True,
                          timeout=120, env={k: v for k, v in os.environ.items() if "API_KEY" not in k})
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "portrait_1080x1350.jpg", "square_1080x1080.jpg", "story_1080x1920.jpg"]
    assert "square_1080x1080.jpg" in done.stdout


def test_catalogue_batch_with_a_users_csv_of_another_length_saves_each_shot_under_its_own_sku(tmp_path):
    """`--set csv=mine.csv` changes the one CSV reader, so prompts and file names come from the same rows."""
    rows = [("tea-09", "a cast iron teapot"), ("pen-07", "a fountain pen"), ("bag-05", "a leather satchel"),
            ("cup-03", "a glass espresso cup"), ("hat-01", "a straw sun hat")]
    (tmp_path / "mine.csv").write_text("product,sku\n" + "".join(f"{p},{s}\n" for s, p in rows))  # other order
    done = subprocess.run([sys.executable, "-m", "flowbanana", "run", str(WORKFLOWS / "catalogue-batch.json"),
                           "--set", "csv=mine.csv", "--out", str(tmp_path / "out"), "--no-cache",
                           "--provider", "offline"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    saved = {p.stem: p for p in (tmp_path / "out").iterdir()}
    assert sorted(saved) == sorted(sku for sku, _ in rows)
    for sku, product in rows:
        _, record = provenance.read(saved[sku])
        prompt = next(step["prompt"] for step in record["steps"] if step["node"] == "generate")
        assert prompt.startswith(product + ",")
