"""When to try a request again, and how long to wait first (the SDK ignores the server's RetryInfo)."""
from __future__ import annotations

import random
import re
from dataclasses import dataclass

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5            # requests per call at most, the first included
    base_delay: float = 2.0      # seconds before the first retry; doubles each time
    max_delay: float = 60.0      # the longest backoff we choose ourselves
    max_server_delay: float = 120.0  # a server asking for a longer wait fails the call instead

    def delay(self, retry: int, server_delay: float | None = None, rng: random.Random = random) -> float:
        """Seconds to wait before retry number `retry` (1-based): the server's RetryInfo, or backoff with jitter."""
        if server_delay is not None:
            return server_delay + rng.uniform(0, min(1.0, 0.1 * server_delay))
        ceiling = min(self.max_delay, self.base_delay * 2 ** (retry - 1))
        return rng.uniform(ceiling / 2, ceiling)


def server_retry_delay(details: object) -> float | None:
    """The `retryDelay` of a google.rpc.RetryInfo in an error body, in seconds, if there is one."""
    error = details.get("error", details) if isinstance(details, dict) else None
    for item in (error or {}).get("details", []) if isinstance(error, dict) else []:
        if isinstance(item, dict) and str(item.get("@type", "")).endswith("google.rpc.RetryInfo"):
            match = _DURATION.match(str(item.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def lasting_quota(details: object, message: str = "") -> str | None:
    """What a 429 says when waiting a minute cannot clear it: "free tier" (a quota of 0: no access at all on
    this key, as for image models without billing) or "per day" (resets at midnight Pacific); else None.

    Read from the google.rpc.QuotaFailure violations (quotaId, quotaMetric, quotaValue) and the message's
    "limit: 0", as the Gemini API sends them.
    """
    error = details.get("error", details) if isinstance(details, dict) else None
    violations = [v for item in (error or {}).get("details", []) if isinstance(error, dict) and isinstance(item, dict)
                  and str(item.get("@type", "")).endswith("google.rpc.QuotaFailure")
                  for v in item.get("violations", []) if isinstance(v, dict)]
    names = " ".join(f"{v.get('quotaId', '')} {v.get('quotaMetric', '')}" for v in violations).lower()
    if _LIMIT_ZERO.search(message) or any(str(v.get("quotaValue", "")) == "0" for v in violations) \
            or "freetier" in names or "free_tier" in names:
        return "free tier"
    if "perday" in names or "per_day" in names:
        return "per day"
    return None


_LIMIT_ZERO = re.compile(r"\blimit: 0\b")
