"""A fake Gemini API: a real HTTP server on 127.0.0.1 speaking the REST wire format of generateContent.

It checks requests as strictly as Google does where it matters to flowbanana (path, model, key
header, aspect ratio and size for the model, how many images), answers with real PNGs of the
size Gemini would return, and injects faults on demand: queue them with `fake.fail("429", ...)`,
one per request, in order. Used by the tests and by bench/gemini_throughput.py. Further routes (the
Batch and Files APIs of fake_batches.py) plug in through `routes`.
"""
from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import io
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image

from flowbanana.providers.models import lookup, nearest_ratio

FAKE_KEY = "AIzaFAKE-test-key-0123456789abcdefghij"
_PATH = re.compile(r"^/(v1|v1beta)/models/([^/:]+):generateContent$")
_STANDARD = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
_WIDE = _STANDARD + ("1:4", "4:1", "1:8", "8:1")
# The fake's own idea of Google's models as served on 2026-12-01, kept apart from flowbanana's catalogue on
# purpose: ids Google shut down (gemini-3-pro-image-preview, gemini-3.1-flash-image-preview, gemini-2.5-flash)
# are absent, so they answer 404 as they do in the real API. `batch=False`: the Batch API refuses jobs for it.
MODELS = {
    "gemini-2.5-flash-image": dict(image=True, sizes={"1K"}, ratios=_STANDARD, max_images=3),
    "gemini-3.1-flash-image": dict(image=True, sizes={"512", "1K", "2K", "4K"}, ratios=_WIDE, max_images=14,
                                   thinks=True, levels={"MINIMAL", "HIGH"}, search={"web", "image"}),
    "gemini-nano-banana-2.1": dict(image=True, sizes={"1K", "2K", "4K"}, ratios=_WIDE, max_images=14, thinks=True,
                                   levels={"MINIMAL", "MEDIUM", "HIGH"}, search={"web", "image"}, batch=False),
    "gemini-3-pro-image": dict(image=True, sizes={"1K", "2K", "4K"}, ratios=_STANDARD, max_images=14, thinks=True,
                               search={"web"}),
    "gemini-3.1-flash-lite-image": dict(image=True, sizes={"1K"}, ratios=_STANDARD, max_images=3),
    "gemini-flash-latest": dict(image=False, max_images=3000),
    "gemini-3.5-flash": dict(image=False, max_images=3000),
    "gemini-3.1-flash-lite": dict(image=False, max_images=3000),
}
IMAGE_TOKENS = {"512": 747, "1K": 1120, "2K": 1680, "4K": 2520}  # Nano Banana 2's output tokens by size
INPUT_IMAGE_TOKENS, PROMPT_TOKENS, TEXT_TOKENS, THOUGHT_TOKENS = 1120, 10, 6, 120
FAULTS = ("429", "429_day", "429_free", "503", "500", "slow", "blocked", "image_safety", "text_only", "malformed",
          "wrong_size", "echo_key", "cut_short")
# "finish:REASON" (any finishReason) answers that reason with the model's words and no image.
QUOTA_FAULTS = {  # QuotaFailure violations as the Gemini API sends them: per minute, per day, and no quota at all
    "429": ("GenerateRequestsPerMinutePerProjectPerModel", "generate_content_requests", "10", ""),
    "429_day": ("GenerateRequestsPerDayPerProjectPerModel", "generate_content_requests", "250", ""),
    "429_free": ("GenerateRequestsPerDayPerProjectPerModel-FreeTier", "generate_content_free_tier_requests", "0",
                 "\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, "
                 "limit: 0"),
}


@dataclass
class Call:
    """One request the fake received and accepted as well-formed."""
    model: str
    version: str
    prompt: str
    images: list[tuple[int, int]]
    config: dict
    system: str = ""
    fault: str | None = None
    search: set[str] = field(default_factory=set)   # Google Search kinds asked for: "web", "image"
    mime_types: list[str] = field(default_factory=list)  # of the images, as the request declared them


@dataclass
class FakeGemini:
    latency: float = 0.0          # seconds every answer takes
    slow_seconds: float = 5.0     # what the "slow" fault adds
    retry_delay: str = "0.05s"    # RetryInfo.retryDelay in 429 answers
    style: str = "rest"           # "rest": mimeType + standard base64; "sdk": mime_type + URL-safe base64
    hold_after: int | None = None  # answer this many requests, then hold the others until release()
    calls: list[Call] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    headers_seen: list[dict] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)  # the client's port of each request: equal ones share a connection
    bodies_seen: list[str] = field(default_factory=list)
    extra_listed: list[str] = field(default_factory=lambda: ["gemini-4-flash-image-preview"])  # listed, not served
    key: str = FAKE_KEY
    routes: list = field(default_factory=list)  # route(method, path, headers, raw, base_url) -> answer or None

    def __post_init__(self):
        self._faults: deque[str] = deque()
        self._lock = threading.Lock()
        self._released = threading.Event()
        self.in_flight = self.peak = self.received = 0

    @staticmethod
    def model_spec(model: str) -> dict | None:
        """The fake's idea of a model (MODELS), None for an id it does not serve."""
        return MODELS.get(model)

    def release(self) -> None:
        """Answer the held requests, and every one from now on."""
        self.hold_after = None
        self._released.set()

    def fail(self, *faults: str) -> None:
        """Queue faults; each request takes the next one (or none)."""
        unknown = {f for f in faults if not f.startswith("finish:")} - set(FAULTS)
        assert not unknown, f"unknown faults {unknown}; known: {FAULTS}"
        self._faults.extend(faults)

    def start(self) -> "FakeGemini":
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- answering ---------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: dict, raw: bytes) -> tuple[int, bytes, dict]:
        """(status, body, extra headers) for one HTTP request."""
        for route in self.routes:
            answered = route(method, path, headers, raw, self.url)
            if answered is not None:
                status, body, extra = answered
                return status, body if isinstance(body, bytes) else json.dumps(body).encode(), extra
        if method == "GET":  # models.list: what this key may use, one page (the real API pages by pageToken)
            if headers.get("x-goog-api-key") != FAKE_KEY:
                status, body = _error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
            elif not re.match(r"^/(v1|v1beta)/models(\?.*)?$", path):
                status, body = _error(404, "NOT_FOUND", f"no route for {path}")
            else:
                status, body = 200, {"models": [{"name": f"models/{m}", "displayName": m,
                                                 "supportedGenerationMethods": ["generateContent"]}
                                                for m in [*MODELS, *self.extra_listed]]}
            return status, json.dumps(body).encode(), {}
        if method != "POST":
            return 404, json.dumps(_error(404, "NOT_FOUND", f"no route for {method} {path}")[1]).encode(), {}
        with self._lock:
            self.headers_seen.append(headers)
            self.bodies_seen.append(raw.decode("utf-8", "replace"))
            fault = self._faults.popleft() if self._faults else None
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self.received += 1
            held = self.hold_after is not None and self.received > self.hold_after
        try:
            if held:
                self._released.wait()
            time.sleep(self.latency + (self.slow_seconds if fault == "slow" else 0))
            status, body = self._answer(path, headers, raw, fault)
        finally:
            with self._lock:
                self.in_flight -= 1
        if status != 200:
            self.rejected.append((status, body.get("error", {}).get("message", "") if isinstance(body, dict) else ""))
        return status, body if isinstance(body, bytes) else json.dumps(body).encode(), {}

    def _answer(self, path: str, headers: dict, raw: bytes, fault: str | None):
        match = _PATH.match(path)
        if not match:
            return _error(404, "NOT_FOUND", f"no route for {path}")
        version, model = match.groups()
        if "key=" in path:
            return _error(400, "INVALID_ARGUMENT", "the key belongs in the x-goog-api-key header")
        if headers.get("x-goog-api-key") != FAKE_KEY:
            return _error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
                          [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}])
        if fault in ("echo_key", "malformed"):
            return _fault_answer(fault, headers, self.retry_delay)
        return self.answer_request(model, json.loads(raw), fault, version)

    def answer_request(self, model: str, body: dict, fault: str | None = None, version: str = "v1beta",
                       record: list | None = None):
        """(status, JSON body) generateContent gives `body` for `model`; the accepted call goes to `record`."""
        if fault in ("503", "500") or fault in QUOTA_FAULTS:
            return _fault_answer(fault, {}, self.retry_delay)
        spec = MODELS.get(model)
        if spec is None:
            return _error(404, "NOT_FOUND", f"models/{model} is not found for API version {version}, or is not "
                                            "supported for generateContent.")
        try:
            call = _parse(body, model, version, spec)
        except _Bad as bad:
            return _error(400, "INVALID_ARGUMENT", str(bad))
        call.fault = fault
        (self.calls if record is None else record).append(call)
        return 200, self._content(call, spec, fault)

    def _content(self, call: Call, spec: dict, fault: str | None) -> dict:
        usage = self.usage(call, spec)
        if fault == "blocked":
            return {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": usage}
        if fault == "image_safety":
            return {"candidates": [{"content": {"role": "model", "parts": [
                {"text": "I can't create that image."}]}, "finishReason": "IMAGE_SAFETY", "index": 0}],
                "usageMetadata": usage}
        if fault and fault.startswith("finish:"):
            return _candidate([{"text": "I stopped here."}], usage, call.model, finish=fault.split(":", 1)[1])
        parts: list[dict] = []
        if spec.get("thinks"):
            parts.append({"text": "Planning the composition...", "thought": True})
        if not spec["image"]:
            parts.append({"text": f"A picture prompt from {len(call.images)} image(s): {call.prompt[:60]}"})
            return _candidate(parts, usage, call.model, finish="MAX_TOKENS" if fault == "cut_short" else "STOP")
        parts.append({"text": "Here is your image." if fault != "text_only" else "I'd rather describe it: a cat."})
        if fault != "text_only":
            size = (640, 480) if fault == "wrong_size" else self.pixel_size(call)
            key = "mimeType" if self.style == "rest" else "mime_type"
            encode = base64.b64encode if self.style == "rest" else base64.urlsafe_b64encode
            parts.append({"inlineData": {key: "image/png", "data": encode(_png(size, call.prompt)).decode()},
                          **({"thoughtSignature": base64.b64encode(b"sig").decode()} if spec.get("thinks") else {})})
        answer = _candidate(parts, usage, call.model, finish="MAX_TOKENS" if fault == "cut_short" else "STOP")
        if call.search:
            answer["candidates"][0]["groundingMetadata"] = _grounding(call)
        return answer

    @staticmethod
    def usage(call: Call, spec: dict) -> dict:
        """usageMetadata as Google reports it: image output tokens by size, a few text tokens, thinking tokens
        on models that think, input images at a fixed count each."""
        size = call.config.get("imageConfig", {}).get("imageSize", "1K")
        legacy = call.model == "gemini-2.5-flash-image"
        image_tokens = 1290 if legacy else IMAGE_TOKENS[size] if spec["image"] else 0
        prompt = PROMPT_TOKENS + (258 if legacy else INPUT_IMAGE_TOKENS) * len(call.images)
        thoughts = THOUGHT_TOKENS if spec.get("thinks") or not spec["image"] else 0
        details = [{"modality": "TEXT", "tokenCount": TEXT_TOKENS}]
        if image_tokens:
            details.append({"modality": "IMAGE", "tokenCount": image_tokens})
        return {"promptTokenCount": prompt, "candidatesTokenCount": TEXT_TOKENS + image_tokens,
                "candidatesTokensDetails": details, **({"thoughtsTokenCount": thoughts} if thoughts else {}),
                "totalTokenCount": prompt + TEXT_TOKENS + image_tokens + thoughts}

    @staticmethod
    def pixel_size(call: Call) -> tuple[int, int]:
        image_config = call.config.get("imageConfig", {})
        ratio = image_config.get("aspectRatio") or (nearest_ratio(*call.images[0]) if call.images else "1:1")
        return lookup(call.model).pixel_size(ratio, image_config.get("imageSize", "1K"))


class _Bad(Exception):
    pass


def _parse(body: dict, model: str, version: str, spec: dict) -> Call:
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise _Bad("* GenerateContentRequest.contents: contents is not specified")
    texts, images, mime_types = [], [], []
    for content in contents:
        for part in content.get("parts", []):
            if "text" in part:
                texts.append(part["text"])
            blob = part.get("inlineData") or part.get("inline_data")
            if blob is not None:
                mime = blob.get("mimeType") or blob.get("mime_type")
                if mime not in ("image/png", "image/jpeg", "image/webp"):
                    raise _Bad(f"Unsupported MIME type: {mime}")
                images.append(_decode_image(blob.get("data", ""), mime))
                mime_types.append(mime)
    if len(images) > spec["max_images"]:
        raise _Bad(f"{model} accepts at most {spec['max_images']} images, got {len(images)}")
    config = body.get("generationConfig", {})
    image_config = config.get("imageConfig")
    if spec["image"]:
        if "IMAGE" not in config.get("responseModalities", []):
            raise _Bad("responseModalities must include IMAGE for an image model")
        image_config = image_config or {}
        ratio, size = image_config.get("aspectRatio"), image_config.get("imageSize")
        if ratio is not None and ratio not in spec["ratios"]:
            raise _Bad(f"Unsupported aspect ratio {ratio} for {model}")
        if size is not None and size not in spec["sizes"]:
            raise _Bad(f"Unsupported image size {size} for {model}")
    elif image_config is not None:
        raise _Bad(f"imageConfig is not supported by {model}")
    level = _get(_get(config, "thinkingConfig") or {}, "thinkingLevel")
    if level is not None and level not in spec.get("levels", ()):
        raise _Bad(f"Thinking level {level} is not supported for {model}.")
    kinds = set()
    for tool in body.get("tools", []):
        search = _get(tool, "googleSearch")
        if search is None:
            raise _Bad(f"Unsupported tool {sorted(tool)} for {model}.")
        types = _get(search, "searchTypes") or {"webSearch": {}}
        kinds |= {"image" if _get(types, "imageSearch") is not None else "web"} | (
            {"web"} if _get(types, "webSearch") is not None else set())
    if not kinds <= spec.get("search", set()):
        raise _Bad(f"Search as tool ({', '.join(sorted(kinds))}) is not enabled for {model}.")
    system = " ".join(p.get("text", "") for p in (body.get("systemInstruction") or {}).get("parts", []))
    return Call(model=model, version=version, prompt="\n".join(texts), images=images, config=config, system=system,
                search=kinds, mime_types=mime_types)


def _get(message: dict, name: str):
    """A field by its JSON name or its proto name, as Google's parser accepts both (the SDK sends
    thinkingConfig's and googleSearch's fields as thinking_level, search_types, web_search...)."""
    snake = re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)
    return message.get(name, message.get(snake))


def _decode_image(data: str, mime: str) -> tuple[int, int]:
    """Accept both base64 alphabets, as Google does; the bytes must be a real image of the type declared."""
    try:
        raw = base64.b64decode(data.replace("-", "+").replace("_", "/") + "=" * (-len(data) % 4), validate=True)
        with Image.open(io.BytesIO(raw)) as image:
            image.load()
            found = Image.MIME.get(image.format)
    except (binascii.Error, OSError, ValueError) as exc:
        raise _Bad(f"Unable to process input image: {exc}") from None
    if found != mime:
        raise _Bad(f"Unable to process input image: declared {mime}, but the data is {found}")
    return image.size


def _png(size: tuple[int, int], prompt: str) -> bytes:
    return _solid_png(size, _PALETTE[hashlib.sha256(prompt.encode()).digest()[0] % len(_PALETTE)])


_PALETTE = [(200, 40, 40), (40, 160, 60), (40, 80, 200), (220, 180, 30), (140, 60, 170), (30, 170, 170)]


@functools.lru_cache(maxsize=64)
def _solid_png(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    """A picture in one of a few colours, encoded once per size and colour (the fake must not be the bottleneck)."""
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _grounding(call: Call) -> dict:
    """groundingMetadata as Google sends it for a searched answer: the queries run and the pages used."""
    topic = call.prompt.split(".")[0][:40]
    chunks = [{"web": {"uri": "https://example.org/weather-today", "title": "Weather today",
                       "domain": "example.org"}},
              {"web": {"uri": "https://example.com/landmarks", "title": "example.com"}}]
    metadata = {"webSearchQueries": [f"{topic} today"], "groundingChunks": chunks,
                "searchEntryPoint": {"renderedContent": "<div>search chips</div>"}}
    if "image" in call.search:
        metadata["imageSearchQueries"] = [f"{topic} photo"]
        chunks.append({"image": {"sourceUri": "https://images.example.net/page", "imageUri":
                                 "https://images.example.net/a.jpg", "title": "A reference photo"}})
    return metadata


def _candidate(parts: list[dict], usage: dict, model: str, finish: str = "STOP") -> dict:
    return {"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": finish, "index": 0}],
            "usageMetadata": usage, "modelVersion": model, "responseId": "fake-1"}


def _error(code: int, status: str, message: str, details: list | None = None):
    error = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return code, {"error": error}


def _fault_answer(fault: str, headers: dict, retry_delay: str):
    if fault in QUOTA_FAULTS:
        quota_id, metric, value, more = QUOTA_FAULTS[fault]
        return _error(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan and billing "
                                                 "details." + more, [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
             "violations": [{"quotaMetric": f"generativelanguage.googleapis.com/{metric}", "quotaId": quota_id,
                             "quotaValue": value}]},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay}])
    if fault == "503":
        return _error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
    if fault == "500":
        return _error(500, "INTERNAL", "An internal error has occurred.")
    if fault == "echo_key":
        return _error(400, "INVALID_ARGUMENT", f"Request from {headers.get('x-goog-api-key')} has a bad field.")
    return 200, b'{"candidates": [{"content": {"parts": [{"text": "trunc'


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver listens with a backlog of 5: 64 clients connecting at once overflow it, the kernel drops their
    # SYNs and they retry after 1, 3, 7 s, which a throughput measurement then blames on the client
    request_queue_size = 1024


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.fake.ports.append(self.client_address[1])
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, body, extra = self.server.fake.handle(self.command, self.path, headers, raw)
        try:
            self.send_response(status)
            for name, value in {"Content-Type": "application/json; charset=UTF-8", **extra}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    do_GET = do_DELETE = do_POST

    def log_message(self, *args):
        pass


if __name__ == "__main__":  # a server of its own, e.g. for bench/: prints its URL, serves until killed
    import argparse
    parser = argparse.ArgumentParser(description="Serve the fake Gemini API on 127.0.0.1.")
    parser.add_argument("--latency", type=float, default=0.0)
    fake = FakeGemini(latency=parser.parse_args().latency).start()
    print(fake.url, flush=True)
    threading.Event().wait()
