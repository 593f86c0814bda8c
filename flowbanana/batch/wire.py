"""A model call as the Batch API takes it, and its outcome back as the node would have had it directly.

A call's key hashes everything sent (model, prompt, images' pixels, ratio, size, seed, temperature, system
instruction, and whatever fields `Request` gains), so the same call made by any run finds the same batch
result. The request itself is built by the provider's own `_payload`, so a batched call carries exactly
what a direct call would; an outcome is read back through the provider's own answer and error handling, so a
refusal or a rejected request says what it would have said directly.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any

from ..cache import node_key, value_digest
from ..node_api import NodeError
from ..providers.base import Answer, Request
from ..providers.gemini import GeminiProvider, _payload
from ..providers.models import BATCH_PRICE_FACTOR

NOT_SENT = ("caption", "origin")  # Request fields that only flowbanana reads
_TOP_LEVEL = ("tools", "toolConfig", "safetySettings", "cachedContent")  # REST keeps these out of generationConfig
# google.rpc codes in a batch item's error, as the HTTP status and name a direct call would have had
_GRPC = {1: (499, "CANCELLED"), 3: (400, "INVALID_ARGUMENT"), 4: (504, "DEADLINE_EXCEEDED"), 5: (404, "NOT_FOUND"),
         7: (403, "PERMISSION_DENIED"), 8: (429, "RESOURCE_EXHAUSTED"), 13: (500, "INTERNAL"),
         14: (503, "UNAVAILABLE"), 16: (401, "UNAUTHENTICATED")}


def request_key(request: Request) -> str:
    """The same for two calls exactly when they send the same thing."""
    parts: dict[str, Any] = {}
    for f in dataclasses.fields(request):
        if f.name not in NOT_SENT:
            value = getattr(request, f.name)
            parts[f.name] = [value_digest(image) for image in value] if f.name == "images" else value
    return node_key({"batch request": parts})


def jsonl_line(key: str, request: Request) -> str:
    """The call as a line of a JSONL input file: `{"key", "request"}`, the request in generateContent's REST form,
    made from the provider's own SDK payload (so that it carries exactly what a direct call would)."""
    from google.genai import types
    contents, config = _payload(request)
    parts = [types.Part(text=c) if isinstance(c, str) else c for c in contents]
    body: dict[str, Any] = {"contents": [_json(types.Content(role="user", parts=parts))]}
    generation = _json(config)
    system = generation.pop("systemInstruction", None)
    if system:  # the SDK takes a bare string where REST wants a Content
        body["systemInstruction"] = {"role": "user", "parts": [{"text": system}]} if isinstance(system, str) else system
    for name in _TOP_LEVEL:
        if name in generation:
            body[name] = generation.pop(name)
    body["generationConfig"] = generation
    return json.dumps({"key": key, "request": body}, separators=(",", ":"))


def inlined(line: str):
    """A JSONL line as the SDK's InlinedRequest, for a job small enough to send inline."""
    from google.genai import types
    row = json.loads(line)
    body = row["request"]
    config = {**body.get("generationConfig", {}),
              **{name: body[name] for name in ("systemInstruction", *_TOP_LEVEL) if name in body}}
    return types.InlinedRequest.model_validate_json(json.dumps(  # JSON mode: base64 data back to bytes
        {"contents": body["contents"], "config": config, "metadata": {"key": row["key"]}}))


def outcome_of_inlined(response) -> dict:
    """An SDK InlinedResponse as stored: {"response": REST JSON} or {"error": status}."""
    if response.error is not None:
        return {"error": _json(response.error)}
    if response.response is None:
        return {"error": {"code": 13, "message": "the batch job returned no answer for this request"}}
    return {"response": _json(response.response)}


def answer_from(outcome: dict, request: Request, gemini: GeminiProvider) -> Answer:
    """The Answer a direct call would have given, at the batch price; or the NodeError it would have raised."""
    from google.genai import errors, types
    if "error" in outcome:
        error = outcome["error"]
        if "job" in error:  # the whole job ended without answers
            raise NodeError(f"{error['message']}.", "Run again with --batch to submit the call again, or without "
                                                   "--batch to call Gemini directly.")
        code, status = _GRPC.get(error.get("code"), (500, error.get("status") or "UNKNOWN"))
        failure = gemini._api_failure(errors.APIError(code, {"error": {
            "code": code, "status": status, "message": error.get("message") or ""}}), request)
        again = "Running again with --batch submits it again."
        raise NodeError(failure.message, f"{failure.hint} {again}" if failure.hint else again)
    response = types.GenerateContentResponse.model_validate_json(json.dumps(outcome["response"]))
    answer = gemini._answer(response, request, retries=0)
    if answer.cost_usd is not None:
        answer.cost_usd *= BATCH_PRICE_FACTOR
    return answer


def _json(model) -> dict:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)
