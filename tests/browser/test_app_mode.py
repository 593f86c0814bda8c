"""App mode in a real browser: `flowbanana ui --app FILE` as someone who never sees the graph uses it (choose a
photo, paint the area, write the instruction, pick a size, see the cost, run, download the result), at laptop
and phone widths; and the editor's App button opening the workflow of its tab."""
from __future__ import annotations

import json
import shutil
import urllib.request
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw

from test_mask_and_sharing import paint_stroke

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
APP = "touch-up-app.json"  # the app_server fixture (conftest.py) serves it with --app
ARTIFACTS = ROOT / "test-artifacts"
SIZES = {"laptop": (1280, 800), "phone": (390, 844)}


@pytest.fixture
def stripes(tmp_path) -> Path:
    """The photo a user picks from their disk: stripes, so that a changed pixel shows."""
    image = Image.new("RGB", (320, 200), (40, 60, 90))
    draw = ImageDraw.Draw(image)
    for x in range(0, 320, 20):
        draw.rectangle((x, 0, x + 9, 199), fill=(220, 200, 80))
    path = tmp_path / "my-photo.png"
    image.save(path)
    return path


def open_app(browser, url: str, size: str):
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url)
    page.locator("[data-testid=app-run]").wait_for()
    return context, page


def cost_shown(page) -> str:
    page.wait_for_function("(t => t && !t.includes('Working'))("
                           "document.querySelector('[data-testid=app-cost]').innerText)")
    return page.locator("[data-testid=app-cost]").inner_text()


@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_an_app_is_filled_in_painted_run_and_downloaded(browser, app_server, stripes, size, tmp_path):
    saved = (app_server.workflows / APP).read_text()
    context, page = open_app(browser, app_server.url, size)
    assert page.locator("[data-testid=app-title]").inner_text() == "Product touch-up"
    assert page.locator("canvas, .fb-viewport").count() == 0  # no graph anywhere
    page.screenshot(path=str(ARTIFACTS / f"app-{size}-form.png"), full_page=True)
    assert cost_shown(page).startswith("Free: 1 model call")  # the offline preview: priced before running

    with page.expect_file_chooser() as chooser:  # the photo, from "the desktop"
        page.click("[data-testid=app-choose-photo]")
    chooser.value.set_files(str(stripes))
    page.locator("[data-testid=app-field-photo] .fb-app-filename").get_by_text("my-photo.png").wait_for()

    page.click("[data-testid=app-paint-area]")  # painted over the photo just chosen, at its size
    page.wait_for_function("window.flowbananaMask && window.flowbananaMask.ready")
    assert page.evaluate("[window.flowbananaMask.width, window.flowbananaMask.height]") == [320, 200]
    page.click("[data-testid=mask-clear]")  # the workflow's own mask was shown to start from
    canvas = page.locator("[data-testid=mask-canvas]")
    paint_stroke(page, canvas, 0.3, 0.3)
    page.click("[data-testid=mask-save]")
    canvas.wait_for(state="detached")
    page.locator("[data-testid=app-field-area]").get_by_text("painted", exact=True).wait_for()

    page.locator("[data-testid=app-field-instruction] textarea").fill("a red paper lantern")
    page.click("[data-testid=app-field-size] .q-select")
    page.get_by_role("option", name="512").click()
    page.locator("[data-testid=app-field-size]").get_by_text("512").wait_for()
    assert cost_shown(page).startswith("Free: 1 model call")

    page.click("[data-testid=app-run]")
    result = page.locator("[data-testid=app-output-image]")
    result.wait_for(timeout=30000)
    page.locator("[data-testid=app-form]").get_by_text("Done in").wait_for()
    assert page.locator("[data-testid=app-files]").get_by_text("touched-up_1.png").count() == 1
    with page.expect_download() as download:
        page.click("[data-testid=app-download]")
    assert download.value.suggested_filename == "result-1.png"
    kept = tmp_path / "result.png"
    download.value.save_as(kept)
    made = Image.open(kept).convert("RGB")
    original = Image.open(stripes).convert("RGB")
    assert made.size == original.size
    masks = sorted((app_server.out / "uploads" / "masks").glob("paint-*.png"), key=lambda p: p.stat().st_mtime)
    mask = Image.open(masks[-1]).convert("L")
    assert mask.size == (320, 200) and mask.getbbox()  # the stroke, at the photo's size
    changed = ImageChops.difference(made, original).convert("L").point(lambda v: 255 if v else 0)
    assert ImageChops.multiply(changed, mask.point(lambda v: 255 if v == 0 else 0)).getbbox() is None
    assert changed.getbbox()  # inside the painted area it did change

    run_id = page.locator("[data-testid=app-outputs]").get_attribute("data-run")
    runs = page.locator("[data-testid=history-run]")  # the app's own runs, newest first
    page.locator(f"[data-testid=history-run][data-run='{run_id}'][data-status=done]").wait_for()
    assert runs.first.get_attribute("data-run") == run_id
    page.screenshot(path=str(ARTIFACTS / f"app-{size}-result.png"), full_page=True)
    assert (app_server.workflows / APP).read_text() == saved  # the user's choices went into the run, not the file
    assert sorted(p.name for p in (app_server.workflows / "inputs").iterdir()) == \
        sorted(p.name for p in (ROOT / "workflows" / "inputs").iterdir())
    record = json.loads(urllib.request.urlopen(f"{app_server.url}api/runs/{run_id}", timeout=10).read())
    assert record["origin"] == "app" and record["inputs"]["instruction"] == "a red paper lantern"
    assert record["inputs"]["size"] == "512"
    assert not page.errors, page.errors
    context.close()


def test_a_file_that_is_not_a_picture_is_refused_with_a_reason(browser, app_server, tmp_path):
    fake = tmp_path / "holiday.png"
    fake.write_text("not a picture at all")
    context, page = open_app(browser, app_server.url, "laptop")
    with page.expect_file_chooser() as chooser:
        page.click("[data-testid=app-choose-photo]")
    chooser.value.set_files(str(fake))
    page.get_by_text("photo: not a readable image").wait_for()
    assert page.locator("[data-testid=app-field-photo] .fb-app-filename").inner_text() == "product.jpg"  # as it was
    assert not page.errors, page.errors
    context.close()


def test_the_editor_opens_its_workflow_as_an_app(page, editor_server):
    page.locator("input[data-testid=wf-name]").fill("Hello as an app")  # unsaved: the app is of this tab's copy
    page.locator("input[data-testid=wf-name]").press("Enter")
    page.wait_for_function("document.title.includes('Hello as an app')")
    with page.context.expect_page() as opened:
        page.click("[data-testid=app-view]")
    app = opened.value
    app.locator("[data-testid=app-run]").wait_for()
    assert app.locator("[data-testid=app-title]").inner_text() == "Hello as an app"
    for name in ("subject", "style"):  # hello-gemini's inputs
        assert app.locator(f"[data-testid=app-field-{name}]").count() == 1
    assert app.locator(".fb-viewport").count() == 0
    app.close()


def test_an_image_input_port_is_a_picture_to_choose(browser, app_server, stripes):
    """polaroid.json's photo is an input port (a link feeds it when the workflow is a node): the app asks for a
    picture, which an image.load node then feeds in; /app/NAME serves any saved workflow beside the app."""
    shutil.copy(ROOT / "workflows" / "polaroid.json", app_server.workflows)
    context, page = open_app(browser, f"{app_server.url}app/polaroid", "laptop")
    photo = page.locator("[data-testid=app-field-photo]")
    assert photo.locator(".fb-app-filename").inner_text() == "the workflow's own"
    with page.expect_file_chooser() as chooser:
        page.click("[data-testid=app-choose-photo]")
    chooser.value.set_files(str(stripes))
    photo.locator(".fb-app-filename").get_by_text("my-photo.png").wait_for()
    page.locator("[data-testid=app-field-caption] textarea").fill("Stripes")
    tilt = page.locator("[data-testid=app-field-tilt] input")
    tilt.fill("")  # emptied: the workflow's own tilt, not a problem
    tilt.blur()
    page.click("[data-testid=app-run]")
    page.locator("[data-testid=app-output-image]").wait_for(timeout=30000)
    run_id = page.locator("[data-testid=app-outputs]").get_attribute("data-run")
    record = json.loads(urllib.request.urlopen(f"{app_server.url}api/runs/{run_id}", timeout=10).read())
    assert record["status"] == "done" and record["inputs"]["caption"] == "Stripes" and "tilt" not in record["inputs"]
    assert record["inputs"]["photo"].startswith("uploads/")  # kept in the uploads folder (the API names no paths)
    assert record["nodes"]["photo-file"]["status"] in ("done", "cached")  # the loader that fed the port
    page.screenshot(path=str(ARTIFACTS / "app-image-port.png"), full_page=True)
    assert not page.errors, page.errors
    context.close()


def test_a_csv_input_makes_a_batch_app(browser, app_server, tmp_path):
    """catalogue-batch.json as an app: a CSV of the user's own products makes one shot per row, saved by SKU."""
    shutil.copy(ROOT / "workflows" / "catalogue-batch.json", app_server.workflows)
    rows = tmp_path / "my-products.csv"
    rows.write_text("sku,product\nkettle-7,a copper kettle\nvase-9,a tall blue vase\n")
    context, page = open_app(browser, f"{app_server.url}app/catalogue-batch", "laptop")
    assert page.locator("[data-testid=app-field-csv] .fb-app-label").inner_text() == "CSV"
    with page.expect_file_chooser() as chooser:
        page.click("[data-testid=app-choose-csv]")
    chooser.value.set_files(str(rows))
    page.locator("[data-testid=app-field-csv] .fb-app-filename").get_by_text("my-products.csv").wait_for()
    page.wait_for_function("document.querySelector('[data-testid=app-cost]').innerText.includes('2 model calls')")
    page.click("[data-testid=app-run]")
    files = page.locator("[data-testid=app-files]")
    files.wait_for(timeout=30000)
    assert sorted(files.inner_text().split()) == ["kettle-7.png", "vase-9.png"]
    assert page.locator("[data-testid=app-output-image]").count() == 2
    page.screenshot(path=str(ARTIFACTS / "app-csv-batch.png"), full_page=True)
    assert not page.errors, page.errors
    context.close()


GENERATE_AND_INPAINT = {
    "format": "flowbanana/workflow", "version": 2, "name": "Dream and fix",
    "inputs": {"idea": {"node": "generate", "param": "prompt"}, "area": {"node": "paint", "param": "mask"},
               "fix": {"node": "inpaint", "param": "instruction"}},
    "outputs": {"picture": {"node": "inpaint", "output": "image"}},
    "nodes": {"generate": {"type": "gemini.generate", "params": {"prompt": "a cat on a sofa", "size": "512"}},
              "paint": {"type": "mask.paint", "inputs": {"image": "generate.image"}},
              "inpaint": {"type": "gemini.inpaint", "params": {"instruction": "a hat", "feather": 0},
                          "inputs": {"image": "generate.image", "mask": "paint.mask"}},
              "show": {"type": "image.preview", "inputs": {"image": "inpaint.image"}}},
}


def test_a_mask_over_a_made_picture_is_painted_after_a_first_run(browser, app_server):
    """The picture under the mask is generated: painting waits for a first run (which says the mask is empty),
    then paints over what that run made."""
    (app_server.workflows / "dream-and-fix.json").write_text(json.dumps(GENERATE_AND_INPAINT))
    context, page = open_app(browser, f"{app_server.url}app/dream-and-fix", "phone")
    page.click("[data-testid=app-paint-area]")
    page.get_by_text("Run the app once first").wait_for()
    page.click("[data-testid=app-run]")  # nothing painted yet: inpaint says so, and the picture is made
    page.locator("[data-testid=app-problems]").get_by_text("the mask is empty").wait_for(timeout=30000)
    page.locator("[data-testid=app-cost]").get_by_text("Free: 1 model call").wait_for()  # worked out again...
    assert "the mask is empty" in page.locator("[data-testid=app-problems]").inner_text()  # ...the run's word stays
    page.click("[data-testid=app-paint-area]")
    page.wait_for_function("window.flowbananaMask && window.flowbananaMask.ready")
    assert page.evaluate("[window.flowbananaMask.width, window.flowbananaMask.height]") == [512, 512]
    paint_stroke(page, page.locator("[data-testid=mask-canvas]"), 0.2, 0.5)
    page.click("[data-testid=mask-save]")
    page.locator("[data-testid=app-field-area]").get_by_text("painted", exact=True).wait_for()
    first = page.locator("[data-testid=app-outputs]").get_attribute("data-run")
    page.click("[data-testid=app-run]")
    page.wait_for_function(f"document.querySelector('[data-testid=app-outputs]').dataset.run !== '{first}'",
                           timeout=30000)
    run_id = page.locator("[data-testid=app-outputs]").get_attribute("data-run")
    record = json.loads(urllib.request.urlopen(f"{app_server.url}api/runs/{run_id}", timeout=10).read())
    assert record["status"] == "done" and record["inputs"]["area"].startswith("uploads/masks/paint-")
    page.screenshot(path=str(ARTIFACTS / "app-mask-port.png"), full_page=True)
    assert not page.errors, page.errors
    context.close()


def test_stop_ends_a_long_run_and_the_app_can_run_again(browser, app_server):
    nap = {"format": "flowbanana/workflow", "version": 2, "name": "Long nap",
           "inputs": {"seconds": {"node": "s", "param": "seconds", "description": "How long to wait"}},
           "nodes": {"s": {"type": "test.sleep", "params": {"seconds": 120}},
                     "show": {"type": "test.show", "inputs": {"value": "s.label"}}}}
    (app_server.workflows / "long-nap.json").write_text(json.dumps(nap))
    context, page = open_app(browser, f"{app_server.url}app/long-nap", "laptop")
    page.click("[data-testid=app-run]")
    stop = page.locator("[data-testid=app-stop]")
    stop.wait_for()
    page.locator("[data-testid=app-form]").get_by_text("Step 1 of 2").wait_for()
    stop.click()
    page.locator("[data-testid=app-form]").get_by_text("Stopped").wait_for(timeout=30000)
    stop.wait_for(state="hidden")
    page.locator("[data-testid=history-run][data-status=cancelled]").wait_for()
    page.locator("[data-testid=app-field-seconds] input").fill("0")
    page.locator("[data-testid=app-field-seconds] input").blur()
    page.click("[data-testid=app-run]")
    page.locator("[data-testid=app-form]").get_by_text("Done in").wait_for(timeout=30000)
    assert not page.errors, page.errors
    context.close()
