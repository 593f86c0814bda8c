"""How the editor copes with big graphs and with a run, in headless Chromium.

For each size (default 200, 500 and 1,000 nodes) it prints the time from navigation to an interactive canvas
(the graph loaded, every node in view drawn and its links placed), then frame times while dragging one node,
a selection of 20 and a selection of 200, and while panning. Then it runs a 200-node graph with the offline
provider and prints the frame times while it runs, the websocket messages and bytes the server sent, the largest
message, and the time from clicking Run to the last status reaching the page.
Goals (issue 15): 1,000 nodes open in under 1.5 s, pan and drag with frame p95 near 17 ms, no frame freeze during
a run.

    python bench/editor_open.py [--nodes 200 500 1000] [--run-nodes 200]
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from flowbanana.workflow import from_dict  # noqa: E402

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync", "--disable-quic"]
FRAMES_JS = """() => { window.__frames = []; let last = performance.now();
  const tick = (t) => { window.__frames.push(t - last); last = t; if (window.__recording) requestAnimationFrame(tick); };
  window.__recording = true; requestAnimationFrame(tick); }"""
# the graph is in, the nodes in view are drawn and measured, and their links are placed
READY_JS = """(count) => { const c = window.flowbananaCanvas;
  if (!c || Object.keys(c.nodes).length !== count) return false;
  const drawn = document.querySelectorAll('.fb-node').length;
  return drawn > 0 && Object.keys(c.offsets).length >= drawn && document.querySelectorAll('.fb-link').length > 0; }"""
STATUS_MARK = "setStatuses"  # the canvas method a status update calls


def generate(count: int) -> dict:
    """Chains of prompt -> template -> generate -> preview, laid out in rows: `count` nodes in all."""
    nodes, layout = {}, {}
    kinds = [("prompt", "text.text", {"text": "a teapot"}, {}),
             ("fill", "text.template", {"template": "{subject}, studio light"}, {"subject": "prompt{i}.text"}),
             ("gen", "gemini.generate", {"aspect_ratio": "4:3"}, {"prompt": "fill{i}.text"}),
             ("show", "image.preview", {}, {"image": "gen{i}.image"})]
    for n in range(count):
        chain, step = divmod(n, len(kinds))
        name, type_id, params, inputs = kinds[step]
        node_id = f"{name}{chain}"
        nodes[node_id] = {"type": type_id, "params": params,
                          "inputs": {k: v.format(i=chain) for k, v in inputs.items()}}
        layout[node_id] = {"x": step * 340, "y": chain * 560}
    return {"format": "flowbanana/workflow", "version": 1, "name": f"bench {count}", "nodes": nodes,
            "ui": {"nodes": layout}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def summary(label: str, frames: list[float]) -> None:
    frames = sorted(frames[2:])  # the first frames include the recorder starting
    p95 = frames[int(len(frames) * 0.95) - 1]
    slow = sum(1 for f in frames if f > 33.4)
    print(f"  {label:<30} {len(frames):4d} frames  median {statistics.median(frames):5.1f} ms  p95 {p95:6.1f} ms  "
          f"max {frames[-1]:6.1f} ms  over 33 ms: {slow} ({slow / len(frames):.0%})")


def drag(page, start: tuple[float, float], delta: tuple[float, float], steps: int = 90) -> list[float]:
    page.evaluate(FRAMES_JS)
    page.mouse.move(*start)
    page.mouse.down()
    for i in range(1, steps + 1):
        page.mouse.move(start[0] + delta[0] * i / steps, start[1] + delta[1] * i / steps)
        page.wait_for_timeout(16)
    page.mouse.up()
    page.wait_for_timeout(100)
    return page.evaluate("window.__recording = false, window.__frames")


class Editor:
    """`flowbanana ui` on a generated workflow, in a scratch folder with its own cache."""

    def __init__(self, count: int):
        self.root = Path(tempfile.mkdtemp(prefix="flowbanana-bench-"))
        workflow = from_dict(generate(count))
        self.count, self.links = count, sum(len(n.inputs) for n in workflow.nodes.values())
        path = self.root / "big.json"
        workflow.save(path)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST" and "API_KEY" not in k}
        env.update(NICEGUI_STORAGE_PATH=str(self.root / "storage"), FLOWBANANA_CACHE_DIR=str(self.root / "cache"))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flowbanana", "ui", str(path), "--port", str(port), "--workflows", str(self.root),
             "--out", str(self.root / "out"), "--cache-dir", str(self.root / "cache")],
            cwd=self.root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{port}/"
        for _ in range(150):
            try:
                urllib.request.urlopen(self.url, timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)

    def open(self, page) -> float:
        """Median seconds from navigation to an interactive canvas, over three reloads after a warm-up visit."""
        page.goto(self.url)  # a first visit warms the server and the browser's module cache
        page.wait_for_function(READY_JS, arg=self.count, timeout=60000)
        times = []
        for _ in range(3):
            page.reload()
            page.wait_for_function(READY_JS, arg=self.count, timeout=60000, polling="raf")
            times.append(page.evaluate("performance.now()"))
        return statistics.median(times) / 1000

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def select(page, count: int) -> None:
    page.evaluate("""(n) => { const c = window.flowbananaCanvas; c.selection = Object.fromEntries(
        Object.keys(c.nodes).slice(0, n).map((id) => [id, true])); }""", count)


def big_graph(browser, count: int) -> None:
    editor = Editor(count)
    try:
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        seconds = editor.open(page)
        drawn = page.evaluate("document.querySelectorAll('.fb-node').length")
        print(f"{count} nodes, {editor.links} links: interactive in {seconds:.2f} s "
              f"(median of 3 reloads; {drawn} nodes in the page)")
        page.evaluate("window.flowbananaCanvas.view = {x: 40, y: 40, zoom: 0.6}")
        page.wait_for_timeout(300)
        head = page.locator(".fb-node[data-node='gen0'] .fb-head").bounding_box()
        summary("drag one node", drag(page, (head["x"] + 60, head["y"] + 12), (300, 200)))
        select(page, 20)
        head = page.locator(".fb-node[data-node='gen0'] .fb-head").bounding_box()
        summary("drag a selection of 20", drag(page, (head["x"] + 60, head["y"] + 12), (-200, 150)))
        page.evaluate("window.flowbananaCanvas.view = {x: 40, y: 40, zoom: 0.25}")
        page.wait_for_timeout(300)
        select(page, 200)
        page.wait_for_timeout(200)
        head = page.locator(".fb-node[data-node='gen0'] .fb-head").bounding_box()
        summary("drag a selection of 200", drag(page, (head["x"] + 20, head["y"] + 5), (200, 150)))
        page.evaluate("window.flowbananaCanvas.selection = {}")
        summary("pan at 25% zoom", drag(page, (1000, 950), (-300, -600)))
        page.close()
    finally:
        editor.close()


def run_graph(browser, count: int) -> None:
    """Click Run on a `count`-node graph (offline provider, empty cache) and watch the page and its websocket."""
    editor = Editor(count)
    try:
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(editor.url)
        page.wait_for_function(READY_JS, arg=count, timeout=60000)
        page.wait_for_timeout(1000)
        received: list[tuple[float, int, bool]] = []  # (time, bytes, carries a status) per message from the server

        def listen(ws):
            ws.on("framereceived", lambda payload: received.append(
                (time.perf_counter(), len(payload if isinstance(payload, bytes) else payload.encode()),
                 STATUS_MARK in (payload if isinstance(payload, str) else payload.decode(errors="replace")))))
        page.on("websocket", listen)
        page.reload()  # the listener sees the socket from its start
        page.wait_for_function(READY_JS, arg=count, timeout=60000)
        page.wait_for_timeout(1500)
        received.clear()
        page.evaluate(FRAMES_JS)
        start = time.perf_counter()
        page.get_by_test_id("run").click()
        page.get_by_text("Run done").wait_for(timeout=120000)
        page.wait_for_timeout(1500)  # anything still on its way
        frames = page.evaluate("window.__recording = false, window.__frames")
        statuses = [t for t, _, status in received if status]
        print(f"a run of {count} nodes (offline provider, nothing cached):")
        summary("frames while running", frames)
        print(f"  websocket from the server: {len(received)} messages, {sum(b for _, b, _ in received) / 1024:.0f} KB, "
              f"largest {max((b for _, b, _ in received), default=0) / 1024:.1f} KB; "
              f"{len(statuses)} carry statuses")
        if statuses:
            print(f"  Run clicked -> last status on the page: {statuses[-1] - start:.2f} s")
        page.close()
    finally:
        editor.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, nargs="*", default=[200, 500, 1000], help="graph sizes to open")
    parser.add_argument("--run-nodes", type=int, default=200, help="size of the graph to run (0: no run)")
    args = parser.parse_args()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        print("headless Chromium (software rendering), 1600x1000")
        for count in args.nodes:
            big_graph(browser, count)
        if args.run_nodes:
            run_graph(browser, args.run_nodes)
        browser.close()


if __name__ == "__main__":
    main()
