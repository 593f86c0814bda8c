"""What an operator decides about a server: where things live, who may connect, and how much it accepts."""
from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from ..cache import default_cache_dir
from ..limits import MAX_PIXELS, RunLimits

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_PORT = 8188


@dataclass
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    workflows_dir: Path = Path("workflows")
    runs_dir: Path = Path("runs")
    input_dirs: tuple[Path, ...] = ()          # readable by HTTP-submitted workflows, besides workflows_dir
    nodes_dirs: tuple[Path, ...] = ()          # extra node pack folders, as --nodes-dir
    cache_dir: Path | None = field(default_factory=default_cache_dir)  # None: no cache at all
    token: str | None = None                   # required on every request when set
    max_runs: int = 2                          # runs executing at once; the rest wait in the queue
    max_queued: int = 1000                     # runs waiting or running before new ones are turned away
    max_body_bytes: int = 2 * 1024 * 1024      # JSON request bodies
    max_upload_bytes: int = 32 * 1024 * 1024   # image uploads and anything that is not /api JSON
    max_json_depth: int = 32                   # nesting of arrays and objects in a request body
    max_image_pixels: int = MAX_PIXELS         # per image read or made (Pillow's bomb guard: ~89M warns, 2x fails)
    max_run_image_bytes: int = 2 << 30         # images one run holds at once; a run needing more fails, clearly
    allowed_origins: tuple[str, ...] = ()      # extra origins (scheme://host:port) allowed to call the API

    @property
    def loopback(self) -> bool:
        """Bound only to this machine's own 127.0.0.1/::1, so nobody else can connect.

        Other 127.x addresses count as shared on purpose: they are what tests use to stand in for a LAN bind.
        """
        return self.host in LOOPBACK_NAMES

    @property
    def token_required(self) -> bool:
        return not self.loopback

    def with_token(self) -> "ServerSettings":
        """Settings that carry a token whenever one is required: the given one, or a new random one."""
        if self.token_required and not self.token:
            self.token = secrets.token_urlsafe(24)
        return self

    @property
    def read_roots(self) -> tuple[Path, ...]:
        """Where a workflow submitted over HTTP may read: the workflows folder, the input folders, uploads."""
        return tuple(dict.fromkeys(p.resolve() for p in (self.workflows_dir, *self.input_dirs, self.uploads_dir)))

    @property
    def run_limits(self) -> RunLimits:
        """What each run may hold: the pixels per image of uploads, and a bound on its image memory."""
        return RunLimits(max_pixels=self.max_image_pixels, max_image_bytes=self.max_run_image_bytes)

    @property
    def named_folders(self) -> dict[str, Path]:
        """The server's folders by the names its answers give them instead of their paths: workflows, uploads,
        runs, cache, and each input folder by its own name (numbered when two names meet)."""
        names = {"workflows": self.workflows_dir, "uploads": self.uploads_dir, "runs": self.runs_dir}
        if self.cache_dir:
            names["cache"] = self.cache_dir
        for folder in self.input_dirs:
            name = stem = folder.resolve().name or "inputs"
            number = 1
            while name in names:
                number += 1
                name = f"{stem}-{number}"
            names[name] = folder
        return names

    @property
    def uploads_dir(self) -> Path:
        return self.runs_dir / "_uploads"

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if _is_ipv6(self.host) else self.host
        return f"http://{host}:{self.port}"


def _is_ipv6(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).version == 6
    except ValueError:
        return False
