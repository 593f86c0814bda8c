"""Gemini throughput: many independent generate calls against the fake server at a fixed latency.

    python bench/gemini_throughput.py [--calls 64] [--latency 0.2] [--concurrency 8] [--rpm 0]
    python bench/gemini_throughput.py --sweep    concurrency 4, 16, 64 at 0.2 s and 1 s latency

Runs a workflow of `calls` independent gemini.generate nodes through the real SDK at the fake
Gemini server (tests/gemini/fake_gemini.py, in a process of its own so that its PNG encoding does not
compete with the client for the interpreter) and prints its makespan divided by the ideal one under
the configured concurrency and requests per minute (1.00 is a perfect schedule), and the CPU this process
spent per call (the SDK, decoding the answers, the executor): the ideal leaves that CPU out, so at high
concurrency and low latency it is what the ratio measures, and on a busy machine the makespan stretches
with whatever CPU the machine can spare. With --rpm N and more than N calls the ideal includes the
minute-long waits the rate limit imposes.
"""
from __future__ import annotations

import argparse
import asyncio
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flowbanana.api import catalogue, run_async
from flowbanana.workflow import from_dict

FAKE = Path(__file__).parents[1] / "tests" / "gemini" / "fake_gemini.py"
sys.path.insert(0, str(FAKE.parent))
from fake_gemini import FAKE_KEY  # noqa: E402


def workflow(calls: int):
    """`calls` generate nodes and one preview (saving PNGs would measure zlib, not scheduling)."""
    nodes = {f"gen{i}": {"type": "gemini.generate", "params": {"prompt": f"product shot {i}", "aspect_ratio": "1:1"}}
             for i in range(calls)}
    nodes["show"] = {"type": "image.preview", "inputs": {"image": "gen0.image"}}
    return from_dict({"format": "flowbanana/workflow", "version": 1, "name": "throughput", "nodes": nodes})


def ideal(calls: int, latency: float, concurrency: int, rpm: int) -> float:
    by_slots = math.ceil(calls / concurrency) * latency
    by_rate = ((calls - 1) // rpm) * 60.0 + latency if rpm else 0.0
    return max(by_slots, by_rate)


async def measure(calls: int, latency: float, concurrencies: list[int],
                  rpm: int) -> list[tuple[int, float, float, float]]:
    """(concurrency, makespan, ideal, this process's CPU seconds) for each concurrency, against one fake server at
    `latency`."""
    server = subprocess.Popen([sys.executable, str(FAKE), "--latency", str(latency)], stdout=subprocess.PIPE,
                              text=True)
    os.environ.update(GOOGLE_GEMINI_BASE_URL=server.stdout.readline().strip(), GEMINI_API_KEY=FAKE_KEY)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as scratch:
            nodes, wf = catalogue(), workflow(calls)
            started = time.perf_counter()  # the SDK's one-time start (import, schemas) is not scheduling
            await run_async(workflow(1), provider="gemini", out_dir=scratch, use_cache=False, nodes=nodes, rpm=0)
            print(f"  (warm-up, one call in a fresh process: {time.perf_counter() - started:.2f}s)")
            for concurrency in concurrencies:
                started, cpu = time.perf_counter(), time.process_time()
                result = await run_async(wf, provider="gemini", out_dir=scratch, use_cache=False, nodes=nodes,
                                         concurrency=concurrency, rpm=rpm)
                assert result.ok, [r.error for r in result.nodes.values() if r.error][:3]
                rows.append((concurrency, time.perf_counter() - started, ideal(calls, latency, concurrency, rpm),
                             time.process_time() - cpu))
    finally:
        server.terminate()
        server.wait()
    return rows


async def main(args) -> None:
    plan = [(0.2, [4, 16, 64]), (1.0, [4, 16, 64])] if args.sweep else [(args.latency, [args.concurrency])]
    print(f"{args.calls} generate calls through the SDK at the fake server, rpm {args.rpm or 'unlimited'}")
    for latency, concurrencies in plan:
        for concurrency, makespan, best, cpu in await measure(args.calls, latency, concurrencies, args.rpm):
            ratio = f"{makespan / best:.2f}" if best else "n/a (no latency)"
            print(f"latency {latency:g}s, concurrency {concurrency:>2}: makespan {makespan:6.2f}s, ideal "
                  f"{best:6.2f}s, makespan / ideal = {ratio}; client CPU {1000 * cpu / args.calls:.1f} ms a call")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rpm", type=int, default=0)
    parser.add_argument("--sweep", action="store_true", help="concurrency 4, 16, 64 at 0.2 s and 1 s latency")
    asyncio.run(main(parser.parse_args()))
