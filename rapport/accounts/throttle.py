"""Rate limits: API calls per user, and failed sign-ins per username and per address.

Counters live in Django's cache (per process with the default local-memory cache; point
CACHES at a shared cache when several app servers run). A fixed window is enough here: the
aim is to stop scripted guessing and runaway clients, not to meter exactly.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"600/m"`` → (600, 60)."""
    count, _, period = rate.partition("/")
    return int(count), _PERIODS.get(period.strip()[:1] or "m", 60)


def _hit(key: str, window: int) -> tuple[int, float]:
    """Counts one event in the current window; returns (events so far, seconds until the window ends)."""
    now = time.time()
    start = int(now // window) * window
    bucket = f"{key}:{start}"
    if cache.add(bucket, 1, window + 1):
        count = 1
    else:
        try:
            count = cache.incr(bucket)
        except ValueError:  # expired between add and incr
            cache.set(bucket, 1, window + 1)
            count = 1
    return count, start + window - now


class ApiRateThrottle(BaseThrottle):
    """At most ``RAPPORT_API_RATE`` calls per user (answers 429 with Retry-After beyond it)."""

    def allow_request(self, request: HttpRequest) -> bool:
        rate = getattr(settings, "RAPPORT_API_RATE", "")
        if not rate:
            return True
        limit, window = parse_rate(rate)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # The join time too: an id reused after a deleted user starts with a fresh count.
            joined = getattr(user, "date_joined", None)
            ident = f"u{user.pk}:{int(joined.timestamp()) if joined else 0}"
        else:
            ident = self.get_ident(request) or "anonymous"
        count, remaining = _hit(f"rapport:api:{ident}", window)
        self._wait = max(1.0, remaining)
        return count <= limit

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)


def _login_keys(username: str, address: str) -> list[str]:
    name = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:24]  # no usernames in cache keys
    return [f"rapport:login:user:{name}", f"rapport:login:ip:{address}"]


def login_locked_for(username: str, address: str) -> int:
    """Seconds until sign-in attempts are accepted again; 0 when they are accepted now."""
    limits = (getattr(settings, "RAPPORT_LOGIN_MAX_FAILURES", 5), getattr(settings, "RAPPORT_LOGIN_MAX_FAILURES_PER_ADDRESS", 50))
    for key, limit in zip(_login_keys(username, address), limits):
        state: Any = cache.get(key)
        if state and state[0] >= limit:
            return max(1, int(state[1] - time.time()))
    return 0


def login_failed(username: str, address: str) -> None:
    lock = getattr(settings, "RAPPORT_LOGIN_LOCK_SECONDS", 900)
    for key in _login_keys(username, address):
        count, until = cache.get(key) or (0, time.time() + lock)
        cache.set(key, (count + 1, until), max(1, int(until - time.time())))


def login_succeeded(username: str, address: str) -> None:
    cache.delete(_login_keys(username, address)[0])
