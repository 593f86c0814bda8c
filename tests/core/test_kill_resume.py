"""The shipped catalogue run offline, killed with SIGKILL while it is busy half way, then run again.

tests/gemini/test_resume.py stops the run at a quiet moment (the fake Gemini holds its answers) to count the
requests paid twice; here the kill lands wherever the run happens to be (drawing, writing cache entries, encoding
or renaming a file), which is what a crash or an out-of-memory kill does.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

CATALOGUE = Path(__file__).parents[2] / "workflows" / "catalogue-batch.json"
ROWS = 40


def cached_calls(cache: Path) -> int:
    """Model answers the cache holds whole (an entry is renamed into place only once it is complete)."""
    count = 0
    for entry in cache.glob("??/*/entry.json"):
        if "provider" in json.loads(entry.read_text())["meta"]:
            count += 1
    return count


def test_a_run_killed_mid_write_resumes_with_one_file_per_row_and_only_unfinished_calls_made_again(tmp_path):
    (tmp_path / "rows.csv").write_text("sku,product\n" + "".join(f"sku-{i},product {i}\n" for i in range(ROWS)))
    out, cache = tmp_path / "out", tmp_path / "cache"
    command = [sys.executable, "-m", "flowbanana", "run", str(CATALOGUE), "--set", "csv=rows.csv", "--provider",
               "offline", "--out", str(out), "--cache-dir", str(cache), "--concurrency", "2", "--json"]
    first = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not out.is_dir() or len(list(out.glob("*.png"))) < ROWS // 2:
            assert first.poll() is None, "the run ended before it was half way"
            assert time.monotonic() < deadline, "gave up waiting for half the rows to be saved"
            time.sleep(0.01)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert first.returncode == -signal.SIGKILL
    kept = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.glob("*.png")}
    answered = cached_calls(cache)
    assert ROWS // 2 <= len(kept) < ROWS and answered >= len(kept)  # every saved row's picture was cached first

    again = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    usage = json.loads(again.stdout)["usage"]
    assert usage["cache_hits"] == answered  # every answer the killed run had cached is taken from the cache
    assert usage["calls"] == ROWS - answered  # and only the rows without one are drawn again
    assert sorted(os.listdir(out)) == sorted(f"sku-{i}.png" for i in range(ROWS))  # no _1, no .partial left
    assert {name: (p.stat().st_ino, p.stat().st_mtime_ns) for name in kept for p in [out / name]} == kept
