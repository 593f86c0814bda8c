"""`flowbanana models`: the model table as people and programs read it, and which ids a key can use.

Without a key it prints the table. With one, it asks the API (`client.models.list`) and marks each
id this key can use, and lists the image model ids the API serves that the table does not know.
"""
from __future__ import annotations

from .keys import find_key, scrub, uses_vertex
from .models import DEFAULT_IMAGE_MODEL, DEFAULT_TEXT_MODEL, MODELS, Model


def served_ids() -> set[str]:
    """Every model id the API lists for the key in the environment (the SDK pages through them)."""
    from google import genai
    from google.genai import types
    options = types.HttpOptions(api_version="v1beta") if not uses_vertex() else None
    client = genai.Client(api_key=None if uses_vertex() else find_key(), http_options=options)
    try:
        return {m.name.split("/")[-1] for m in client.models.list(config={"page_size": 100}) if m.name}
    finally:
        client.close()


def rows(served: set[str] | None) -> list[dict]:
    """One row per model in the table; with `served`, whether this key can use it."""
    return [{"id": m.id, "name": m.name, "kind": "image" if m.image else "text", "aliases": list(m.aliases),
             "status": m.status, "shutdown": m.shutdown or None, "successor": m.successor or None,
             "sizes": list(m.sizes) if m.image else [], "ratios": list(m.aspect_ratios) if m.image else [],
             "references": m.max_references if m.image else None, "thinking": list(m.thinking),
             "grounding": list(m.grounding), "price_per_image": dict(m.price_per_image),
             "price_per_mtok": {"input": m.price_per_mtok[0], "output": m.price_per_mtok[1]},
             "prices_read": m.prices_read or None, "default": m.id in (DEFAULT_IMAGE_MODEL, DEFAULT_TEXT_MODEL),
             **({} if served is None else {"usable": m.id in served})} for m in MODELS.values()]


def report(served: set[str] | None) -> dict:
    """The JSON `flowbanana models --json` prints."""
    data = {"models": rows(served)}
    if served is not None:
        known = set(MODELS) | {a for m in MODELS.values() for a in m.aliases}
        data["unknown"] = sorted(i for i in served if i not in known and ("image" in i or "banana" in i))
    return data


def text(served: set[str] | None) -> str:
    """The table for people: one block per model."""
    lines = []
    for m in MODELS.values():
        mark = "" if served is None else ("  [usable with this key]" if m.id in served else "  [not listed for this key]")
        head = f"{m.name}  {m.id}" + (f"  (alias {', '.join(m.aliases)})" if m.aliases else "")
        lines.append(head + ("  default" if m.id in (DEFAULT_IMAGE_MODEL, DEFAULT_TEXT_MODEL) else "") + mark)
        lines.append(f"    {_status(m)}")
        if m.status != "retired":
            lines.append(f"    {_capabilities(m)}")
            lines.append(f"    {_prices(m)}")
    if served is not None:
        unknown = report(served)["unknown"]
        lines.append("Served for this key but not in flowbanana's table (sent as typed, unchecked): "
                     + (", ".join(unknown) if unknown else "none"))
    return "\n".join(lines)


def _status(m: Model) -> str:
    if m.status == "retired":
        return f"retired: shut down {m.shutdown}; a workflow naming it runs on {m.successor}"
    if m.status == "deprecated":
        when = f", shutdown announced for {m.shutdown}" if m.shutdown else ""
        return f"deprecated{when}; successor {m.successor}"
    return "live" + (f", shutdown announced for {m.shutdown}" if m.shutdown else "")


def _capabilities(m: Model) -> str:
    if not m.image:
        return "text model (gemini.describe, gemini.prompt)"
    return (f"sizes {', '.join(m.sizes)}; ratios {', '.join(m.aspect_ratios)}; up to {m.max_references} reference "
            f"images; thinking {', '.join(m.thinking) or 'not settable'}; search "
            f"{' and '.join(m.grounding) or 'none'}")


def _prices(m: Model) -> str:
    per_image = ", ".join(f"{size} ${price:.3f}" for size, price in m.price_per_image.items())
    tokens = f"${m.price_per_mtok[0]:.2f} in / ${m.price_per_mtok[1]:.2f} out per million tokens"
    return (f"price per image {per_image}; " if per_image else "price ") + tokens + \
        (f" (read {m.prices_read})" if m.prices_read else "")


def describe_failure(exc: Exception) -> str:
    """Why the API could not be asked, without the key."""
    return scrub(f"{type(exc).__name__}: {exc}", find_key())[:300]
