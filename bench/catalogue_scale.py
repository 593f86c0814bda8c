"""A catalogue at scale: N CSV rows -> prompt -> generate (offline, 1K) -> resize -> one file per row.

    python bench/catalogue_scale.py [--rows 10000] [--size 1K] [--concurrency 4]

Runs `flowbanana run` in a process of its own (offline provider, a fresh cache) and prints the wall
and CPU time per row, the peak resident memory (and by quarter of the rows written), the time until the first file
appeared, and a second run into the same folder with everything cached: it must write nothing new.
Keep --rows small while developing (the default is the real thing: minutes on a 2-core machine).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def workflow(csv: Path, size: str) -> dict:
    return {"format": "flowbanana/workflow", "version": 1, "name": "catalogue scale",
            "inputs": {"csv": {"node": "rows", "param": "path"}},
            "nodes": {
                "rows": {"type": "list.from_csv", "params": {"path": csv.name, "column": "product"}},
                "sku": {"type": "list.field", "params": {"column": "sku"}, "inputs": {"row": "rows.rows"}},
                "prompt": {"type": "text.template", "params": {"template": "{product}, studio shot"},
                           "inputs": {"product": "rows.items"}},
                "generate": {"type": "gemini.generate", "params": {"aspect_ratio": "1:1", "size": size},
                             "inputs": {"prompt": "prompt.text"}},
                "fit": {"type": "image.resize", "params": {"width": 512, "height": 512},
                        "inputs": {"image": "generate.image"}},
                "save": {"type": "image.save", "params": {"filename": "{name}.png", "embed_workflow": True},
                         "inputs": {"image": "fit.image", "name": "sku.value"}}}}


def run(folder: Path, args) -> dict:
    """One `flowbanana run` in a child process: wall time, its peak RSS, when the first file appeared."""
    out = folder / "out"
    out.mkdir(exist_ok=True)
    before = {p.name for p in out.iterdir()}
    command = [sys.executable, "-m", "flowbanana", "run", str(folder / "wf.json"), "--provider", "offline",
               "--out", str(out), "--cache-dir", str(folder / "cache"), "--concurrency", str(args.concurrency),
               "--json"]
    report = folder / "result.json"  # a file, not a pipe: a run that writes no new file must not block on it
    started = time.perf_counter()
    with report.open("w") as sink:
        child = subprocess.Popen(command, stdout=sink, stderr=subprocess.DEVNULL)
    first, samples, polled = None, [], 0.0
    while not os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
        now = time.perf_counter() - started
        if first is None or now - polled >= 1.0:  # counting 10,000 names every 50 ms would load the machine
            polled = now
            with os.scandir(out) as entries:
                written = sum(e.name not in before and not e.name.startswith(".") for e in entries)
            if written and first is None:
                first = now
            samples.append((written, resident_mb(child.pid)))
        time.sleep(0.05)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    result = json.loads(report.read_text())
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024, "first": first,
            "status": result["status"],
            "files": len(result["files"]), "new": len({p.name for p in out.iterdir()} - before),
            "samples": samples}


def resident_mb(pid: int) -> float:
    """The child's resident memory now (0 once it has exited)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0.0)


def growth(samples: list[tuple[int, float]], rows: int) -> str:
    """The highest resident memory seen while each quarter of the rows was being written."""
    quarters = [max((rss for written, rss in samples if q * rows / 4 <= written < (q + 1) * rows / 4), default=0)
                for q in range(4)]
    if not all(quarters):
        return "too short to sample by quarter"
    return (" / ".join(f"{mb:.0f}" for mb in quarters) + f" MB (last quarter / first = "
            f"{quarters[-1] / quarters[0]:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--size", default="1K")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowbanana-scale-") as scratch:
        folder = Path(scratch)
        csv = folder / "products.csv"
        csv.write_text("sku,product\n" + "".join(f"sku-{i:05d},product number {i}\n" for i in range(args.rows)))
        (folder / "wf.json").write_text(json.dumps(workflow(csv, args.size)))
        cold = run(folder, args)
        warm = run(folder, args)
    rows = args.rows
    print(f"{rows} rows at {args.size} (offline provider, generate -> resize 512 -> save PNG, concurrency "
          f"{args.concurrency})")
    print(f"  first run : {cold['status']}, {cold['wall']:.1f}s = {1000 * cold['wall'] / rows:.1f} ms/row (CPU "
          f"{1000 * cold['cpu'] / rows:.1f} ms/row), peak RSS {cold['rss_mb']:.0f} MB, first file after "
          f"{cold['first'] or float('nan'):.2f}s ({100 * (cold['first'] or 0) / cold['wall']:.1f}% of the run), "
          f"{cold['new']} files")
    print(f"  resident memory while each quarter of the files was written: {growth(cold['samples'], rows)}")
    print(f"  cached re-run into the same folder: {warm['status']}, {warm['wall']:.1f}s = "
          f"{1000 * warm['wall'] / rows:.2f} ms/row ({cold['wall'] / warm['wall']:.1f}x faster; CPU "
          f"{1000 * warm['cpu'] / rows:.1f} ms/row), peak RSS "
          f"{warm['rss_mb']:.0f} MB, new files {warm['new']} (of {warm['files']} listed)")


if __name__ == "__main__":
    main()
