"""The server's front door, as one ASGI middleware around the whole app (API, docs and editor alike).

In order: the Host must name this machine when bound to loopback (DNS rebinding); a browser's
Origin must be the server's own (cross-site requests); the token must match when one is set
(bearer header, `?token=` once, then a cookie); /api bodies must be JSON (or an image for uploads),
no bigger than the limits and no deeper than the nesting limit.
"""
from __future__ import annotations

import hmac
import json
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import Headers
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..jsontext import json_depth
from .settings import LOOPBACK_NAMES, ServerSettings

COOKIE = "flowbanana_token"
UPLOAD_PATH = "/api/uploads"
UPLOAD_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")
# no framing by other sites (clickjacking), no content sniffing, and no ?token= leaking through Referer
SAFE_HEADERS = ((b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
                (b"referrer-policy", b"no-referrer"))


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, settings: ServerSettings):
        self.app = app
        self.settings = settings
        self.upload_limited = RequestBodyLimitMiddleware(app, settings.max_upload_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        refusal = self._refusal(scope, headers)
        if refusal:
            return await _refuse(scope, receive, send, *refusal)
        if scope["type"] == "websocket":
            return await self.app(scope, receive, send)
        extra = list(SAFE_HEADERS)
        if self._query_token(scope):  # a browser that came with ?token= keeps it as a cookie
            extra.append((b"set-cookie", f"{COOKIE}={self.settings.token}; Path=/; HttpOnly; SameSite=Strict".encode()))
        send = _with_headers(send, extra)
        path = scope["path"]
        if not path.startswith("/api/") or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            return await self.upload_limited(scope, receive, send)
        return await self._api_body(scope, receive, send, headers)

    def _refusal(self, scope: Scope, headers: Headers) -> tuple[int, str, dict] | None:
        host = headers.get("host")
        if self.settings.loopback and _hostname(host) not in LOOPBACK_NAMES:
            return 400, f"Host {host!r} is not this server; open it as http://127.0.0.1:{self.settings.port}/.", {}
        origin = headers.get("origin")
        if origin is not None and not self._same_origin(origin, host, scope):
            return 403, f"requests from {origin} are not allowed (cross-site).", {}
        token = self.settings.token
        if token and not hmac.compare_digest(self._presented_token(scope, headers).encode(), token.encode()):
            return 401, "a token is required: send 'Authorization: Bearer TOKEN' (printed when the server started).", \
                {"www-authenticate": "Bearer"}
        return None

    def _same_origin(self, origin: str, host: str | None, scope: Scope) -> bool:
        if origin in self.settings.allowed_origins:
            return True
        parts = urlsplit(origin)
        scheme = {"ws": "http", "wss": "https"}.get(scope.get("scheme", "http"), scope.get("scheme", "http"))
        return bool(host) and parts.scheme == scheme and parts.netloc.lower() == host.lower()

    def _presented_token(self, scope: Scope, headers: Headers) -> str:
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        query = self._query_token(scope)
        if query:
            return query
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed cookie header is just no token
            return ""
        return cookie[COOKIE].value if COOKIE in cookie else ""

    def _query_token(self, scope: Scope) -> str:
        if not self.settings.token:
            return ""
        values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
        return values[-1] if values else ""

    async def _api_body(self, scope: Scope, receive: Receive, send: Send, headers: Headers) -> None:
        """Read the whole (bounded) body, check its type, size and depth, then hand it on."""
        upload = scope["path"] == UPLOAD_PATH
        limit = self.settings.max_upload_bytes if upload else self.settings.max_body_bytes
        length = headers.get("content-length")
        if length and (not length.isdigit() or int(length) > limit):
            return await _refuse(scope, receive, send, 413, f"the request body is larger than {limit} bytes.")
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > limit:
                return await _refuse(scope, receive, send, 413, f"the request body is larger than {limit} bytes.")
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        if body or media:
            wanted = UPLOAD_TYPES if upload else ("application/json",)
            if media not in wanted:
                return await _refuse(scope, receive, send, 415, f"send the body as {' or '.join(wanted)}, not "
                                     f"{media or 'untyped data'}.")
            if not upload and json_depth(bytes(body), self.settings.max_json_depth) > self.settings.max_json_depth:
                return await _refuse(scope, receive, send, 400, "the JSON nests deeper than "
                                     f"{self.settings.max_json_depth} levels.")
            if not upload and body and (problem := _json_problem(bytes(body))):
                return await _refuse(scope, receive, send, 400, problem)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _json_problem(body: bytes) -> str | None:
    """Why `body` is not strict JSON (Python's parser would take NaN and Infinity, which no JSON reply can hold)."""
    def refuse(constant: str):
        raise ValueError(f"{constant} is not a JSON value")
    try:
        json.loads(body, parse_constant=refuse)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return f"the body is not valid JSON: {exc}."
    return None


def _hostname(host: str | None) -> str:
    if not host:
        return ""
    if host.startswith("["):
        return host[1:].split("]")[0].lower()
    return host.rsplit(":", 1)[0].lower() if host.count(":") == 1 else host.lower()


def _with_headers(send: Send, headers: list[tuple[bytes, bytes]]) -> Send:
    async def sender(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *headers]}
        await send(message)
    return sender


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, detail: str,
                  extra: dict[str, str] | None = None) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": detail[:120]})
        return
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
