"""Workflows and run records inside the images they make, so a picture can be traced, reopened and re-run.

PNG carries them in text chunks (`flowbanana.workflow`, `flowbanana.run`); JPEG and WebP in the
EXIF ImageDescription as one JSON object (within the 64 KB a JPEG segment allows: a workflow too
large for it is left out and the record says so). Only listed, harmless fields of node records are
written, and anything shaped like an API key is blanked as a last line of defence.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from PIL import Image, PngImagePlugin

from . import __version__, jsontext
from .providers import keys

PNG_WORKFLOW, PNG_RUN = "flowbanana.workflow", "flowbanana.run"
EXIF_DESCRIPTION, EXIF_SOFTWARE = 0x010E, 0x0131
EXIF_LIMIT = 60_000
RECORD_FIELDS = {"provider", "model", "seed", "finish_reason", "usage", "cost", "retries", "seconds",
                 "aspect_ratio", "size", "temperature", "model_version", "prompt", "instruction", "thinking", "search",
                 "sources", "searches"}
_KEY_SHAPES = re.compile(r"AIza[0-9A-Za-z_-]{20,}|ya29\.[0-9A-Za-z_.-]{20,}")


def run_record(node_id: str, lineage: list[dict], **extra: Any) -> dict:
    """The record of how an image was made: the saving node and what each upstream step recorded."""
    steps = [{"node": step["node"], "type": step["type"],
              **{k: v for k, v in step["meta"].items() if k in RECORD_FIELDS}} for step in lineage]
    providers = sorted({s["provider"] for s in steps if s.get("provider")})
    return scrub({"flowbanana": __version__, "node": node_id, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                  "providers": providers, "steps": [s for s in steps if len(s) > 2], **extra})


def scrub(value: Any) -> Any:
    """`value` with anything shaped like a key, and the key set in this environment whatever its shape, blanked."""
    if isinstance(value, str):
        return keys.scrub(_KEY_SHAPES.sub("[redacted]", value), keys.find_key())
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def save_options(image_format: str, workflow: dict | None, record: dict) -> dict[str, Any]:
    """Keyword arguments for `Image.save` that embed the workflow and the record in that format."""
    workflow = scrub(workflow) if workflow else None
    if image_format.upper() == "PNG":
        info = PngImagePlugin.PngInfo()
        if workflow:
            info.add_itxt(PNG_WORKFLOW, json.dumps(workflow, sort_keys=True), zip=True)
        info.add_itxt(PNG_RUN, json.dumps(record, sort_keys=True), zip=True)
        return {"pnginfo": info}
    payload = {"workflow": workflow, "run": record}
    text = json.dumps(payload, sort_keys=True)
    if len(text) > EXIF_LIMIT:
        payload = {"workflow": None, "run": {**record, "workflow_omitted": "too large for this format's metadata; "
                                                                          "save as PNG to embed it"}}
        text = json.dumps(payload, sort_keys=True)
    exif = Image.Exif()
    exif[EXIF_DESCRIPTION] = text
    exif[EXIF_SOFTWARE] = f"flowbanana {__version__}"
    return {"exif": exif.tobytes()}


class BadMetadata(ValueError):
    """An image whose flowbanana metadata cannot be read or trusted; the message says why, for people."""


def read(path: str | Path) -> tuple[dict | None, dict | None]:
    """The (workflow, run record) embedded in an image file; (None, None) when it has none.

    Raises BadMetadata for a file that is not a readable image, metadata over Pillow's limits, or
    metadata of the wrong shape, so that no caller walks a list where it expects an object.
    """
    try:
        with Image.open(path) as image:
            info = image.info  # text chunks before the pixels, as flowbanana writes them: read without decoding
            if PNG_RUN not in info and PNG_WORKFLOW not in info:
                info = getattr(image, "text", None) or {}  # a PNG's text may follow its pixels: decodes them all
            if PNG_RUN in info or PNG_WORKFLOW in info:
                workflow, record = _json(info.get(PNG_WORKFLOW)), _json(info.get(PNG_RUN))
            else:
                payload = _json(image.getexif().get(EXIF_DESCRIPTION), quiet=True)
                if not isinstance(payload, dict) or not ("run" in payload or "workflow" in payload):
                    return None, None
                workflow, record = payload.get("workflow"), payload.get("run")
    except BadMetadata:  # said already (it is a ValueError too, but not Pillow's)
        raise
    except Image.DecompressionBombError:
        raise BadMetadata("it claims more pixels than an image flowbanana writes; refused as a possible "
                          "decompression bomb") from None
    except ValueError as exc:  # Pillow: a text chunk over its size limit
        raise BadMetadata(f"its metadata is too large to read safely ({exc})") from None
    except (OSError, SyntaxError) as exc:  # not an image, damaged, missing
        raise BadMetadata(getattr(exc, "strerror", None) or str(exc)) from None
    return _checked(workflow, "workflow"), _checked_record(_checked(record, "run record"))


def _json(text: Any, quiet: bool = False) -> Any:
    """Parsed metadata text; BadMetadata when it is not JSON (None for EXIF text that is simply not ours)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not text:
        return None
    try:
        return jsontext.loads(text)
    except ValueError as exc:
        if quiet:
            return None
        raise BadMetadata(f"its flowbanana metadata is not readable JSON ({exc})") from None


def _checked(value: Any, what: str) -> dict | None:
    if value is not None and not isinstance(value, dict):
        raise BadMetadata(f"its embedded {what} is {_kind(value)}, not an object")
    return value


def _checked_record(record: dict | None) -> dict | None:
    """A run record whose steps and providers can be listed: anything else is not one flowbanana wrote."""
    if record is None:
        return None
    steps, providers = record.get("steps", []), record.get("providers", [])
    if not isinstance(steps, list) or not all(
            isinstance(s, dict) and isinstance(s.get("node"), str) and isinstance(s.get("type"), str) for s in steps):
        raise BadMetadata("its run record's \"steps\" is not a list of steps, each with a node and a type")
    if not isinstance(providers, list) or not all(isinstance(p, str) for p in providers):
        raise BadMetadata("its run record's \"providers\" is not a list of names")
    return record


def _kind(value: Any) -> str:
    return {list: "a list", str: "text", bool: "true or false", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__)
