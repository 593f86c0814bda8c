"""The editor in a real browser: build a graph from the palette, run it offline, save, reload; refusals; undo."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

pytestmark = pytest.mark.browser

STATE = "window.flowbananaCanvas"


def new_workflow(page) -> None:
    """File > New (discarding whatever the tab had), so each test starts from an empty canvas."""
    page.click("[data-testid=file-menu]")
    page.get_by_text("New", exact=True).click()
    discard_if_asked(page, f"Object.keys({STATE}.nodes).length === 0")


def discard_if_asked(page, done: str) -> None:
    """Wait until `done` (a JS condition) holds, answering 'discard the unsaved changes?' if it is asked."""
    page.wait_for_function(f"({done}) || document.body.innerText.includes('Discard the unsaved')")
    if not page.evaluate(done):
        page.get_by_role("button", name="Discard").click()
    page.wait_for_function(done)


def add_from_palette(page, type_id: str, x: int, y: int) -> str:
    """Drag a palette item onto the canvas at viewport (x, y); returns the new node's id."""
    before = set(nodes(page))
    page.drag_and_drop(f".fb-pal-item[data-type='{type_id}']", ".fb-viewport", target_position={"x": x, "y": y})
    page.wait_for_function(f"Object.keys({STATE}.nodes).length === {len(before) + 1}")
    (new,) = set(nodes(page)) - before
    return new


def nodes(page) -> dict:
    return page.evaluate(f"JSON.parse(JSON.stringify({STATE}.nodes))")


def port(page, node: str, kind: str, name: str):
    return page.locator(f".fb-node[data-node='{node}'] [data-port='{kind}|{name}']")


def drag_link(page, source, target) -> None:
    a, b = source.bounding_box(), target.bounding_box()
    page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move((a["x"] + b["x"]) / 2, (a["y"] + b["y"]) / 2, steps=5)
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=5)
    page.mouse.up()


def test_build_run_save_reload(page, editor_server):
    new_workflow(page)
    text = add_from_palette(page, "text.text", 140, 160)
    gen = add_from_palette(page, "gemini.generate", 520, 120)
    preview = add_from_palette(page, "image.preview", 900, 160)
    assert (text, gen, preview) == ("text", "generate", "preview")

    drag_link(page, port(page, text, "out", "text"), port(page, gen, "in", "prompt"))
    page.wait_for_function(f"{STATE}.nodes.generate.inputs.prompt?.[0] === 'text.text'")
    drag_link(page, port(page, gen, "out", "image"), port(page, preview, "in", "image"))
    page.wait_for_function(f"{STATE}.nodes.preview.inputs.image?.[0] === 'generate.image'")
    page.locator(f".fb-node[data-node='{text}'] textarea[data-param='text']").fill("a yellow bicycle by the sea")
    page.wait_for_function(f"{STATE}.nodes.text.params.text === 'a yellow bicycle by the sea'")
    assert page.locator(".fb-link").count() == 2

    page.keyboard.press("Control+Enter")
    thumb = page.locator(f".fb-node[data-node='{preview}'] img.fb-thumb")
    thumb.wait_for(timeout=20000)
    page.wait_for_function("document.querySelector(\".fb-node[data-node='preview'] img.fb-thumb\").naturalWidth > 0")
    src = thumb.get_attribute("src")
    assert src.startswith("/flowbanana/media/") and "?v=" in src  # served by URL, never base64
    with urllib.request.urlopen(editor_server.url.rstrip("/") + src) as response:
        assert response.headers["content-type"] == "image/jpeg"
    assert page.locator(f".fb-node[data-node='{gen}'] .fb-chip").inner_text().lower().startswith("done")
    assert page.locator("[data-testid=run-status]").inner_text() == "done"

    page.locator("input[data-testid=wf-name]").fill("Bicycle")
    page.locator("input[data-testid=wf-name]").press("Enter")
    page.keyboard.press("Escape")
    page.locator(".fb-viewport").click(position={"x": 700, "y": 700})
    page.keyboard.press("Control+s")
    page.locator("input[data-testid=save-name]").fill("bicycle")
    page.locator("[data-testid=save-confirm]").click()
    page.get_by_text("Saved bicycle.json").wait_for()
    saved = json.loads((editor_server.workflows / "bicycle.json").read_text())
    assert saved["name"] == "Bicycle"
    assert saved["nodes"]["generate"]["inputs"] == {"prompt": "text.text"}
    assert saved["nodes"]["text"]["params"]["text"] == "a yellow bicycle by the sea"
    assert set(saved["ui"]["nodes"]) == {"text", "generate", "preview"}
    assert not page.locator("[data-testid=unsaved]").is_visible()

    before = nodes(page)
    page.reload()
    page.wait_for_function(f"{STATE} && Object.keys({STATE}.nodes).length === 3")
    after = nodes(page)
    assert {k: (v["type"], v["inputs"], v["params"], v["x"], v["y"]) for k, v in after.items()} == \
           {k: (v["type"], v["inputs"], v["params"], v["x"], v["y"]) for k, v in before.items()}
    assert page.locator(".fb-link").count() == 2
    assert page.locator("input[data-testid=wf-name]").input_value() == "Bicycle"


def test_type_mismatched_link_is_refused(page):
    new_workflow(page)
    text = add_from_palette(page, "text.text", 160, 200)
    preview = add_from_palette(page, "image.preview", 620, 200)
    drag_link(page, port(page, text, "out", "text"), port(page, preview, "in", "image"))
    toast = page.locator(".fb-toast")
    toast.wait_for()
    assert "Refused" in toast.inner_text() and "IMAGE" in toast.inner_text()
    assert "fb-toast-refused" in toast.get_attribute("class")
    assert nodes(page)[preview]["inputs"] == {}
    drag_link(page, port(page, text, "out", "text"), page.locator(f".fb-node[data-node='{preview}'] .fb-title"))
    page.get_by_text("nothing on this node fits a TEXT link").wait_for()
    assert nodes(page)[preview]["inputs"] == {}
    assert page.locator(".fb-link").count() == 0


def test_undo_redo(page):
    new_workflow(page)
    text = add_from_palette(page, "text.text", 200, 200)
    field = page.locator(f".fb-node[data-node='{text}'] textarea[data-param='text']")
    field.fill("first")
    page.wait_for_function(f"{STATE}.nodes.{text}.params.text === 'first'")
    page.wait_for_timeout(700)  # let the debounced edit reach Python
    page.locator(".fb-viewport").click(position={"x": 900, "y": 700})

    page.keyboard.press("Control+z")  # undo the param
    page.wait_for_function(f"{STATE}.nodes.{text}.params.text === undefined")
    assert field.input_value() == ""
    page.keyboard.press("Control+z")  # undo adding the node
    page.wait_for_function(f"Object.keys({STATE}.nodes).length === 0")
    page.keyboard.press("Control+Shift+z")
    page.wait_for_function(f"Object.keys({STATE}.nodes).length === 1")
    page.keyboard.press("Control+Shift+z")
    page.wait_for_function(f"{STATE}.nodes.{text}.params.text === 'first'")
    assert field.input_value() == "first"


def test_problems_show_on_nodes_before_running(page):
    new_workflow(page)
    preview = add_from_palette(page, "image.preview", 300, 200)
    page.click("[data-testid=run]")
    error = page.locator(f".fb-node[data-node='{preview}'] .fb-error")
    error.wait_for()
    assert "needs a link into its IMAGE input 'image'" in error.inner_text()
    assert page.locator(f".fb-node[data-node='{preview}'] .fb-chip").count() == 0  # nothing ran


def open_template(page, stem: str) -> None:
    """File > the template, discarding what the tab had; waits for the template's graph."""
    new_workflow(page)
    page.click("[data-testid=file-menu]")
    page.click(f"[data-testid=template-{stem}]")
    discard_if_asked(page, f"Object.keys({STATE}.nodes).length > 0")


def link_midpoint(page, into: str) -> dict:
    """Where on screen the middle of the link into `node.port` is drawn."""
    return page.evaluate("""(into) => { const p = document.querySelector(`.fb-link-hit[data-link-to="${into}"]`);
        const pt = p.getPointAtLength(p.getTotalLength() / 2); const m = p.getScreenCTM();
        return {x: pt.x * m.a + m.e, y: pt.y * m.d + m.f}; }""", into)


def test_select_a_link_and_delete_it_then_duplicate_a_node(page):
    open_template(page, "hello-gemini")
    page.wait_for_function(f"{STATE}.nodes.preview && {STATE}.nodes.preview.inputs.image")
    links = page.locator(".fb-link").count()
    point = link_midpoint(page, "preview.image")
    page.mouse.click(point["x"], point["y"])
    page.wait_for_selector(".fb-link-selected")
    page.keyboard.press("Delete")
    page.wait_for_function(f"Object.keys({STATE}.nodes.preview.inputs).length === 0")
    assert page.locator(".fb-link").count() == links - 1

    page.click(".fb-node[data-node='generate'] .fb-head .fb-title")
    page.keyboard.press("Control+d")
    page.wait_for_function(f"{STATE}.nodes.generate_2 !== undefined")
    copy = nodes(page)["generate_2"]
    assert copy["inputs"] == {"prompt": ["prompt.text"]}  # links from outside the selection are kept
    assert copy["params"]["aspect_ratio"] == "4:3"


def test_a_link_dropped_on_empty_space_offers_only_nodes_that_fit(page):
    new_workflow(page)
    text = add_from_palette(page, "text.text", 160, 200)
    source = port(page, text, "out", "text").bounding_box()
    page.mouse.move(source["x"] + 6, source["y"] + 6)
    page.mouse.down()
    page.mouse.move(700, 500, steps=8)
    page.mouse.up()
    items = page.locator(".fb-search-item")
    items.first.wait_for()
    offered = page.locator(".fb-search-item .fb-pal-id").all_inner_texts()
    assert "text.template" in offered and "image.preview" not in offered  # a preview takes an IMAGE
    page.keyboard.type("generate image")
    page.keyboard.press("Enter")
    page.wait_for_function(f"{STATE}.nodes.generate && {STATE}.nodes.generate.inputs.prompt")
    assert nodes(page)["generate"]["inputs"] == {"prompt": ["text.text"]}


def test_stop_cancels_a_running_node(page):
    new_workflow(page)
    sleep = add_from_palette(page, "test.sleep", 160, 200)
    show = add_from_palette(page, "test.show", 620, 200)
    drag_link(page, port(page, sleep, "out", "label"), port(page, show, "in", "value"))
    page.wait_for_function(f"{STATE}.nodes.{show}.inputs.value")
    page.locator(f".fb-node[data-node='{sleep}'] input[data-param='seconds']").fill("60")
    page.locator(f".fb-node[data-node='{sleep}'] input[data-param='seconds']").press("Enter")
    page.wait_for_function(f"{STATE}.nodes.{sleep}.params.seconds === 60")
    page.click("[data-testid=run]")
    page.locator(f".fb-node[data-node='{sleep}'] .fb-spinner").wait_for()
    page.click("[data-testid=stop]")
    chip = page.locator(f".fb-node[data-node='{sleep}'] .fb-chip")
    page.wait_for_function(f"{STATE}.statuses.{sleep}.state === 'cancelled'")
    assert chip.inner_text() == "cancelled"
    assert page.locator("[data-testid=run-status]").inner_text() == "cancelled"


def test_regenerate_keeps_a_history_to_step_back_through(page):
    open_template(page, "hello-gemini")
    page.wait_for_function(f"{STATE}.nodes.generate")
    page.click("[data-testid=run]")
    thumb = page.locator(".fb-node[data-node='generate'] img.fb-thumb")
    thumb.wait_for()
    first = thumb.get_attribute("src")
    seed = nodes(page)["generate"]["params"]["seed"]
    page.click(".fb-node[data-node='generate'] .fb-menu-btn")
    page.get_by_text("Regenerate (new seed)").click()
    page.wait_for_function(f"({STATE}.statuses.generate.history || []).length === 2")
    assert nodes(page)["generate"]["params"]["seed"] != seed
    assert thumb.get_attribute("src") != first
    page.click(".fb-node[data-node='generate'] button[title='older result']")
    assert thumb.get_attribute("src") == first


def test_a_param_added_to_the_inputs_form_edits_the_node(page):
    new_workflow(page)
    text = add_from_palette(page, "text.text", 200, 200)
    page.click(f".fb-node[data-node='{text}'] .fb-menu-btn")
    page.get_by_text("Add a param to the inputs form…").click()
    page.get_by_role("button", name="Add", exact=True).click()
    field = page.get_by_label("text", exact=True)
    field.fill("from the form")
    field.blur()
    page.wait_for_function(f"{STATE}.nodes.{text}.params.text === 'from the form'")
    assert page.locator(f".fb-node[data-node='{text}'] textarea").input_value() == "from the form"


def test_a_closed_tab_loses_nothing(browser, editor_server, page):
    new_workflow(page)
    text = add_from_palette(page, "text.text", 220, 220)
    page.locator(f".fb-node[data-node='{text}'] textarea").fill("not saved anywhere yet")
    page.wait_for_timeout(700)  # the debounced edit reaches Python, which autosaves it
    page.context.close()
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    other = context.new_page()
    other.goto(editor_server.url)
    other.wait_for_function(f"{STATE} && Object.keys({STATE}.nodes).length === 1")
    assert nodes(other)[text]["params"]["text"] == "not saved anywhere yet"
    assert other.locator("[data-testid=unsaved]").is_visible()
    context.close()


def test_autosave_on_a_fresh_account_survives_a_restart(browser, fresh_account_editor):
    server = fresh_account_editor
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.goto(server.url)
    page.wait_for_function(f"{STATE} && Object.keys({STATE}.nodes).length > 0")
    new_workflow(page)
    text = add_from_palette(page, "text.text", 220, 220)
    page.locator(f".fb-node[data-node='{text}'] textarea").fill("kept across a restart")
    autosave = server.home / ".local" / "state" / "flowbanana" / "editor" / "storage-general.json"
    deadline = time.monotonic() + 20
    while not (autosave.is_file() and "kept across a restart" in autosave.read_text()):
        assert time.monotonic() < deadline, f"no autosave at {autosave}: {server.log.read_text()[-2000:]}"
        time.sleep(0.1)
    context.close()

    server.stop()
    server.start()
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.goto(server.url)
    page.wait_for_function(f"{STATE} && Object.keys({STATE}.nodes).length === 1")
    assert nodes(page)[text]["params"]["text"] == "kept across a restart"
    assert page.locator("[data-testid=unsaved]").is_visible()
    context.close()
    assert "Traceback" not in server.log.read_text()


def test_ctrl_s_on_a_template_asks_where_and_never_overwrites_it(page, editor_server):
    template = editor_server.workflows / "hello-gemini.json"
    shipped = template.read_bytes()
    open_template(page, "hello-gemini")
    assert page.locator("[data-testid=template-copy]").inner_text() == "copy of hello-gemini.json"
    page.locator("input[data-testid=wf-name]").fill("hello gemini")  # a name whose file name is the template's
    page.locator("input[data-testid=wf-name]").press("Enter")
    page.locator(".fb-viewport").click(position={"x": 700, "y": 700})
    page.reload()  # the copy stays a copy through the autosave
    page.wait_for_function(f"{STATE} && Object.keys({STATE}.nodes).length > 0")
    page.locator("[data-testid=template-copy]").wait_for()
    page.locator(".fb-viewport").click(position={"x": 700, "y": 700})
    page.keyboard.press("Control+s")
    name = page.locator("input[data-testid=save-name]")
    name.wait_for()
    assert name.input_value() == "hello-gemini-2.json"  # a free name, not the template's
    page.screenshot(path=str(editor_server.root / "save-as.png"))
    assert template.read_bytes() == shipped
    name.fill("my-hello")
    page.locator("[data-testid=save-confirm]").click()
    page.get_by_text("Saved my-hello.json").wait_for()
    assert template.read_bytes() == shipped
    assert json.loads((editor_server.workflows / "my-hello.json").read_text())["name"] == "hello gemini"
    assert not page.locator("[data-testid=template-copy]").is_visible()

    page.locator("input[data-testid=wf-name]").fill("Hello again")  # its own file now: Ctrl+S saves there
    page.locator("input[data-testid=wf-name]").press("Enter")
    page.locator(".fb-viewport").click(position={"x": 700, "y": 700})
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 10
    while json.loads((editor_server.workflows / "my-hello.json").read_text())["name"] != "Hello again":
        assert time.monotonic() < deadline, "Ctrl+S did not save the copy's own file"
        time.sleep(0.1)
    assert not page.locator("input[data-testid=save-name]").is_visible() and template.read_bytes() == shipped


def test_template_fields_become_inputs(page):
    new_workflow(page)
    template = add_from_palette(page, "text.template", 400, 200)
    page.locator(f".fb-node[data-node='{template}'] textarea").fill("{subject} on {surface}")
    port(page, template, "in", "surface").wait_for()
    text = add_from_palette(page, "text.text", 60, 200)
    drag_link(page, port(page, text, "out", "text"), port(page, template, "in", "surface"))
    page.wait_for_function(f"{STATE}.nodes.{template}.inputs.surface")
    other = add_from_palette(page, "text.text", 60, 520)
    body = page.locator(f".fb-node[data-node='{template}'] .fb-title")  # dropped on the node, not on a port
    drag_link(page, port(page, other, "out", "text"), body)
    page.wait_for_function(f"{STATE}.nodes.{template}.inputs.subject")  # the first field still unlinked
    assert nodes(page)[template]["inputs"] == {"surface": [f"{text}.text"], "subject": [f"{other}.text"]}
    page.click(f".fb-node[data-node='{template}'] .fb-add-input")
    page.locator(f".fb-node[data-node='{template}'] input[data-new-input]").fill("mood")
    page.keyboard.press("Enter")
    port(page, template, "in", "mood").wait_for()
    page.click(f".fb-node[data-node='{template}'] .fb-menu-btn")
    page.get_by_text("Rename…").click()
    page.locator(f".fb-node[data-node='{template}'] input[data-rename]").fill("Shoe prompt")
    page.keyboard.press("Enter")
    page.wait_for_function(f"{STATE}.nodes.{template}.title === 'Shoe prompt'")
    assert page.locator(f".fb-node[data-node='{template}'] .fb-title").inner_text() == "Shoe prompt"


def test_upload_an_image_into_a_load_node_and_run_it(page, tmp_path):
    from PIL import Image
    picture = tmp_path / "red.png"
    Image.new("RGB", (64, 48), (220, 30, 30)).save(picture)
    new_workflow(page)
    load = add_from_palette(page, "image.load", 120, 200)
    preview = add_from_palette(page, "image.preview", 640, 200)
    drag_link(page, port(page, load, "out", "image"), port(page, preview, "in", "image"))
    with page.expect_file_chooser() as chooser:
        page.click(f".fb-node[data-node='{load}'] button[title='upload a file']")
    chooser.value.set_files(str(picture))
    page.wait_for_function(f"({STATE}.nodes.{load}.params.path || '').endsWith('.png')")
    page.keyboard.press("Control+Enter")
    page.locator(f".fb-node[data-node='{preview}'] img.fb-thumb").wait_for()
    assert page.locator(f".fb-node[data-node='{preview}'] .fb-chip").inner_text().startswith("done")


def test_copy_in_one_tab_and_paste_in_another(browser, editor_server, page):
    open_template(page, "hello-gemini")
    page.click(".fb-node[data-node='prompt'] .fb-head .fb-title")
    page.click(".fb-node[data-node='subject'] .fb-head .fb-title", modifiers=["Shift"])
    page.keyboard.press("Control+c")
    copied = page.locator(".fb-toast")
    copied.wait_for()  # a plain report, not in the refusal's red
    assert copied.inner_text() == "Copied 2 node(s)" and "fb-toast-info" in copied.get_attribute("class")
    other = page.context.new_page()
    other.goto(editor_server.url)
    other.wait_for_function(f"{STATE} && Object.keys({STATE}.nodes).length > 0")
    count = len(nodes(other))
    other.mouse.move(700, 700)
    other.keyboard.press("Control+v")
    other.wait_for_function(f"Object.keys({STATE}.nodes).length === {count + 2}")
    pasted = {k: v for k, v in nodes(other).items() if k not in ("prompt", "subject", "style", "generate", "preview")}
    template = next(v for v in pasted.values() if v["type"] == "text.template")
    source = next(k for k, v in pasted.items() if v["type"] == "text.text")
    assert template["inputs"] == {"subject": [f"{source}.text"]}  # the link inside the copy survives


def test_run_this_node_runs_only_what_it_needs(page):
    open_template(page, "hello-gemini")
    page.click(".fb-node[data-node='prompt'] .fb-menu-btn")
    page.get_by_text("Run this node").click()
    page.wait_for_function(f"{STATE}.statuses.prompt && ['done', 'cached'].includes({STATE}.statuses.prompt.state)")
    statuses = page.evaluate(f"JSON.parse(JSON.stringify({STATE}.statuses))")
    assert {n for n, s in statuses.items() if s.get("state")} == {"prompt", "subject", "style"}
    result = page.locator(".fb-node[data-node='prompt'] .fb-text-result")
    assert "tiny sunglasses, studio product photo" in result.inner_text()  # the filled template


def test_rubber_band_selects_and_moves_several_nodes_in_one_edit(page):
    new_workflow(page)
    a = add_from_palette(page, "text.text", 200, 150)
    b = add_from_palette(page, "text.text", 200, 450)
    box = page.locator(".fb-viewport").bounding_box()
    page.keyboard.down("Shift")
    page.mouse.move(box["x"] + 120, box["y"] + 80)
    page.mouse.down()
    page.mouse.move(box["x"] + 700, box["y"] + 800, steps=6)
    page.mouse.up()
    page.keyboard.up("Shift")
    page.wait_for_function(f"Object.keys({STATE}.selection).length === 2")
    before = nodes(page)
    head = page.locator(f".fb-node[data-node='{a}'] .fb-title").bounding_box()
    page.mouse.move(head["x"] + 10, head["y"] + 5)
    page.mouse.down()
    page.mouse.move(head["x"] + 210, head["y"] + 105, steps=6)
    page.mouse.up()
    page.wait_for_timeout(300)
    after = nodes(page)
    for node in (a, b):
        assert after[node]["x"] - before[node]["x"] == pytest.approx(200, abs=2)
        assert after[node]["y"] - before[node]["y"] == pytest.approx(100, abs=2)
    page.keyboard.press("Control+z")  # one move, one undo step, for both nodes
    page.wait_for_function(f"{STATE}.nodes.{b}.x === {before[b]['x']} && {STATE}.nodes.{a}.x === {before[a]['x']}")


def test_an_upload_of_the_wrong_kind_is_refused_with_the_reason(page, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    new_workflow(page)
    load = add_from_palette(page, "image.load", 200, 200)
    with page.expect_file_chooser() as chooser:
        page.click(f".fb-node[data-node='{load}'] button[title='upload a file']")
    chooser.value.set_files(str(notes))
    toast = page.locator(".fb-toast")
    toast.wait_for()
    assert "Upload refused" in toast.inner_text() and ".png" in toast.inner_text()
    assert "path" not in nodes(page)[load]["params"]


def test_download_and_open_by_dropping_the_file(page, tmp_path):
    open_template(page, "hello-gemini")
    page.wait_for_function("document.title.includes('Hello, Nano Banana')")
    page.click("[data-testid=file-menu]")
    with page.expect_download() as download:
        page.get_by_text("Download .json").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert json.loads(saved.read_text())["nodes"]["generate"]["inputs"] == {"prompt": "prompt.text"}

    new_workflow(page)
    transfer = page.evaluate_handle("""([name, text]) => { const dt = new DataTransfer();
        dt.items.add(new File([text], name, {type: 'application/json'})); return dt; }""",
                                    [saved.name, saved.read_text()])
    page.dispatch_event(".fb-viewport", "drop", {"dataTransfer": transfer, "clientX": 600, "clientY": 400})
    discard_if_asked(page, f"Object.keys({STATE}.nodes).length === 5")
    assert page.locator("input[data-testid=wf-name]").input_value() == "Hello, Nano Banana"


def test_fold_a_node_and_disable_another(page):
    open_template(page, "hello-gemini")
    page.dblclick(".fb-node[data-node='generate'] .fb-head .fb-title")
    page.wait_for_function(f"{STATE}.nodes.generate.collapsed === true")
    assert page.locator(".fb-node[data-node='generate'] .fb-body").count() == 0
    assert page.locator(".fb-link-hit[data-link-to='preview.image']").count() == 1  # still drawn, from the header
    page.click(".fb-node[data-node='preview'] .fb-menu-btn")
    page.get_by_text("Disable (skip when running)").click()
    page.wait_for_function(f"{STATE}.nodes.preview.disabled === true")
    page.click(".fb-node[data-node='generate'] .fb-fold")
    page.wait_for_function(f"{STATE}.nodes.generate.collapsed === false")


def test_the_problems_list_shows_the_node(page):
    new_workflow(page)
    preview = add_from_palette(page, "image.preview", 900, 700)
    page.get_by_text("1 problem to fix before running").click()
    page.get_by_text("needs a link into its IMAGE input").click()
    page.wait_for_function(f"{STATE}.selection['{preview}'] === true")
    box = page.locator(f".fb-node[data-node='{preview}']").bounding_box()
    view = page.locator(".fb-viewport").bounding_box()
    assert view["x"] < box["x"] < view["x"] + view["width"] / 2 < box["x"] + box["width"]  # centred across


def test_estimate_says_what_a_run_would_call_before_running(page):
    open_template(page, "hello-gemini")
    seed = page.locator(".fb-node[data-node='generate'] input[data-param='seed']")
    seed.fill("918273")  # a seed no earlier test ran, so nothing is cached
    seed.press("Enter")
    page.wait_for_function(f"{STATE}.nodes.generate.params.seed === 918273")
    page.click("[data-testid=estimate]")
    page.get_by_text("Running now makes 1 model call (gemini-3.1-flash-image): free (offline preview).").wait_for()
    assert page.evaluate(f"Object.keys({STATE}.statuses).length") == 0  # an estimate shows no run


def test_drag_a_link_off_its_input_then_draw_it_backwards(page):
    open_template(page, "hello-gemini")
    page.wait_for_function(f"{STATE}.nodes.preview.inputs.image")
    target = port(page, "preview", "in", "image").bounding_box()
    page.mouse.move(target["x"] + 6, target["y"] + 6)
    page.mouse.down()
    page.mouse.move(target["x"] + 40, target["y"] + 260, steps=8)  # off the input, onto empty canvas
    page.mouse.up()
    page.wait_for_function(f"Object.keys({STATE}.nodes.preview.inputs).length === 0")
    assert page.locator(".fb-search").count() == 0  # a link dragged off is deleted, not re-targeted
    drag_link(page, port(page, "preview", "in", "image"), port(page, "generate", "out", "image"))
    page.wait_for_function(f"{STATE}.nodes.preview.inputs.image?.[0] === 'generate.image'")


def drop_workflow(page, document: dict) -> None:
    """Open a workflow by dropping its .json file on the canvas."""
    transfer = page.evaluate_handle("""(text) => { const dt = new DataTransfer();
        dt.items.add(new File([text], 'dropped.json', {type: 'application/json'})); return dt; }""", json.dumps(document))
    page.dispatch_event(".fb-viewport", "drop", {"dataTransfer": transfer, "clientX": 600, "clientY": 400})
    discard_if_asked(page, f"Object.keys({STATE}.nodes).length === {len(document['nodes'])}")


def test_files_a_run_writes_are_listed_for_download(page, editor_server):
    drop_workflow(page, {"format": "flowbanana/workflow", "version": 2, "name": "Saves a file", "nodes": {
        "gen": {"type": "gemini.generate", "params": {"prompt": "a lighthouse at dusk"}},
        "save": {"type": "image.save", "params": {"filename": "lighthouse.png"}, "inputs": {"image": "gen.image"}}}})
    page.click("[data-testid=run]")
    link = page.locator("[data-testid=run-files] a").first
    link.wait_for(timeout=20000)
    assert link.inner_text().startswith("lighthouse")
    with urllib.request.urlopen(editor_server.url.rstrip("/") + link.get_attribute("href")) as response:
        assert response.read(8) == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(urllib.error.HTTPError):  # another tab's token, or none, gets nothing
        urllib.request.urlopen(editor_server.url + "flowbanana/files/not-a-tab/0")


def test_delete_a_node_with_its_links_and_undo_brings_both_back(page):
    open_template(page, "hello-gemini")
    links = page.locator(".fb-link").count()
    page.click(".fb-node[data-node='prompt'] .fb-head .fb-title")
    page.keyboard.press("Delete")
    page.wait_for_function(f"{STATE}.nodes.prompt === undefined")
    assert "prompt" not in nodes(page)["generate"]["inputs"]
    assert page.locator(".fb-link").count() == links - 3  # two into the template, one out of it
    page.keyboard.press("Control+z")
    page.wait_for_function(f"{STATE}.nodes.prompt !== undefined && {STATE}.nodes.generate.inputs.prompt")
    page.wait_for_function(f"document.querySelectorAll('.fb-link').length === {links}")


def test_the_model_is_picked_from_a_list_or_typed(page):
    open_template(page, "hello-gemini")
    model = page.locator(".fb-node[data-node='generate'] .fb-model-btn")
    model.click()
    page.click(".fb-node[data-node='generate'] .fb-model-item[data-model='gemini-3-pro-image']")
    page.wait_for_function(f"{STATE}.nodes.generate.params.model === 'gemini-3-pro-image'")
    model.click()
    page.click(".fb-node[data-node='generate'] [data-model-other]")
    typed = page.locator(".fb-node[data-node='generate'] input[data-param='model']")
    typed.fill("gemini-next-image")
    typed.press("Enter")
    page.wait_for_function(f"{STATE}.nodes.generate.params.model === 'gemini-next-image'")
    assert model.locator(".fb-model-name").inner_text() == "gemini-next-image"  # the picker again, naming it
