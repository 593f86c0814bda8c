"""Masks and sharing in a real browser: paint a mask with the pointer and inpaint through it, compare before and
after, open a workflow from a picture or a bundle dropped on the canvas, export a bundle from the File menu."""
from __future__ import annotations

import base64
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw

from flowbanana.bundle import export_bundle
from flowbanana.catalogue import load_catalogue
from flowbanana.workflow import load
from test_editor import STATE, nodes

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
PAINT = {
    "format": "flowbanana/workflow", "version": 2, "name": "Paint and inpaint",
    "nodes": {
        "photo": {"type": "image.load", "params": {"path": "inputs/stripes.png"}},
        "paint": {"type": "mask.paint", "inputs": {"image": "photo.image"}},
        "inpaint": {"type": "gemini.inpaint", "params": {"instruction": "a red balloon", "feather": 0},
                    "inputs": {"image": "photo.image", "mask": "paint.mask"}},
        "save": {"type": "image.save", "params": {"filename": "painted.png"}, "inputs": {"image": "inpaint.image"}},
    },
    "ui": {"nodes": {"photo": {"x": 40, "y": 60}, "paint": {"x": 380, "y": 300}, "inpaint": {"x": 720, "y": 40},
                     "save": {"x": 1060, "y": 80}}},
}

GENERATE = {
    "format": "flowbanana/workflow", "version": 2, "name": "Generate and paint",
    "nodes": {"generate": {"type": "gemini.generate", "params": {"prompt": "a cat on a sofa"}},
              "paint": {"type": "mask.paint", "inputs": {"image": "generate.image"}},
              "show": {"type": "image.preview", "inputs": {"image": "paint.mask"}}},
}


@pytest.fixture(scope="module")
def workflows(editor_server) -> Path:
    """The server's workflows folder with a picture to paint on, the paint workflow and the inpaint example."""
    folder = editor_server.workflows
    (folder / "inputs").mkdir(exist_ok=True)
    stripes = Image.new("RGB", (320, 200), (40, 60, 90))
    draw = ImageDraw.Draw(stripes)
    for x in range(0, 320, 20):
        draw.rectangle((x, 0, x + 9, 199), fill=(220, 200, 80))
    stripes.save(folder / "inputs" / "stripes.png")
    (folder / "paint-and-inpaint.json").write_text(json.dumps(PAINT))
    (folder / "generate-and-paint.json").write_text(json.dumps(GENERATE))
    shutil.copy(ROOT / "workflows" / "inpaint-mask.json", folder)
    shutil.copy(ROOT / "workflows" / "inputs" / "product.jpg", folder / "inputs")
    shutil.copytree(ROOT / "workflows" / "masks", folder / "masks", dirs_exist_ok=True)
    return folder


def discard_if_asked(page, opened: str) -> None:
    """Wait until `opened` (a JS condition) holds, answering a 'discard unsaved changes?' question on the way."""
    asked = "document.body.innerText.includes('Discard the unsaved')"
    page.wait_for_function(f"({opened}) || {asked}")
    if page.evaluate(asked):
        page.get_by_role("button", name="Discard").click()
    page.wait_for_function(opened)


def open_template(page, stem: str, node: str) -> None:
    """File > the template; waits until the canvas has loaded it afresh (a new graph with the node `node`)."""
    page.evaluate(f"window.shownBefore = {STATE}.nodes")
    page.click("[data-testid=file-menu]")
    page.click(f"[data-testid=template-{stem}]")
    discard_if_asked(page, f"{STATE}.nodes !== window.shownBefore && {STATE}.nodes['{node}'] !== undefined")


def drop_file(page, path: Path, mime: str) -> None:
    """Drop a file from 'the desktop' onto the canvas, as a user dragging it from a file manager."""
    data = base64.b64encode(path.read_bytes()).decode()
    transfer = page.evaluate_handle("""([name, data, mime]) => {
        const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        const dt = new DataTransfer(); dt.items.add(new File([bytes], name, {type: mime})); return dt; }""",
                                    [path.name, data, mime])
    box = page.locator(".fb-viewport").bounding_box()
    page.dispatch_event(".fb-viewport", "drop", {"dataTransfer": transfer, "clientX": box["x"] + 300,
                                                "clientY": box["y"] + 300})


def paint_stroke(page, canvas, start: float, length: float) -> None:
    """Drag the pointer across the mask canvas at half its height, from `start` for `length` of its width."""
    box = canvas.bounding_box()
    left, top = box["x"] + box["width"] * start, box["y"] + box["height"] * 0.5
    page.mouse.move(left, top)
    page.mouse.down()
    page.mouse.move(left + box["width"] * length, top + 10, steps=12)
    page.mouse.up()


def run_and_wait(page, node: str) -> None:
    page.click("[data-testid=run]")
    page.wait_for_function(f"['done', 'cached'].includes(({STATE}.statuses.{node} || {{}}).state)", timeout=30000)


def test_paint_a_stroke_inpaint_and_keep_every_pixel_outside(page, workflows, editor_server):
    open_template(page, "paint-and-inpaint", "paint")
    page.click(".fb-node[data-node='paint'] [data-paint]")
    canvas = page.locator("[data-testid=mask-canvas]")
    canvas.wait_for()
    page.wait_for_function("window.flowbananaMask && window.flowbananaMask.ready")
    paint_stroke(page, canvas, 0.25, 0.4)
    page.click("[data-testid=mask-save]")
    page.wait_for_function(f"({STATE}.nodes.paint.params.mask || '').startsWith('masks/paint-')")
    value = nodes(page)["paint"]["params"]["mask"]
    mask = Image.open(workflows / value)
    assert mask.mode == "L" and mask.size == (320, 200)  # the image's size, whatever the zoom
    painted = mask.point(lambda v: 255 if v else 0).getbbox()
    assert painted and painted[2] - painted[0] > 100 and 60 < painted[1] < 100  # a horizontal stroke across the middle
    assert mask.getpixel((5, 5)) == 0

    page.keyboard.press("Control+s")  # the mask is a file beside the saved workflow: it survives a reload
    page.locator("input[data-testid=save-name]").fill("painted")  # a template's copy is saved under a new name
    page.locator("[data-testid=save-confirm]").click()
    page.get_by_text("Saved painted.json").wait_for()
    assert json.loads((workflows / "painted.json").read_text())["nodes"]["paint"]["params"]["mask"] == value
    assert "masks/" not in (workflows / "paint-and-inpaint.json").read_text()  # the template is as it was
    page.reload()
    page.wait_for_function(f"{STATE} && {STATE}.nodes.paint && {STATE}.nodes.paint.params.mask === '{value}'")
    page.click("[data-testid=file-menu]")
    with page.expect_download() as download:  # ... and a bundle carries it
        page.click("[data-testid=export-bundle]")
    with zipfile.ZipFile(download.value.path()) as archive:
        assert archive.read(value) == (workflows / value).read_bytes()

    run_and_wait(page, "save")
    painted = max(editor_server.out.glob("runs/*/outputs/painted.png"), key=lambda p: p.stat().st_mtime)
    result = Image.open(painted).convert("RGB")  # each run has its own folder
    original = Image.open(workflows / "inputs" / "stripes.png").convert("RGB")
    outside = mask.point(lambda v: 255 if v == 0 else 0)
    changed = ImageChops.difference(result, original).convert("L").point(lambda v: 255 if v else 0)
    assert ImageChops.multiply(changed, outside).getbbox() is None  # not one pixel outside the mask changed
    assert ImageChops.multiply(changed, mask.point(lambda v: 255 if v == 255 else 0)).getbbox()  # inside did


def test_the_mask_editor_undoes_inverts_and_runs_for_a_missing_picture(page, workflows):
    open_template(page, "paint-and-inpaint", "paint")  # not run: the picture comes from the file image.load reads
    page.click(".fb-node[data-node='paint'] [data-paint]")
    page.wait_for_function("window.flowbananaMask && window.flowbananaMask.ready")
    painted = "window.flowbananaMask.mask.reduce((a, v) => a + v, 0)"
    before = page.evaluate(painted)
    page.click("[data-testid=mask-invert]")
    page.wait_for_function(f"{painted} === 255 * 320 * 200 - {before}")
    page.click("[data-testid=mask-clear]")
    page.wait_for_function(f"{painted} === 0")
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+z")
    page.wait_for_function(f"{painted} === {before} && window.flowbananaMask.redoCount === 2")
    page.keyboard.press("Control+Shift+z")
    page.wait_for_function(f"{painted} === 255 * 320 * 200 - {before}")
    page.keyboard.press("Escape")
    page.locator("[data-testid=mask-canvas]").wait_for(state="detached")
    assert nodes(page)["paint"]  # Escape left the dialog, not the graph (Delete and Ctrl+Z stay in the dialog)

    open_template(page, "generate-and-paint", "generate")  # nothing has made the picture yet
    page.click(".fb-node[data-node='paint'] [data-paint]")
    prompt = page.locator("[data-testid=mask-no-image]")
    prompt.wait_for()
    assert "Run generate once" in prompt.inner_text()
    page.click("[data-testid=mask-run]")  # runs what makes the picture, then paints over it
    page.wait_for_function("window.flowbananaMask && window.flowbananaMask.ready", timeout=30000)
    assert page.evaluate("[window.flowbananaMask.width, window.flowbananaMask.height]") == [1024, 1024]
    page.click("[data-testid=mask-cancel]")


def test_touch_paints_two_fingers_zoom_and_a_pen_paints_by_pressure(page, workflows):
    """Pointer events from a touch screen and a pen, as the browser makes them from real devices (through CDP)."""
    open_template(page, "paint-and-inpaint", "paint")
    page.click(".fb-node[data-node='paint'] [data-paint]")
    page.wait_for_function("window.flowbananaMask && window.flowbananaMask.ready")
    cdp = page.context.new_cdp_session(page)
    box = page.locator("[data-testid=mask-canvas]").bounding_box()
    painted = "window.flowbananaMask.mask.reduce((n, v) => n + (v > 0), 0)"

    def touch(kind, *points):
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y} for x, y in points]})

    def pen(kind, x, y, force):
        cdp.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "buttons": 1,
                                              "clickCount": 1, "pointerType": "pen", "force": force})

    x, y = box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.3
    touch("touchStart", (x, y))
    for step in range(1, 8):
        touch("touchMove", (x + step * 25, y))
    touch("touchEnd")
    page.wait_for_function(f"{painted} > 0")
    by_finger = page.evaluate(painted)

    zoom = page.evaluate("window.flowbananaMask.view.zoom")
    middle = (box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.7)
    touch("touchStart", (middle[0] - 30, middle[1]), (middle[0] + 30, middle[1]))
    for step in range(1, 6):
        touch("touchMove", (middle[0] - 30 - step * 20, middle[1]), (middle[0] + 30 + step * 20, middle[1]))
    touch("touchEnd")
    page.wait_for_function(f"window.flowbananaMask.view.zoom > {zoom * 1.5}")
    assert page.evaluate(painted) == by_finger  # a pinch zooms; it paints nothing

    page.click("[data-testid=mask-clear]")
    page.wait_for_function(f"{painted} === 0")
    widths = []
    for force in (0.15, 1.0):
        top = box["y"] + 20
        pen("mousePressed", x, top, force)
        for step in range(1, 8):
            pen("mouseMoved", x + step * 25, top, force)
        pen("mouseReleased", x + 175, top, force)
        page.wait_for_function(f"{painted} > 0")
        widths.append(page.evaluate("""() => { const m = window.flowbananaMask; let top = m.height, bottom = -1;
            for (let i = 0; i < m.mask.length; i++) if (m.mask[i]) { const r = Math.floor(i / m.width);
                top = Math.min(top, r); bottom = Math.max(bottom, r); } return bottom - top + 1; }"""))
        page.click("[data-testid=mask-clear]")
    assert widths[0] < widths[1] / 3  # light pressure, a thin line
    page.click("[data-testid=mask-cancel]")


def test_compare_slider_over_an_inpaint_result(page, workflows):
    open_template(page, "inpaint-mask", "paint")
    run_and_wait(page, "inpaint")
    page.click(".fb-node[data-node='inpaint'] [data-compare]")
    compare = page.locator("[data-testid=compare]")
    compare.wait_for()
    before, after = (page.locator(f"[data-testid=compare] img[alt={n}]") for n in ("before", "after"))
    assert before.get_attribute("src").startswith("/flowbanana/media/")
    assert after.get_attribute("src") != before.get_attribute("src")
    page.wait_for_function("document.querySelector(\"[data-testid=compare] img[alt=after]\").naturalWidth === 900")
    box = compare.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.2, box["y"] + box["height"] / 2)
    page.wait_for_function("Math.abs(window.flowbananaCompare.split - 20) < 2")
    assert "inset(0px 80%" in before.evaluate("e => getComputedStyle(e).clipPath")
    assert page.locator("[data-testid=compare-slider]").is_visible()
    page.click("[data-testid=compare-close]")
    compare.wait_for(state="detached")


def test_dropping_a_picture_opens_the_workflow_inside_it(page, workflows, editor_server, tmp_path):
    open_template(page, "inpaint-mask", "paint")
    run_and_wait(page, "save")  # image.save embeds the workflow in the PNG it writes
    made = max(editor_server.out.glob("runs/*/outputs/inpainted_*.png"), key=lambda p: p.stat().st_mtime)
    open_template(page, "hello-gemini", "generate")
    drop_file(page, made, "image/png")
    discard_if_asked(page, f"{STATE}.nodes.paint !== undefined && {STATE}.nodes.generate === undefined")
    assert page.locator("input[data-testid=wf-name]").input_value() == "Inpaint a painted area"
    shown = nodes(page)
    assert set(shown) == {"photo", "paint", "inpaint", "save"}
    assert shown["paint"]["params"]["mask"] == "masks/inpaint-ball.png"

    plain = tmp_path / "plain.png"  # a picture without a workflow: File > Open says so (a drop loads it instead)
    Image.new("RGB", (8, 8)).save(plain)
    page.click("[data-testid=file-menu]")
    page.get_by_text("Open (.json, image, .zip bundle)…").click()
    page.locator(".q-dialog input[type=file]").set_input_files(str(plain))
    page.get_by_text("holds no flowbanana workflow").wait_for()


def test_bundles_open_by_drop_and_export_from_the_file_menu(page, workflows, tmp_path):
    bundle = export_bundle(load(workflows / "inpaint-mask.json"), load_catalogue(), tmp_path / "shared.zip")
    bundled = f"{STATE}.nodes.paint && {STATE}.nodes.paint.params.mask === 'masks/inpaint-ball.png'"
    open_template(page, "paint-and-inpaint", "paint")
    page.click("[data-testid=file-menu]")
    page.get_by_text("Open (.json, image, .zip bundle)…").click()  # the File menu's upload takes bundles too
    page.locator(".q-dialog input[type=file]").set_input_files(str(bundle))
    discard_if_asked(page, bundled)

    open_template(page, "paint-and-inpaint", "paint")
    drop_file(page, bundle, "application/zip")
    discard_if_asked(page, bundled)
    run_and_wait(page, "inpaint")  # reads the photo and the mask from the unpacked bundle

    page.click("[data-testid=file-menu]")
    with page.expect_download() as download:
        page.click("[data-testid=export-bundle]")
    path = tmp_path / "exported.zip"
    download.value.save_as(path)
    assert download.value.suggested_filename == "Inpaint-a-painted-area.zip"
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        shipped = json.loads(archive.read("workflow.json"))
    assert {"workflow.json", "manifest.json", "masks/inpaint-ball.png", "inputs/product.jpg"} <= names
    assert shipped["nodes"]["paint"]["params"]["mask"] == "masks/inpaint-ball.png"
