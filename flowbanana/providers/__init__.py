"""Image and text model providers: Gemini through google-genai, and the offline preview stand-in.

Node packs reach the run's provider as `ctx.resources["provider"]` and call
`await provider.generate(Request(...), ctx.resources["limiter"])`.
"""
from .base import Answer, Provider, ProviderUnavailable, Refusal, Request, Stats
from .config import ConfigError, Settings, load_settings
from .gemini import GeminiProvider
from .models import (ALL_RATIOS, ALL_SIZES, DEFAULT_IMAGE_MODEL, DEFAULT_TEXT_MODEL, IMAGE_MODELS, MODELS, SEARCH,
                     TEXT_MODELS, THINKING, Model, lookup, nearest_ratio, resolve, sent_id)
from .offline import LABEL as OFFLINE_LABEL, OfflineProvider
from .setup import RunSetup, make_provider, prepare_run

__all__ = ["Answer", "Provider", "ProviderUnavailable", "Refusal", "Request", "Stats", "ConfigError", "Settings",
           "load_settings", "GeminiProvider", "OfflineProvider", "OFFLINE_LABEL", "RunSetup", "make_provider",
           "prepare_run", "Model", "MODELS", "lookup", "resolve", "sent_id", "nearest_ratio", "ALL_RATIOS", "ALL_SIZES",
           "DEFAULT_IMAGE_MODEL", "DEFAULT_TEXT_MODEL", "IMAGE_MODELS", "TEXT_MODELS", "SEARCH", "THINKING"]
