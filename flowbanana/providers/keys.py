"""Where the API key comes from, and the one rule about it: it is never written or shown anywhere."""
from __future__ import annotations

import os

from ..words import CLI, Words

KEY_VARIABLES = ("GOOGLE_API_KEY", "GEMINI_API_KEY", "NANO_BANANA_API_KEY")  # the SDK's order, then our alias


def how_to_set(words: Words = CLI) -> str:
    """How to give flowbanana a key (or do without one), in the front end's `words`."""
    return ("Set an API key from https://aistudio.google.com/apikey in the environment: "
            "export GEMINI_API_KEY=... (GOOGLE_API_KEY and NANO_BANANA_API_KEY work too), or use Vertex AI "
            "with GOOGLE_GENAI_USE_VERTEXAI=true, GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION. "
            f"Or run without a key: {words.choose_provider('offline')}.")


def find_key() -> str | None:
    """The API key the SDK would use (blank values ignored), so that it can be blotted out wherever text goes."""
    for name in KEY_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def uses_vertex() -> bool:
    """Whether the SDK is told to use Vertex AI, which needs no API key (credentials come from gcloud)."""
    return any(os.environ.get(name, "").lower() in ("true", "1")
               for name in ("GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GENAI_USE_ENTERPRISE"))


def has_credentials() -> bool:
    """A key, or Vertex AI configured through the SDK's environment variables."""
    return bool(find_key()) or (uses_vertex() and bool(os.environ.get("GOOGLE_CLOUD_PROJECT")))


def scrub(text: str, key: str | None) -> str:
    """`text` with the key (if any) blotted out: for anything that reaches a person, a log or a file."""
    return text.replace(key, "[redacted]") if key and len(key) >= 4 else text
