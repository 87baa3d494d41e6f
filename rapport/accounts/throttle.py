"""Rate limits: API calls per user, and failed sign-ins per username and per address.

Counters live in Django's cache (per process with the default local-memory cache, so with
``rapport serve --workers N`` a user gets up to N times the allowance; point CACHES at a shared
cache where that matters). A fixed window is enough here: the
aim is to stop scripted guessing and runaway clients, not to meter exactly.
"""

from __future__ import annotations

import hashlib
import unicodedata
import time

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


def _exempt() -> frozenset[str]:
    return frozenset(getattr(settings, "RAPPORT_RATE_LIMIT_EXEMPT", ()) or ())


class ApiRateThrottle(BaseThrottle):
    """At most ``RAPPORT_API_RATE`` calls per user (answers 429 with Retry-After beyond it),
    except for the users named in ``RAPPORT_RATE_LIMIT_EXEMPT``."""

    def allow_request(self, request: HttpRequest) -> bool:
        rate = getattr(settings, "RAPPORT_API_RATE", "")
        if not rate:
            return True
        limit, window = parse_rate(rate)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.get_username() in _exempt():
            return True
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


def login_name(username: str) -> str:
    """The name the throttle counts under: the one authentication looks up (Django's NFKC
    normalisation, as ``UsernameField`` and ``AbstractUser.normalize_username`` apply it), then
    case-folded. Keying on anything looser lets ``ｊａｋｅ`` or ``𝐣𝐚𝐤𝐞`` guess for ``jake``
    with a fresh allowance."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).strip().casefold())


def _login_keys(username: str, address: str) -> list[str]:
    name = hashlib.sha256(login_name(username).encode()).hexdigest()[:24]  # no usernames in cache keys
    return [f"rapport:login:user:{name}", f"rapport:login:ip:{address}"]


def _login_limits() -> tuple[int, int]:
    return (
        getattr(settings, "RAPPORT_LOGIN_MAX_FAILURES", 5),
        getattr(settings, "RAPPORT_LOGIN_MAX_FAILURES_PER_ADDRESS", 50),
    )


def _seconds_left(key: str) -> int:
    until = cache.get(f"{key}:until")
    return max(1, int((until or time.time() + 1) - time.time()))


def login_locked_for(username: str, address: str) -> int:
    """Seconds until sign-in attempts are accepted again; 0 when they are accepted now (no count)."""
    for key, limit in zip(_login_keys(username, address), _login_limits()):
        if (cache.get(key) or 0) >= limit:
            return _seconds_left(key)
    return 0


def login_attempt(username: str, address: str) -> int:
    """Reserves one sign-in attempt before the password is checked; returns 0 when it may go
    ahead, else the seconds until attempts are accepted again.

    The attempt is counted first, by the cache's atomic ``incr``, and taken back only when the
    password was right: parallel guesses each take a distinct number, so no more than the limit
    are ever checked (counting after a failure let 30 parallel guesses through 12 times).
    """
    if locked := login_locked_for(username, address):
        return locked
    lock = getattr(settings, "RAPPORT_LOGIN_LOCK_SECONDS", 900)
    for key, limit in zip(_login_keys(username, address), _login_limits()):
        # The window starts with the first failure and is not extended by later ones.
        cache.add(f"{key}:until", time.time() + lock, lock)
        cache.add(key, 0, lock)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, lock)
            count = 1
        if count > limit:
            return _seconds_left(key)
    return 0


def login_failed(username: str, address: str) -> None:
    """Kept for callers that check a password without ``login_attempt``: counts one failure."""
    login_attempt(username, address)


def login_succeeded(username: str, address: str) -> None:
    """A right password clears the name's failures and gives back the address's reservation."""
    user_key, address_key = _login_keys(username, address)
    cache.delete_many([user_key, f"{user_key}:until"])
    try:
        if (cache.get(address_key) or 0) > 0:
            cache.decr(address_key)
    except ValueError:  # expired meanwhile
        pass
