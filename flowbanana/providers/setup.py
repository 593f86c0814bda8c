"""Choosing the provider for a run, and what the run reports about its model calls afterwards.

`auto` uses Gemini when a key (or Vertex AI) is configured, else the offline preview; `gemini`
without a key fails here, before any node runs. A dry run swaps in a provider that only writes
down the calls (answering with offline previews so that downstream nodes run), reads the cache
without writing it, and writes files to a throwaway folder.
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..cache import Cache
from ..executor import RunOptions
from ..limits import CallLimiter
from ..results import RunResult
from ..subgraph import Subgraphs
from ..words import CLI, Words
from .base import Answer, ProviderUnavailable, Request, Stats
from .config import Settings, load_settings
from .gemini import GeminiProvider
from .keys import has_credentials, how_to_set
from .models import BATCH_PRICE_FACTOR, batch_refusal, lookup
from .offline import LABEL, OfflineProvider
from .retry import RetryPolicy

OFFLINE_BANNER = f"Using the {LABEL} provider: images are local placeholders drawn by flowbanana, not Gemini's."
NO_KEY_NOTE = " No Gemini API key is set; export GEMINI_API_KEY=... to use Gemini."


def make_provider(choice: str, settings: Settings, require_key: bool = True, words: Words = CLI):
    """The provider named by `choice` (auto | gemini | offline); raises ProviderUnavailable for gemini without a key.
    Its messages say what to set in `words`."""
    if choice == "offline" or (choice == "auto" and not has_credentials()):
        return OfflineProvider()
    if choice in ("gemini", "auto"):
        if require_key and not has_credentials():
            raise ProviderUnavailable(f"{words.choose_provider('gemini')} needs an API key, and none is set. "
                                      f"{how_to_set(words)}")
        return GeminiProvider(timeout=settings.timeout_seconds, retry=RetryPolicy(attempts=settings.max_attempts),
                              words=words)
    raise ProviderUnavailable(f"unknown provider {choice!r}; choose auto, gemini or offline.")


@dataclass
class PlannedCall:
    node: str
    model: str
    what: str
    cost_usd: float | None
    not_batched: str = ""  # why the Batch API would not take it ("" if it would)


class Planner:
    """A dry run's provider: records each call it would make and answers with an offline preview."""
    offline = True

    def __init__(self, real):
        self.real = real
        self.name = f"dry run ({real.name})"
        self.cache_id = real.cache_id  # so that what the real provider has cached counts as a hit
        self.calls: list[PlannedCall] = []
        self.stats = Stats()
        self._preview = OfflineProvider()

    async def generate(self, request: Request, limiter: CallLimiter, notify=None) -> Answer:
        model = lookup(request.model, request.image)
        what = f"image {request.aspect_ratio or 'same ratio'} {request.size}" if request.image else "text"
        cost = 0.0 if self.real.offline else model.estimate(size=request.size, prompt=request.prompt,
                                                             input_images=len(request.images),
                                                             search=bool(request.search))
        self.calls.append(PlannedCall(request.origin, request.model, what, cost,
                                      batch_refusal(request.model, request.search, request.image)))
        answer = await self._preview.generate(request, limiter)
        answer.cost_usd = 0.0
        return answer


class ReadOnlyCache(Cache):
    """Hits are read as usual; nothing is stored (a dry run's placeholders must never be cached)."""

    def put(self, key, outputs, digests, meta) -> None:
        return None


@dataclass
class RunSetup:
    provider: Any
    settings: Settings
    dry_run: bool = False
    banner: str | None = None
    _scratch: Path | None = field(default=None, repr=False)

    def apply(self, options: RunOptions) -> RunOptions:
        """`options` with this run's provider, limits and (for a dry run) a scratch folder and a read-only cache."""
        resources = {**options.resources, "provider": self.provider}
        changes: dict[str, Any] = dict(resources=resources, concurrency=self.settings.concurrency,
                                       rpm=0 if self.provider.offline else self.settings.rpm_table())
        if self.dry_run:
            self._scratch = Path(tempfile.mkdtemp(prefix="flowbanana-dry-run-"))
            changes.update(out_dir=self._scratch, cache=ReadOnlyCache(options.cache.root) if options.cache else None)
        return replace(options, **changes)

    def announce(self, workflow, catalogue) -> str | None:
        """The banner to show before the run: only when the offline preview stands in for a model node."""
        nodes = Subgraphs(catalogue).expand(workflow)[0].workflow.nodes  # a model node inside a subgraph counts
        uses_models = any((t := catalogue.get(n.type)) is not None and t.uses_provider for n in nodes.values())
        return self.banner if uses_models else None

    async def aclose(self) -> None:
        real = getattr(self.provider, "real", self.provider)
        if hasattr(real, "aclose"):
            await real.aclose()
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def usage(self, result: RunResult) -> dict[str, Any]:
        """Calls made, retries, cache hits and estimated cost, for the summary."""
        return usage_of(self.provider, result)

    def plan(self, batch: bool = False) -> dict[str, Any]:
        """The dry run's calls and estimated cost; with `batch`, the cost through the Batch API too."""
        calls = getattr(self.provider, "calls", [])
        priced = [c.cost_usd for c in calls if c.cost_usd is not None]
        note = "" if self.provider.real.offline or has_credentials() else \
            "No API key is set, so a real run with --provider gemini would stop before it starts."
        plan = {"provider": self.provider.real.name, "calls": [c.__dict__ for c in calls],
                "cost_usd": round(sum(priced), 4), "unpriced": len(calls) - len(priced), "note": note}
        if batch:  # a call the Batch API does not take goes direct (--direct), at the full price
            plan["batch_cost_usd"] = round(sum(c.cost_usd * (1 if c.not_batched else BATCH_PRICE_FACTOR)
                                               for c in calls if c.cost_usd is not None), 4)
            plan["not_batched"] = {c.node: c.not_batched for c in calls if c.not_batched}
        return plan


def prepare_run(provider: str = "auto", *, config: str | Path | None = None, rpm: int | None = None,
                concurrency: int | None = None, dry_run: bool = False, words: Words = CLI) -> RunSetup:
    """Settings (file, then flags) and the provider for one run; raises ProviderUnavailable or ConfigError, in the
    front end's `words`."""
    settings = load_settings(config, rpm=rpm, concurrency=concurrency)
    choice = provider if provider != "auto" else settings.provider
    real = make_provider(choice, settings, require_key=not dry_run, words=words)  # a dry run calls nothing
    banner = OFFLINE_BANNER + (NO_KEY_NOTE if choice == "auto" else "") if real.offline else None
    return RunSetup(Planner(real) if dry_run else real, settings, dry_run, banner)


def usage_of(provider, result: RunResult) -> dict[str, Any]:
    """What `provider` did in the run that gave `result`: calls, retries, cache hits, estimated cost."""
    stats = provider.stats
    hits = sum(m.get("calls", 0) for m in model_metas(result) if m.get("session") != stats.session)
    return {"provider": provider.name, "offline": provider.offline, "calls": stats.calls, "retries": stats.retries,
            "cache_hits": hits, "cost_usd": round(stats.cost_usd, 4), "unpriced": stats.unpriced}


def model_metas(result: RunResult):
    """Every recorded model result in a run: one per node, or one per item of a mapped node."""
    for node in result.nodes.values():
        for meta in node.meta.get("items", [node.meta]):
            if "provider" in meta and "calls" in meta:
                yield meta
