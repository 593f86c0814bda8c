"""A catalogue run killed half way (kill -9) and run again: one file per row, and no call paid twice."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fake_gemini import FAKE_KEY

CATALOGUE = Path(__file__).parents[2] / "workflows" / "catalogue-batch.json"
ROWS = 10


def wait_for(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def test_a_killed_run_resumes_from_the_cache_without_duplicates_or_repaid_calls(fake, tmp_path):
    (tmp_path / "rows.csv").write_text("sku,product\n" + "".join(f"sku-{i},product {i}\n" for i in range(ROWS)))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "flowbanana", "run", str(CATALOGUE), "--set", "csv=rows.csv", "--provider",
               "gemini", "--out", str(out), "--cache-dir", str(tmp_path / "cache"), "--concurrency", "2", "--rpm", "0"]
    env = {**os.environ, "GOOGLE_GEMINI_BASE_URL": fake.url, "GEMINI_API_KEY": FAKE_KEY}
    fake.hold_after = 4  # four answers, then the fake keeps the next requests waiting: the run is stuck half way
    first = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: len(list(out.glob("*.png"))) == 4, "the four answered rows to be saved")
        wait_for(lambda: fake.in_flight == 2, "the next two requests to be waiting")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    fake.release()  # the two requests in flight at the kill are answered, to nobody: paid for nothing
    wait_for(lambda: fake.in_flight == 0, "the held requests to end")
    paid_before = len(fake.calls)
    assert paid_before == 6

    again = subprocess.run([*command, "--json"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert len(fake.calls) - paid_before == ROWS - 4  # only the rows without a file are asked for again
    assert sorted(os.listdir(out)) == sorted(f"sku-{i}.png" for i in range(ROWS))  # no sku-1_1.png, no leftovers
    result = json.loads(again.stdout)
    assert result["nodes"]["generate"]["status"] == "done" and result["usage"]["cache_hits"] >= 4
    prompts = {c.prompt.split(",")[0] for c in fake.calls}
    assert prompts == {f"product {i}" for i in range(ROWS)}
