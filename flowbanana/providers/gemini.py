"""The Gemini provider: one request through `google-genai`'s async client, retried when that helps.

Retries (429, 500, 502, 503, 504, timeouts, dropped connections) wait for the server's
RetryInfo when it gives one, else back off exponentially with jitter; everything else fails at
once with what went wrong. Refusals are errors carrying the reason and the model's own words.
The base URL is left to the SDK, so GOOGLE_GEMINI_BASE_URL (a proxy, or the tests' fake server)
works; the key never appears in a message or a log line.
"""
from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import traceback
from dataclasses import dataclass
from typing import Callable

from PIL import Image

from ..limits import CallLimiter
from ..node_api import NodeError
from . import inputs
from .clients import CLIENTS
from .base import Answer, Refusal, Request, Stats
from .keys import find_key, how_to_set, scrub, uses_vertex
from .models import IMAGE_MODELS, TEXT_MODELS, lookup
from .reasons import FAILED, SAME, block_message, finish_message
from ..words import CLI, Words
from .retry import RETRY_STATUS, RetryPolicy, lasting_quota, server_retry_delay

log = logging.getLogger("flowbanana.gemini")

_SSL_OBJECT = re.compile(r" ssl:<[^>]*>")  # aiohttp names the SSLContext object: noise in a message


@dataclass
class _Failure:
    message: str
    hint: str = ""
    retryable: bool = False
    server_delay: float | None = None
    lasting: bool = False    # a quota that will not clear during this run: no other call to the model is sent


QUOTA_HINTS = {
    "free tier": "Image models have no free tier: enable billing on the key's Google Cloud project "
                 "(https://aistudio.google.com/usage), then run again. Retrying cannot help, so nothing was retried.",
    "per day": "The per-day quota resets at midnight Pacific time; until then retrying cannot help. See "
               "https://aistudio.google.com/usage, or ask Google for a higher quota.",
}


class GeminiProvider:
    """Calls Gemini (the Developer API with a key, or Vertex AI through the SDK's environment variables)."""
    name = "gemini"
    cache_id = "gemini"
    offline = False

    def __init__(self, *, timeout: float = 180.0, retry: RetryPolicy = RetryPolicy(),
                 sleep: Callable[[float], object] = asyncio.sleep, words: Words = CLI):
        self.timeout = timeout
        self.words = words  # what its hints tell the user to set
        self.retry = retry
        self.stats = Stats()
        self._sleep = sleep
        self._key = None if uses_vertex() else find_key()  # Vertex: the SDK reads its own variables
        self._secret = find_key()  # whatever key is in reach is blotted out of every message
        self._client = None
        self._starting = asyncio.Lock()
        self._spent: dict[str, NodeError] = {}  # model -> why its quota will not clear in this run

    async def _aio(self):
        """The SDK's async client: the process's one for this key and endpoint (clients.py), made on first use in a
        worker thread (importing the SDK takes seconds)."""
        async with self._starting:
            if self._client is None:
                self._client = await asyncio.to_thread(CLIENTS.get, self._key, self.timeout, self._make_client)
        return self._client.aio

    def _make_client(self):
        from google import genai
        from google.genai import types
        options = types.HttpOptions(timeout=int(self.timeout * 1000),  # the SDK counts milliseconds
                                    retry_options=types.HttpRetryOptions(attempts=1))  # we retry ourselves
        if not uses_vertex() and not os.environ.get("GOOGLE_GENAI_API_VERSION"):
            options.api_version = "v1beta"  # where image generation is documented
        try:
            return genai.Client(api_key=self._key, http_options=options)
        except ValueError as exc:
            raise NodeError(f"the Gemini client could not start: {scrub(str(exc), self._secret)}",
                            how_to_set(self.words))

    async def aclose(self) -> None:
        """Let go of the client; it stays open for the next run (other runs may be using it now)."""
        self._client = None

    async def generate(self, request: Request, limiter: CallLimiter,
                       notify: Callable[[str], None] | None = None) -> Answer:
        contents, config = await asyncio.to_thread(_payload, request)
        aio = await self._aio()
        retries = 0
        for attempt in range(1, self.retry.attempts + 1):
            try:
                self._refuse_if_spent(request.model)
                async with limiter.slot(request.model):
                    self._refuse_if_spent(request.model)  # another call may have found out while this one waited
                    self.stats.calls += 1
                    if attempt > 1:  # counted when it is made: a retry cancelled while it waits never happened
                        retries += 1
                        self.stats.retries += 1
                    response = await aio.models.generate_content(model=request.model, contents=contents,
                                                                  config=config)
                break
            except (asyncio.CancelledError, NodeError):
                raise
            except Exception as exc:
                failure = self._classify(exc, request)
            if failure.lasting:
                self._spent.setdefault(request.model, NodeError(
                    f"not sent: an earlier call to {request.model} in this run found its quota used up "
                    f"({failure.message}).", failure.hint))
            if not failure.retryable or attempt == self.retry.attempts:
                tried = f" (after {attempt} attempts)" if attempt > 1 else ""
                raise NodeError(failure.message + tried, failure.hint)
            if failure.server_delay is not None and failure.server_delay > self.retry.max_server_delay:
                raise NodeError(f"{failure.message}; Gemini asks to wait {failure.server_delay:g}s before trying again.",
                                f"The quota for this period is used up: wait, lower {self.words.rpm}, or check "
                                "your quota at https://aistudio.google.com/usage.")
            wait = self.retry.delay(attempt, failure.server_delay)
            log.info("%s; retry %d of %d in %.1fs", failure.message, attempt, self.retry.attempts - 1, wait)
            if notify:
                notify(f"{failure.message}; retrying in {wait:.1f}s (attempt {attempt + 1} of {self.retry.attempts})")
            await self._sleep(wait)
        answer = await asyncio.to_thread(self._answer, response, request, retries)
        self.stats.add(answer)
        return answer

    def _refuse_if_spent(self, model: str) -> None:
        spent = self._spent.get(model)
        if spent is not None:
            raise NodeError(spent.message, spent.hint)

    def _classify(self, exc: Exception, request: Request) -> _Failure:
        from google.genai import errors
        if isinstance(exc, errors.APIError):
            return self._api_failure(exc, request)
        if isinstance(exc, TimeoutError) or type(exc).__name__ in ("TimeoutException", "ReadTimeout",
                                                                    "ConnectTimeout", "ServerTimeoutError"):
            return _Failure(f"Gemini did not answer within {self.timeout:g}s", retryable=True,
                            hint="Large sizes (4K) can take minutes: raise timeout_seconds in the config file.")
        if isinstance(exc, (ConnectionError, OSError)) or type(exc).__module__.split(".")[0] in ("aiohttp", "httpx",
                                                                                              "httpx2"):
            detail = _SSL_OBJECT.sub("", scrub(str(exc), self._secret))
            return _Failure(f"could not reach Gemini ({type(exc).__name__}: {detail})",
                            "Check the network connection (and GOOGLE_GEMINI_BASE_URL if you use a proxy).",
                            retryable=True)
        if isinstance(exc, (json.JSONDecodeError, ValueError)):
            return _Failure(f"Gemini's answer could not be read ({type(exc).__name__}: "
                            f"{scrub(str(exc), self._secret)[:200]})",
                            "The server (or a proxy in between) sent a damaged body; try again later.")
        log.debug("unexpected error from the Gemini SDK: %s", scrub(traceback.format_exc(), self._secret))
        return _Failure(f"unexpected error calling Gemini ({type(exc).__name__}: {scrub(str(exc), self._secret)[:300]})",
                        f"Turn on {self.words.debug} for the details and report it if it persists.")

    def _api_failure(self, exc, request: Request) -> _Failure:
        code, status = exc.code, exc.status or ""
        message = scrub(str(exc.message or ""), self._secret)[:500]
        said = f"Gemini answered {code} {status}: {message}".rstrip(": ")
        lasting = lasting_quota(exc.details, str(exc.message or "")) if code == 429 else None
        if lasting:
            return _Failure(said, QUOTA_HINTS[lasting], lasting=True)
        if code in RETRY_STATUS:
            return _Failure(said, f"Gemini is busy or over quota; lower {self.words.rpm} or {self.words.concurrency}, "
                            "or try later.",
                            retryable=True, server_delay=server_retry_delay(exc.details))
        if code == 400 and "api key" in message.lower():
            return _Failure(f"Gemini rejected the API key ({status}).", how_to_set(self.words))
        if code in (401, 403):
            return _Failure(said, "Check that the key is valid and its project has the Gemini API enabled. "
                                  + how_to_set(self.words))
        if code == 404:
            known = ", ".join(IMAGE_MODELS if request.image else TEXT_MODELS)
            return _Failure(said, f"Check the model id {request.model!r}: Google may have shut it down "
                                  f"(`flowbanana models` lists today's); known ones: {known}.")
        if code == 400:
            return _Failure(said, "Check the model's aspect ratios, sizes and reference-image limit "
                                  "(`flowbanana nodes gemini.generate`); bad requests are not retried.")
        return _Failure(said)

    def _answer(self, response, request: Request, retries: int) -> Answer:
        feedback = response.prompt_feedback
        if feedback is not None and feedback.block_reason:
            message, hint = block_message(_name(feedback.block_reason))
            detail = f" {feedback.block_reason_message}" if feedback.block_reason_message else ""
            raise Refusal(message + detail, hint)
        candidate = response.candidates[0] if response.candidates else None
        finish = _name(candidate.finish_reason) if candidate is not None and candidate.finish_reason else "NONE"
        parts = (candidate.content.parts if candidate is not None and candidate.content else None) or []
        blobs = [p.inline_data for p in parts if p.inline_data is not None and p.inline_data.data and not p.thought]
        text = "\n".join(p.text for p in parts if p.text and not p.thought).strip()
        said = f" The model said: {text!r}" if text else ""
        usable = bool(blobs) if request.image else bool(text)
        warnings = []
        if finish == "MAX_TOKENS" and usable:  # an answer cut short is still an answer: keep it, say so
            warnings.append("Gemini ran out of output tokens: " + ("its text was cut short." if not request.image
                                                                   else "its text may be cut short."))
        elif finish in FAILED:
            message, hint = finish_message(finish, request.image)
            raise Refusal(message + said, hint)
        if request.image and not blobs:
            raise Refusal(f"Gemini answered with text only, no image (finish reason {finish}).{said}",
                          "Say plainly that you want an image (\"Generate an image of ...\"). " + SAME)
        if not request.image and not text:
            raise Refusal(f"Gemini returned no text (finish reason {finish}).", SAME)
        model = lookup(request.model, request.image)
        images = []
        for blob in blobs:
            try:
                images.append(_decoded(blob.data))
            except (OSError, ValueError) as exc:
                raise NodeError(f"Gemini's image ({blob.mime_type}) could not be decoded: {exc}.",
                                f"Try again; if it persists, report it with what {self.words.debug} shows.")
        if request.aspect_ratio and model.known and images:
            expected = model.pixel_size(request.aspect_ratio, request.size)
            if images[0].size != expected:
                warnings.append(f"Gemini returned {images[0].width}×{images[0].height}, not the "
                                f"{expected[0]}×{expected[1]} of {request.aspect_ratio} at {request.size} "
                                f"(the model may ignore the size).")
        usage = _usage(response.usage_metadata)
        sources, searches = _grounding(candidate)
        cost = model.cost(size=request.size, images=len(images), input_tokens=usage.get("prompt_tokens", 0),
                          output_tokens=usage.get("thoughts_tokens", 0) + (usage.get("text_tokens", 0) if request.image
                                                                          else usage.get("output_tokens", 0)),
                          searches=len(searches))
        return Answer(images=images, text=text, model=response.model_version or request.model, finish_reason=finish,
                      usage=usage, retries=retries, cost_usd=cost, warnings=warnings, sources=sources,
                      searches=searches)


def _decoded(data: bytes) -> Image.Image:
    """An answer's picture as RGB or RGBA, decoded now; one already in such a mode is not copied again (at 1K the
    copy cost as much CPU as the decoding)."""
    opened = Image.open(io.BytesIO(data))
    opened.load()
    if opened.mode not in ("RGB", "RGBA"):
        return opened.convert("RGBA" if "A" in opened.getbands() else "RGB")
    opened.fp = None  # decoded: the answer's bytes can go, and no reader takes the picture for an unread file
    return opened


def _payload(request: Request):
    """The SDK's `contents` and `config` for a request (images as JPEG or PNG parts, see inputs.py); raises
    NodeError when the request is too big to send."""
    from google.genai import types
    model = lookup(request.model, request.image)
    images = [inputs.encode(image, model.max_input_side) for image in request.images]
    inputs.check_inline(request.model, request.prompt + request.system_instruction, images)
    contents: list = [request.prompt, *(types.Part.from_bytes(data=e.data, mime_type=e.mime_type) for e in images)]
    image_config = None
    if request.image:
        size = request.size if model.sizes != ("1K",) else None  # models with one size take no imageSize
        image_config = types.ImageConfig(aspect_ratio=request.aspect_ratio, image_size=size)
    config = types.GenerateContentConfig(
        response_modalities=["TEXT", "IMAGE"] if request.image else ["TEXT"], image_config=image_config,
        seed=request.seed, temperature=request.temperature,
        system_instruction=request.system_instruction or None,
        thinking_config=types.ThinkingConfig(thinking_level=request.thinking.upper()) if request.thinking else None,
        tools=[types.Tool(google_search=_search(request.search))] if request.search else None)
    return contents, config


def _search(kinds: tuple[str, ...]):
    """The GoogleSearch tool: web search alone is its default; image search is asked for by name."""
    from google.genai import types
    if "image" not in kinds:
        return types.GoogleSearch()
    return types.GoogleSearch(search_types=types.SearchTypes(web_search=types.WebSearch(),
                                                             image_search=types.ImageSearch()))


def _grounding(candidate) -> tuple[list[dict[str, str]], list[str]]:
    """The pages (and image pages) an answer was grounded on, and the search queries run, from grounding_metadata."""
    metadata = getattr(candidate, "grounding_metadata", None) if candidate is not None else None
    if metadata is None:
        return [], []
    sources, seen = [], set()
    for chunk in metadata.grounding_chunks or ():
        found = chunk.web or chunk.image
        uri = (chunk.web.uri if chunk.web else chunk.image.source_uri or chunk.image.image_uri) if found else None
        if uri and uri not in seen:
            seen.add(uri)
            sources.append({"title": found.title or found.domain or uri, "uri": uri})
    return sources, [*(metadata.web_search_queries or ()), *(metadata.image_search_queries or ())]


def _name(value) -> str:
    return getattr(value, "value", None) or str(value)


def _usage(metadata) -> dict[str, int]:
    if metadata is None:
        return {}
    fields = {"prompt_tokens": metadata.prompt_token_count, "output_tokens": metadata.candidates_token_count,
              "thoughts_tokens": metadata.thoughts_token_count, "total_tokens": metadata.total_token_count}
    for detail in metadata.candidates_tokens_details or ():  # output by modality: text is priced by the token
        if _name(detail.modality) == "TEXT" and detail.token_count:
            fields["text_tokens"] = detail.token_count
    return {k: v for k, v in fields.items() if v is not None}
