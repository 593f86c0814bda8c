"""Provider settings: defaults that suit the free tier, a config file, then command-line flags, in that order.

The file is TOML, found at --config, $FLOWBANANA_CONFIG, ./flowbanana.toml or
~/.config/flowbanana/config.toml (the first that exists). It has no place for an API key.

    provider = "auto"          # auto | gemini | offline
    concurrency = 4            # model requests in flight at once
    rpm = 10                   # requests per minute per model (0: no limit)
    timeout_seconds = 180      # per request
    max_attempts = 5           # per call, retries included
    [rpm_per_model]
    "gemini-3-pro-image" = 5
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

PROVIDERS = ("auto", "gemini", "offline")


class ConfigError(Exception):
    """A config file that cannot be used; the message names the file and the fix."""


@dataclass(frozen=True)
class Settings:
    provider: str = "auto"
    concurrency: int = 4
    rpm: int = 10
    timeout_seconds: float = 180.0
    max_attempts: int = 5
    rpm_per_model: dict[str, int] = field(default_factory=dict)
    source: Path | None = None

    def rpm_table(self) -> dict[str, int]:
        """What CallLimiter takes: a default for every model, overridden per model."""
        return {"*": self.rpm, **self.rpm_per_model}


def config_path(explicit: str | Path | None = None) -> Path | None:
    """The settings file in force: --config, $FLOWBANANA_CONFIG, ./flowbanana.toml, then the user's; None if none."""
    if explicit:
        return Path(explicit)
    if os.environ.get("FLOWBANANA_CONFIG"):
        return Path(os.environ["FLOWBANANA_CONFIG"])
    home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return next((p for p in (Path("flowbanana.toml"), home / "flowbanana" / "config.toml") if p.is_file()), None)


def load_settings(path: str | Path | None = None, **overrides) -> Settings:
    """Settings from the config file (if any), with non-None `overrides` (the CLI flags) on top."""
    settings = Settings()
    found = config_path(path)
    if found is not None:
        settings = _from_file(found)
    settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
    _check(settings)
    return settings


def _from_file(path: Path) -> Settings:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no config file at {path}.") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc}.") from None
    allowed = {f.name for f in fields(Settings)} - {"source"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        note = " API keys belong in the environment (GEMINI_API_KEY), never in a file." if any(
            "key" in k.lower() for k in unknown) else ""
        raise ConfigError(f"config file {path}: unknown setting {', '.join(map(repr, unknown))}; allowed: "
                          f"{', '.join(sorted(allowed))}.{note}")
    try:
        return Settings(**data, source=path)
    except TypeError as exc:
        raise ConfigError(f"config file {path}: {exc}.") from None


def _check(settings: Settings) -> None:
    where = f"config file {settings.source}" if settings.source else "settings"
    if settings.provider not in PROVIDERS:
        raise ConfigError(f"{where}: provider {settings.provider!r} is not one of {', '.join(PROVIDERS)}.")
    if not isinstance(settings.rpm_per_model, dict):
        raise ConfigError(f"{where}: [rpm_per_model] must be a table of model id = requests per minute.")
    numbers = {"concurrency": (settings.concurrency, 1), "rpm": (settings.rpm, 0),
               "timeout_seconds": (settings.timeout_seconds, 0.001), "max_attempts": (settings.max_attempts, 1),
               **{f"rpm_per_model.{k}": (v, 0) for k, v in dict(settings.rpm_per_model).items()}}
    for name, (value, low) in numbers.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low:
            raise ConfigError(f"{where}: {name} must be a number of at least {low:g}, got {value!r}.")
