"""The queue the web process puts jobs on and ``rapport worker`` takes them from (Huey).

Built once from ``settings.HUEY``: a SQLite file of its own by default (so that enqueueing
never waits for the main database's write lock), Redis when the URL says ``redis://``. In
immediate mode every job runs at once in the caller, in memory (tests, one-off scripts).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from huey import Huey, RedisHuey, SqliteHuey

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def build(config: dict[str, Any]) -> Huey:
    """The Huey instance a configuration describes (``name``, ``url``, ``immediate``)."""
    name = str(config.get("name") or "rapport")
    url = str(config.get("url") or "")
    immediate = bool(config.get("immediate", False))
    if url.startswith(REDIS_SCHEMES):
        return RedisHuey(name, url=url, immediate=immediate)
    if url.startswith("sqlite:///"):
        # A busy queue file waits for its writer rather than failing: the worker and every web
        # process write to it.
        return SqliteHuey(name, filename=url.removeprefix("sqlite:///"), immediate=immediate, timeout=20)
    raise ImproperlyConfigured(f"RAPPORT_QUEUE_URL: expected redis://… or sqlite:///path, got {url!r}.")


def describe(queue: Huey) -> str:
    """Where the queue lives, for the worker's first line (no password)."""
    if isinstance(queue, SqliteHuey):
        return f"SQLite file {queue.storage.filename}"
    if isinstance(queue, RedisHuey):
        kwargs = queue.storage.conn.connection_pool.connection_kwargs
        return f"Redis at {kwargs.get('host', kwargs.get('path', '?'))}:{kwargs.get('port', '')} db {kwargs.get('db', 0)}"
    return type(queue).__name__


def daily_at(hhmm: str) -> Callable[[dt.datetime], bool]:
    """A Huey schedule check true once a day at ``HH:MM`` in ``TIME_ZONE`` (never when empty).

    Huey checks the schedule every minute with the time in UTC; the hour a team means is the
    hour on its own clock, summer time included.
    """
    if not hhmm:
        return lambda moment: False
    try:
        hour, minute = (int(part) for part in hhmm.split(":"))
        dt.time(hour, minute)
    except ValueError:
        raise ImproperlyConfigured(f"Expected a time of day as HH:MM, got {hhmm!r}.") from None
    zone = ZoneInfo(settings.TIME_ZONE)

    def check(moment: dt.datetime) -> bool:
        local = moment.replace(tzinfo=dt.timezone.utc).astimezone(zone)
        return local.hour == hour and local.minute == minute

    return check


huey: Huey = build(settings.HUEY)
