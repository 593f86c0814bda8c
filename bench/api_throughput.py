"""100 small offline workflows submitted to `flowbanana serve` at once.

Prints runs per second (creation of the first to the end of the last) and the p50/p95 latency of
GET /api/runs/{id} measured while they execute (four pollers), beside the same GET on an idle server,
for a few queue sizes (--max-runs). The client shares the machine's cores with the server.

    python bench/api_throughput.py [--runs 100] [--max-runs 2 8]
"""
from __future__ import annotations

import argparse
import asyncio
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def workflow(i: int) -> dict:
    """Prompt -> offline image (512 px) -> PNG in the run's folder: three nodes, one file."""
    return {"format": "flowbanana/workflow", "version": 1, "name": f"bench {i}", "nodes": {
        "prompt": {"type": "text.text", "params": {"text": f"product shot number {i}"}},
        "gen": {"type": "gemini.generate", "inputs": {"prompt": "prompt.text"},
                "params": {"model": "gemini-3.1-flash-image", "size": "512", "seed": i}},
        "save": {"type": "image.save", "params": {"filename": "shot.png"}, "inputs": {"image": "gen.image"}}}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def measure(url: str, count: int, pollers: int = 4) -> dict:
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=httpx.Limits(max_connections=200)) as client:
        ids: list[str] = []
        latencies: list[float] = []
        running = True

        async def poll(seed: int) -> None:  # what a dashboard watching the runs does
            rng = random.Random(seed)
            while running:
                if not ids:
                    await asyncio.sleep(0.001)
                    continue
                t = time.perf_counter()
                response = await client.get(f"/api/runs/{rng.choice(ids)}")
                latencies.append(time.perf_counter() - t)
                assert response.status_code == 200

        watchers = [asyncio.create_task(poll(i)) for i in range(pollers)]
        started = time.perf_counter()

        async def submit(i: int) -> None:
            answer = await client.post("/api/runs", json={"workflow": workflow(i), "options": {"provider": "offline"}})
            assert answer.status_code == 202, answer.text
            ids.append(answer.json()["id"])

        await asyncio.gather(*(submit(i) for i in range(count)))
        submitted = time.perf_counter() - started
        while True:
            runs = (await client.get("/api/runs", params={"limit": count})).json()["runs"]
            if all(r["status"] not in ("queued", "running") for r in runs):
                break
            await asyncio.sleep(0.25)
        running = False
        await asyncio.gather(*watchers)
        idle = []
        for run_id in ids[:200]:  # the same request with nothing running, for comparison
            t = time.perf_counter()
            await client.get(f"/api/runs/{run_id}")
            idle.append(time.perf_counter() - t)
        failed = [r for r in runs if r["status"] != "done"]
        if failed:
            raise SystemExit(f"{len(failed)} runs did not finish: {failed[0]}")
        span = max(r["finished"] for r in runs) - min(r["created"] for r in runs)
    quantiles = statistics.quantiles(latencies, n=100)
    return {"submit_s": submitted, "runs_per_s": count / span, "p50_ms": quantiles[49] * 1000,
            "p95_ms": quantiles[94] * 1000, "gets": len(latencies), "idle_p50_ms": statistics.median(idle) * 1000}


def serve(root: Path, max_runs: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "flowbanana", "serve", "--port", str(port), "--runs",
                                str(root / "runs"), "--workflows", str(root / "wf"), "--no-cache",
                                "--max-runs", str(max_runs)], stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/api/health").status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--max-runs", type=int, nargs="+", default=[2, 8])
    args = parser.parse_args()
    print(f"{args.runs} workflows (text -> gemini.generate 512 px on the offline provider -> image.save), "
          "submitted at once")
    print(f"{'max-runs':>8} {'submit s':>9} {'runs/s':>8} {'GET p50 ms':>11} {'GET p95 ms':>11} {'GETs':>6} "
          f"{'idle p50 ms':>12}")
    for max_runs in args.max_runs:
        with tempfile.TemporaryDirectory() as tmp:
            process, url = serve(Path(tmp), max_runs)
            try:
                r = asyncio.run(measure(url, args.runs))
            finally:
                process.terminate()
                process.wait(30)
        print(f"{max_runs:>8} {r['submit_s']:>9.2f} {r['runs_per_s']:>8.1f} {r['p50_ms']:>11.1f} {r['p95_ms']:>11.1f}"
              f" {r['gets']:>6} {r['idle_p50_ms']:>12.1f}")


if __name__ == "__main__":
    main()
