"""Executor figures: overhead per node on a generated 1,000-node graph, and makespan over critical path.

    python bench/executor_overhead.py [--nodes 1000] [--width 64] [--seed 1]

Prints ratios, not pass/fail: overhead per node (wall time over nodes that do no work), and for a wide
graph of sleeping nodes the makespan divided by the critical path (1.00 is a perfect schedule).
"""
from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

from flowbanana.cache import Cache
from flowbanana.catalogue import Catalogue
from flowbanana.executor import Execution, RunOptions
from flowbanana.graph import build_graph, critical_path_length
from flowbanana.node_api import ANY, FLOAT, Input, Output, Pack, Param
from flowbanana.workflow import from_dict

pack = Pack("bench")


@pack.node("bench.noop_async", inputs=[Input("inputs", ANY, optional=True, list=True)], params=[Param.float("seconds", 0.0)],
           outputs=[Output("value", FLOAT)], output=True)
async def noop_async(inputs, seconds):
    if seconds:
        await asyncio.sleep(seconds)
    return float(len(inputs))


@pack.node("bench.noop_sync", inputs=[Input("inputs", ANY, optional=True, list=True)], outputs=[Output("value", FLOAT)],
           output=True)
def noop_sync(inputs):
    return float(len(inputs))


def random_dag(n: int, seed: int, node_type: str, max_parents: int = 3) -> dict:
    rng = random.Random(seed)
    nodes = {}
    for i in range(n):
        parents = rng.sample(range(max(0, i - 50), i), k=min(i, rng.randint(0, max_parents))) if i else []
        nodes[f"n{i}"] = {"type": node_type, "inputs": {"inputs": [f"n{p}.value" for p in parents]}} \
            if parents else {"type": node_type}
    return nodes


def wide_graph(width: int, depth: int, seed: int) -> dict:
    """`width` chains of `depth` sleeping nodes with random lengths, joined at the end."""
    rng = random.Random(seed)
    nodes = {}
    for c in range(width):
        for d in range(depth):
            node = {"type": "bench.noop_async", "params": {"seconds": round(rng.uniform(0.02, 0.12), 3)}}
            if d:
                node["inputs"] = {"inputs": [f"c{c}_{d - 1}.value"]}
            nodes[f"c{c}_{d}"] = node
    nodes["join"] = {"type": "bench.noop_async", "inputs": {"inputs": [f"c{c}_{depth - 1}.value" for c in range(width)]}}
    return nodes


def run(nodes: dict, catalogue: Catalogue, cache: Cache | None = None) -> tuple[float, object]:
    workflow = from_dict({"format": "flowbanana/workflow", "version": 1, "name": "bench", "nodes": nodes})
    execution = Execution(workflow, catalogue, RunOptions(out_dir=Path(tempfile.mkdtemp()), cache=cache))
    started = time.perf_counter()
    result = asyncio.run(execution.run())
    assert result.ok, result.status
    return time.perf_counter() - started, workflow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    catalogue = Catalogue()
    catalogue.add(pack, "bench")

    print(f"Executor overhead on a random {args.nodes}-node DAG (nodes do no work):")
    for label, node_type in (("async nodes", "bench.noop_async"), ("sync nodes (thread pool)", "bench.noop_sync")):
        seconds, _ = run(random_dag(args.nodes, args.seed, node_type), catalogue)
        print(f"  {label:<28} {seconds * 1e6 / args.nodes:8.0f} µs per node  ({seconds:.2f}s in all)")
    with tempfile.TemporaryDirectory() as folder:
        cache = Cache(Path(folder))
        nodes = random_dag(args.nodes, args.seed, "bench.noop_sync")
        cold, _ = run(nodes, catalogue, cache)
        warm, _ = run(nodes, catalogue, cache)
        print(f"  {'with cache, first run':<28} {cold * 1e6 / args.nodes:8.0f} µs per node")
        print(f"  {'with cache, all hits':<28} {warm * 1e6 / args.nodes:8.0f} µs per node")

    nodes = wide_graph(args.width, args.depth, args.seed)
    seconds, workflow = run(nodes, catalogue)
    graph = build_graph(workflow)
    for node_id, node in workflow.nodes.items():
        graph.nodes[node_id]["seconds"] = node.params.get("seconds", 0.0)
    critical = critical_path_length(graph)
    print(f"\nWide graph: {args.width} chains x {args.depth} sleeping nodes ({len(nodes)} nodes)")
    print(f"  makespan {seconds:.3f}s / critical path {critical:.3f}s = {seconds / critical:.3f}")


if __name__ == "__main__":
    main()
