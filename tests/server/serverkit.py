"""Helpers for the server tests: a real `flowbanana serve` process, workflows to send it, an SSE reader."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

PACKS = Path(__file__).parents[1] / "packs"
SECRET_VARIABLES = ("GOOGLE_API_KEY", "GEMINI_API_KEY", "NANO_BANANA_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI",
                    "FLOWBANANA_CONFIG", "PYTEST_CURRENT_TEST")


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def make_workflow(nodes: dict, name: str = "api test", **top) -> dict:
    return {"format": "flowbanana/workflow", "version": 2, "name": name, "nodes": nodes, **top}


def save_workflow(filename: str = "out_{index}.png", path: str = "photo.png") -> dict:
    """Load an input image and save it into the run's folder: offline, and it writes a real file."""
    return make_workflow({
        "load": {"type": "image.load", "params": {"path": path}},
        "save": {"type": "image.save", "params": {"filename": filename}, "inputs": {"image": "load.image"}}})


def sleepy_workflow(seconds: float = 30.0) -> dict:
    """`first` finishes at once (and is cached); `nap` sleeps until cancelled or the server stops."""
    return make_workflow({
        "first": {"type": "test.number", "params": {"value": 3}},
        "nap": {"type": "test.sleep", "params": {"seconds": seconds}, "inputs": {"after": "first.value"}},
        "show": {"type": "test.show", "inputs": {"value": "nap.label"}}}, name="sleepy")


class Server:
    """One server process over one folder; `restart()` keeps the folder, as a real restart would."""

    def __init__(self, root: Path, host: str = "127.0.0.1", token: str | None = None, max_runs: int = 4,
                 env: dict[str, str] | None = None, args: tuple[str, ...] = ()):
        self.root, self.host, self.token, self.max_runs, self.env = root, host, token, max_runs, env or {}
        self.args = args
        self.runs, self.workflows, self.inputs = root / "runs", root / "workflows", root / "inputs"
        for folder in (self.workflows, self.inputs):
            folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port(host)
        self.process: subprocess.Popen | None = None
        self.log = root / "server.log"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "Server":
        command = [sys.executable, "-m", "flowbanana", "serve", "--host", self.host, "--port", str(self.port),
                   "--workflows", str(self.workflows), "--runs", str(self.runs), "--allow-read", str(self.inputs),
                   "--cache-dir", str(self.root / "cache"), "--nodes-dir", str(PACKS),
                   "--max-runs", str(self.max_runs)]
        if self.token:
            command += ["--token", self.token]
        command += self.args
        env = {k: v for k, v in os.environ.items() if k not in SECRET_VARIABLES}
        env.update(XDG_CONFIG_HOME=str(self.root / "config"), **self.env)
        with self.log.open("a") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.root)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log.read_text()}")
            token = self.printed_token()
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1,
                             headers={"authorization": f"Bearer {token}"} if token else {}).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop(signal.SIGKILL)  # never leave a half-started server behind
        raise RuntimeError(f"server did not start:\n{self.log.read_text()}")

    def printed_token(self) -> str | None:
        for line in self.log.read_text().splitlines()[::-1]:
            if line.startswith("token: "):
                return line.split()[1]
        return self.token

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode if self.process else 0

    def restart(self, sig: int = signal.SIGTERM) -> "Server":
        self.stop(sig)
        return self.start()

    def client(self, token: str | None = "printed", **kwargs: Any) -> httpx.Client:
        token = self.printed_token() if token == "printed" else token
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)


def events(client: httpx.Client, run_id: str, last_event_id: int | None = None) -> list[dict]:
    """Follow a run's SSE stream to its end; each event's data, with the SSE `event` and `id` checked."""
    headers = {"last-event-id": str(last_event_id)} if last_event_id is not None else {}
    found, fields = [], {}
    with client.stream("GET", f"/api/runs/{run_id}/events", headers=headers) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith(":"):
                continue
            if line:
                key, _, value = line.partition(": ")
                fields[key] = value
                continue
            if "data" in fields:
                data = json.loads(fields["data"])
                assert fields["event"] == data["event"] and int(fields["id"]) == data["seq"]
                found.append(data)
            fields = {}
    return found


def finish(client: httpx.Client, run_id: str) -> dict:
    """The run's record once its event stream has ended."""
    events(client, run_id)
    return client.get(f"/api/runs/{run_id}").json()


def submit(client: httpx.Client, workflow: dict | None = None, **body) -> dict:
    response = client.post("/api/runs", json={"workflow": workflow, **body} if workflow else body)
    assert response.status_code == 202, response.text
    return response.json()


def prepare(server: Server, photo: Image.Image) -> Server:
    photo.save(server.inputs / "photo.png")
    photo.save(server.root / "secret.png")  # outside every folder a run may read
    (server.inputs / "link.png").symlink_to(server.root / "secret.png")
    return server
