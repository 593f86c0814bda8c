"""`flowbanana ui` on the command line: NiceGUI is imported only by it, and a missing file is a clear error."""
from __future__ import annotations

import socket
import subprocess
import sys

import pytest


def test_other_commands_never_import_nicegui():
    code = ("import sys, flowbanana.cli as cli; cli.build_parser().parse_args(['run', 'x.json']); "
            "cli.main(['nodes']); print('nicegui' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False"


def test_a_missing_file_is_an_error_before_the_server_starts(tmp_path):
    done = subprocess.run([sys.executable, "-m", "flowbanana", "ui", str(tmp_path / "nope.json")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "no workflow file at" in done.stderr and "nope.json" in done.stderr


@pytest.mark.parametrize("command", ["ui", "serve"])
def test_a_taken_port_is_said_plainly_before_anything_starts(command):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "flowbanana", command, "--port", str(port)],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert f"port {port} on 127.0.0.1 is taken" in done.stderr and f"--port {port + 1}" in done.stderr
    assert "http://" not in done.stdout  # no URL promised for a server that never started


def test_an_unreadable_file_is_an_error_before_the_server_starts(tmp_path):
    """Not silently the example instead: the file asked for cannot be read, and that is said."""
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    done = subprocess.run([sys.executable, "-m", "flowbanana", "ui", str(path), "--port", "1"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "more than 100 levels deep" in done.stderr and "http://" not in done.stdout


def test_app_mode_needs_the_file_it_serves():
    done = subprocess.run([sys.executable, "-m", "flowbanana", "ui", "--app", "--port", "1"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--app needs the workflow FILE" in done.stderr, done.stderr
