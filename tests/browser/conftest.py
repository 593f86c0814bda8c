"""The editor as a real process on a free 127.0.0.1 port, driven by headless Chromium through Playwright.

One app process per test module keeps the suite fast; each test opens a fresh browser context.
Screenshots go to test-artifacts/ (gitignored). Without /usr/bin/chromium the tests skip, unless
FLOWBANANA_REQUIRE_BROWSER=1 (CI), where a missing browser is a failure.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync", "--disable-quic"]
KEY_VARIABLES = ("GOOGLE_API_KEY", "GEMINI_API_KEY", "NANO_BANANA_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser():
    """Module-scoped on purpose: sync Playwright keeps an event loop running on this thread while it is open,
    and every asyncio test after the browser tests would fail with "asyncio.run() cannot be called from a
    running event loop" if it stayed open for the session."""
    if not CHROMIUM.exists():
        if os.environ.get("FLOWBANANA_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing and FLOWBANANA_REQUIRE_BROWSER=1: install Debian's chromium.")
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield browser
        browser.close()


class EditorServer:
    """`flowbanana ui` over a folder of its own. With `home`, it runs as a fresh account would: that HOME, and no
    NICEGUI_STORAGE_PATH or XDG_STATE_HOME, so the editor picks (and must create) its autosave folder itself.
    `env` adds variables (a key and GOOGLE_GEMINI_BASE_URL, to run against the fake Gemini server)."""

    def __init__(self, root: Path, home: Path | None = None, env: dict[str, str] | None = None,
                 args: tuple[str, ...] = ()):
        self.root = root
        self.args = args  # more `flowbanana ui` arguments (--app FILE)
        self.home = home
        self.env = env or {}
        self.workflows = root / "workflows"
        self.out = root / "out"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = root / "server.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "EditorServer":
        if not self.workflows.is_dir():  # a restart keeps the folder, as a real one would
            self.workflows.mkdir(parents=True)
            shutil.copy(ROOT / "workflows" / "hello-gemini.json", self.workflows)
        env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST" and k not in KEY_VARIABLES}
        env.update(XDG_CONFIG_HOME=str(self.root / "config"), FLOWBANANA_CACHE_DIR=str(self.root / "cache"), **self.env)
        if self.home is None:
            env["NICEGUI_STORAGE_PATH"] = str(self.root / "storage")
        else:
            env["HOME"] = str(self.home)
            for name in ("NICEGUI_STORAGE_PATH", "XDG_STATE_HOME"):
                env.pop(name, None)
        command = [sys.executable, "-m", "flowbanana", "ui", "--port", str(self.port), "--workflows",
                   str(self.workflows), "--out", str(self.out), "--cache-dir", str(self.root / "cache"),
                   "--nodes-dir", str(ROOT / "tests" / "packs"), *self.args]  # test.sleep, for stopping a run
        self.process = subprocess.Popen(command, cwd=self.root, env=env, stdout=self.log.open("a"),
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the editor exited: {self.log.read_text()}")
            try:
                urllib.request.urlopen(self.url, timeout=2).read()
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"the editor did not answer within 30 s: {self.log.read_text()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture(scope="module")
def editor_server(tmp_path_factory, browser):
    server = EditorServer(tmp_path_factory.mktemp("editor")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def app_server(tmp_path_factory, browser):
    """`flowbanana ui --app` on a copy of the example app, beside the files it reads."""
    root = tmp_path_factory.mktemp("app")
    folder = root / "workflows"
    folder.mkdir()
    shutil.copy(ROOT / "workflows" / "touch-up-app.json", folder)
    shutil.copytree(ROOT / "workflows" / "inputs", folder / "inputs")
    shutil.copytree(ROOT / "workflows" / "masks", folder / "masks")
    server = EditorServer(root, args=("--app", str(folder / "touch-up-app.json"))).start()
    yield server
    server.stop()


@pytest.fixture
def gemini_editor(tmp_path, browser, fake_gemini):
    """An editor that runs on the fake Gemini API (a key in its environment, the SDK pointed at the fake)."""
    server = EditorServer(tmp_path / "editor", env={"GEMINI_API_KEY": fake_gemini.key,
                                                   "GOOGLE_GEMINI_BASE_URL": fake_gemini.url}).start()
    yield server
    server.stop()


@pytest.fixture
def fresh_account_editor(tmp_path, browser):
    """An editor of its own, started as on a fresh account: an empty HOME (no ~/.local/state yet)."""
    home = tmp_path / "home"
    home.mkdir()
    server = EditorServer(tmp_path / "editor", home=home).start()
    yield server
    server.stop()


@pytest.fixture
def page(browser, editor_server, request):
    """A new tab on the editor, with the graph drawn; a screenshot is kept whatever the outcome."""
    yield from editor_tab(browser, editor_server, request)


@pytest.fixture
def gemini_page(browser, gemini_editor, request):
    """A new tab on an editor that runs on the fake Gemini API, as `page` is on the offline one."""
    yield from editor_tab(browser, gemini_editor, request)


def editor_tab(browser, server, request):
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url)
    page.wait_for_function("window.flowbananaCanvas && Object.keys(window.flowbananaCanvas.nodes).length > 0")
    page.errors = errors
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    if not page.is_closed():  # a test may close its tab on purpose
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"))
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
