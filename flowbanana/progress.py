"""The CLI's view of a run: a line per node as it settles, a live status line on a terminal, a summary."""
from __future__ import annotations

import asyncio
import sys
import time
from typing import TextIO

from .events import Event
from .images import is_image
from .results import RunResult

_SYMBOLS = {"node_finished": ("✓", "done"), "node_cached": ("=", "cached"), "node_failed": ("✗", "failed"),
            "node_skipped": ("-", "skipped"), "node_cancelled": ("■", "cancelled")}

MAX_WARNINGS = 10


class Progress:
    """An event listener: `Execution(..., on_event=Progress())`."""

    def __init__(self, stream: TextIO = sys.stdout, live: bool | None = None, dry_run: bool = False):
        self.stream = stream
        self.dry_run = dry_run  # its outputs go to a scratch folder that is removed: not worth naming
        self.live = stream.isatty() if live is None else live
        self.running: dict[str, float] = {}
        self.fractions: dict[str, float] = {}
        self.total = self.settled = 0
        self.warnings: dict[str, int] = {}  # repeated in the summary: rows left out of a CSV must not go unnoticed
        self.items = ItemCount()
        self.width = 8
        self._status_shown = False

    def __call__(self, event: Event) -> None:
        kind, node = event.kind, event.node
        if kind == "run_started":
            self.total = len(event.data["nodes"])
            self.width = max([8, *(len(n) for n in event.data["nodes"])])
            where = "model calls answered by placeholders, nothing kept" if self.dry_run else f"outputs in {event.data['out_dir']}"
            self._print(f"{'Dry run of' if self.dry_run else 'Running'} {event.data['workflow']!r}: {self.total} "
                        f"nodes, {where}")
        elif kind == "node_started":
            self.running[node] = time.monotonic()
        elif kind == "node_progress":
            self.fractions[node] = event.data["fraction"]
            if "items" in event.data:
                self.items.update(node, event.data["items"], event.data["total"])
                if not self.live and self.items.step_passed():  # a log file: one line per tenth of the rows
                    self._print(f"  … {self.items.text()}")
        elif kind == "node_warning":
            warning = f"{node}: {event.data['message']}"
            self.warnings[warning] = self.warnings.get(warning, 0) + 1
            if self.warnings[warning] == 1:  # an item-by-item node says the same thing once
                self._print(f"  ! {warning}")
        elif kind in _SYMBOLS:
            self.running.pop(node, None)
            self.fractions.pop(node, None)
            self.items.finish(node)
            self.settled += 1
            symbol, word = _SYMBOLS[kind]
            seconds = event.data.get("seconds")
            took = f"{seconds:6.2f}s" if seconds is not None else " " * 7
            detail = event.data.get("error") or event.data.get("reason") or _outputs(event.data.get("outputs", {}))
            self._print(f"  {symbol} {node:<{self.width}} {word:<9} {took}  {detail}")
            if event.data.get("hint"):
                self._print(f"    {'':<{self.width}} → {event.data['hint']}")
        self._status()

    async def tick(self, seconds: float = 1.0) -> None:
        """Redraw the status line every `seconds` until cancelled, so that a long model call (or a wait for the
        rate limit) shows its time growing instead of a frozen "0s"."""
        while self.live:
            await asyncio.sleep(seconds)
            self._status()

    def _print(self, line: str) -> None:
        self._clear()
        print(line, file=self.stream, flush=True)

    def _clear(self) -> None:
        if self._status_shown:
            getattr(self.stream, "control", self.stream.write)("\r\033[K")  # ours, sent as it is
            self._status_shown = False

    def _status(self) -> None:
        if not self.live or not self.running:
            return
        now = time.monotonic()
        parts = [f"{n} {now - t:.0f}s" + (f" {self.fractions[n]:.0%}" if n in self.fractions else "")
                 for n, t in list(self.running.items())[:4]]
        more = f" +{len(self.running) - 4}" if len(self.running) > 4 else ""
        self._clear()
        rows = f" {self.items.text()};" if self.items.total else ""
        self.stream.write(f"  …{rows} [{self.settled}/{self.total}] running: {', '.join(parts)}{more}")
        self.stream.flush()
        self._status_shown = True

    def summary(self, result: RunResult, usage: dict | None = None, plan: dict | None = None) -> None:
        self._clear()
        counts = ", ".join(f"{result.count(s)} {s}" for s in ("done", "cached", "failed", "skipped", "cancelled")
                           if result.count(s))
        verdict = {"done": "Finished", "failed": "Finished with failures", "cancelled": "Cancelled"}[result.status]
        print(f"{verdict} in {result.seconds:.2f}s: {counts}.", file=self.stream)
        if usage and (usage["calls"] or usage["cache_hits"]) and not plan:
            print(_usage_line(usage), file=self.stream)
        if plan is not None:
            _print_plan(plan, self.stream)
        files = [] if plan is not None else result.files
        if files:
            print(f"Files written ({len(files)}):", file=self.stream)
            for path in files:
                print(f"  {path}", file=self.stream)
        elif plan is None and result.ok and _made_images(result):  # else the failures below say why
            print("No files written: images are kept only by an image.save node (previews show in the editor, "
                  "`flowbanana ui FILE`).", file=self.stream)
        if self.warnings:
            print("Warnings:", file=self.stream)
            for warning, times in list(self.warnings.items())[:MAX_WARNINGS]:
                print(f"  ! {warning}" + (f" ({times} items)" if times > 1 else ""), file=self.stream)
            if len(self.warnings) > MAX_WARNINGS:
                print(f"  ! and {len(self.warnings) - MAX_WARNINGS} more", file=self.stream)
        failed = {n: r for n, r in result.nodes.items() if r.status == "failed"}
        if failed:
            print("Failed nodes (everything that did not depend on them still ran):", file=self.stream)
            for node, r in failed.items():
                print(f"  ✗ {node}: {r.error}" + (f"\n    → {r.hint}" if r.hint else ""), file=self.stream)


class ItemCount:
    """How far a list run is: the items the slowest node of the longest list has done, the rate, what is left."""

    def __init__(self):
        self.nodes: dict[str, list[int]] = {}  # node -> [done, total]
        self.started: float | None = None
        self._step = 0

    def update(self, node: str, done: int, total: int) -> None:
        if self.started is None:
            self.started = time.monotonic()
        self.nodes[node] = [done, total]

    def finish(self, node: str) -> None:
        if node in self.nodes:
            self.nodes[node][0] = self.nodes[node][1]

    @property
    def total(self) -> int:
        return max((total for _, total in self.nodes.values()), default=0)

    @property
    def done(self) -> int:
        return min((done for done, total in self.nodes.values() if total == self.total), default=0)

    def step_passed(self) -> bool:
        """Whether another tenth of the items is done since the last call said so (lists of 20 or more)."""
        if self.total < 20:
            return False
        step = self.done * 10 // self.total
        passed, self._step = step > self._step, max(step, self._step)
        return passed

    def text(self) -> str:
        done, total = self.done, self.total
        elapsed = time.monotonic() - (self.started or time.monotonic())
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = f", ETA {_duration((total - done) / rate)}" if rate and done < total else ""
        return f"{done:,}/{total:,} items ({done / total:.0%}), {rate:.1f}/s{eta}"


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h {rest // 60:02d}m" if hours else f"{rest // 60}m {rest % 60:02d}s" if rest >= 60 else \
        f"{rest}s"


def _usage_line(usage: dict) -> str:
    retries = f" (+{usage['retries']} retr{'y' if usage['retries'] == 1 else 'ies'})" if usage["retries"] else ""
    cost = "no cost (offline preview)" if usage["offline"] else f"estimated cost ${usage['cost_usd']:.3f}" + (
        f" plus {usage['unpriced']} calls of unknown price" if usage["unpriced"] else "")
    if usage.get("batch"):
        cost += f" ({usage['batch']['calls']} at batch prices: ${usage['batch']['direct_cost_usd']:.3f} direct)"
    return (f"Model calls ({usage['provider']}): {usage['calls'] - usage['retries']} made{retries}, "
            f"{usage['cache_hits']} from the cache; {cost}.")


def _print_plan(plan: dict, stream: TextIO) -> None:
    calls = plan["calls"]
    print(f"Dry run: nothing was called and nothing written. A real run ({plan['provider']}) would make "
          f"{len(calls)} model call{'s' if len(calls) != 1 else ''}" + (":" if calls else "."), file=stream)
    width = max([4, *(len(c["node"]) for c in calls)])
    for call in calls:
        cost = "?" if call["cost_usd"] is None else f"${call['cost_usd']:.3f}"
        print(f"  {call['node']:<{width}}  {call['model']:<32} {call['what']:<22} {cost}", file=stream)
    unknown = f" plus {plan['unpriced']} calls of unknown price" if plan["unpriced"] else ""
    batch = f" direct, ${plan['batch_cost_usd']:.3f} through the Batch API" if "batch_cost_usd" in plan else ""
    print(f"Estimated cost: ${plan['cost_usd']:.3f}{batch}{unknown} (estimates; Google bills by tokens).", file=stream)
    if plan.get("not_batched"):
        print("Not through the Batch API (counted at the full price; a batch run stops until they go --direct): "
              + "; ".join(f"{node}: {why}" for node, why in plan["not_batched"].items()) + ".", file=stream)
    if plan.get("note"):
        print(plan["note"], file=stream)


def _outputs(outputs: dict) -> str:
    return ", ".join(f"{name} {_value(value)}" for name, value in outputs.items())


def _made_images(result: RunResult) -> bool:
    """Whether any node output a picture, so that a run which wrote none can say how to keep them."""
    return any(is_image(item) for r in result.nodes.values() for value in r.outputs.values()
               for item in (value if isinstance(value, list) else [value]))


def _value(value) -> str:
    if isinstance(value, dict) and "image" in value:
        return f"{value['image']['width']}×{value['image']['height']}"
    if isinstance(value, list):
        return f"[{len(value)} items]"
    if isinstance(value, (int, float)):  # bool included: numbers and flags read as themselves, not as quoted text
        return str(value)
    text = str(value).replace("\n", " ")
    return repr(text if len(text) <= 40 else text[:37] + "...")
