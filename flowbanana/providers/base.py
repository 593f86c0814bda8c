"""What every provider takes and gives: a request, an answer, the errors, and the run's call counts."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Callable, Protocol

from PIL import Image

from ..limits import CallLimiter
from ..node_api import NodeError


@dataclass
class Request:
    """One model call. `images` are sent after the prompt, in order; `image` False asks for text only."""
    model: str
    prompt: str
    images: list[Image.Image] = field(default_factory=list)
    image: bool = True
    aspect_ratio: str | None = None        # None: let the model choose (edits keep the input's ratio)
    size: str = "1K"
    seed: int | None = None
    temperature: float | None = None
    system_instruction: str = ""
    thinking: str | None = None            # a thinking level ("minimal", "medium", "high"); None: the model's default
    search: tuple[str, ...] = ()           # Google Search grounding: "web", "image"
    caption: str = ""                      # what the offline preview writes on an edit (the bare instruction)
    origin: str = ""                       # the node that asks, for --dry-run's list


@dataclass
class Answer:
    images: list[Image.Image]
    text: str
    model: str
    finish_reason: str
    usage: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    cost_usd: float | None = None
    warnings: list[str] = field(default_factory=list)
    sources: list[dict[str, str]] = field(default_factory=list)  # grounding: {"title", "uri"} of each page used
    searches: list[str] = field(default_factory=list)            # the search queries the model ran


class Refusal(NodeError):
    """The model declined or returned no image: never retried, never a blank image."""


class ProviderUnavailable(Exception):
    """The chosen provider cannot run at all (no key): raised before any node runs."""


@dataclass
class Stats:
    """Counts for the CLI's summary; `session` marks results made in this run (cached ones carry another)."""
    calls: int = 0          # requests sent, retries included
    retries: int = 0
    answers: int = 0
    cost_usd: float = 0.0
    unpriced: int = 0       # answers from models without a price estimate
    session: str = field(default_factory=lambda: uuid.uuid4().hex)

    def add(self, answer: Answer) -> None:
        self.answers += 1
        if answer.cost_usd is None:
            self.unpriced += 1
        else:
            self.cost_usd += answer.cost_usd


class Provider(Protocol):
    name: str          # shown to people and recorded per result
    cache_id: str      # part of every model node's cache key
    offline: bool
    stats: Stats

    async def generate(self, request: Request, limiter: CallLimiter,
                       notify: Callable[[str], None] | None = None) -> Answer:
        """Make the call, each attempt inside `limiter.slot(request.model)`; raise NodeError on failure.

        `notify` hears about retries as they happen (the node passes `ctx.warn`)."""
