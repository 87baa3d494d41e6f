"""Django's PostgreSQL backend, with the health check of a kept connection skipped while it is
busy, and its timestamps read by psycopg's compiled loader.

With ``CONN_HEALTH_CHECKS`` (on: a kept connection may have died with a restart of the database
or an idle timeout of a firewall), Django asks ``SELECT 1`` on the first query of every request,
one more round trip than the request needs: a tenth of a card read's cost here. A connection that
ran a query less than ``RECENT_SECONDS`` ago, and that psycopg does not know to be closed or
broken, is taken as alive instead; one that sat idle longer is asked as before. A connection that
dies within that second fails its next query as it would have without checks: the request
answers an error, and Django closes that connection at the end of the request, so the next one
starts afresh. Connections from psycopg's pool (``RAPPORT_DB_POOL``) are checked by the pool.

Django reads every ``timestamp with time zone`` through a loader of its own, a subclass of
psycopg's pure-Python one, so psycopg's compiled loader (``psycopg[binary]``) is never used:
about 6 µs a value instead of 1, several times in every card and a few hundred in a list. On a
connection in UTC (``USE_TZ`` with no ``TIME_ZONE`` of the database, as here) the two give the
same datetimes, UTC with ``datetime.timezone.utc``; ``UtcTimestamptzLoader`` keeps Django's loader
and hands the parsing to the compiled one when the session is in UTC.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from typing import Any

import psycopg
from django.db.backends.postgresql import base
from django.db.backends.postgresql.psycopg_any import BaseTzLoader
from psycopg.abc import AdaptContext
from psycopg.adapt import AdaptersMap
from psycopg.pq import Format
from psycopg.types.datetime import TimestamptzLoader as PythonTimestamptzLoader

RECENT_SECONDS = 1.0

# psycopg's own loader: compiled with psycopg[binary] (or [c]), else the pure-Python one.
_DEFAULT_TIMESTAMPTZ_LOADER: Any = psycopg.adapters.get_loader(psycopg.adapters.types["timestamptz"].oid, Format.TEXT)


class UtcTimestamptzLoader(BaseTzLoader):
    """Django's ``timestamptz`` loader for ``datetime.timezone.utc``, parsed by psycopg's
    compiled loader when the session's time zone is UTC (its datetimes then carry
    ``datetime.timezone.utc`` too); otherwise Django's own parsing, unchanged."""

    timezone = dt.timezone.utc

    def __init__(self, oid: int, context: AdaptContext | None = None) -> None:
        super().__init__(oid, context)
        if _DEFAULT_TIMESTAMPTZ_LOADER is not PythonTimestamptzLoader and self._timezone is dt.timezone.utc:
            self.load = _DEFAULT_TIMESTAMPTZ_LOADER(oid, context).load


@functools.cache
def _with_utc_loader(template: AdaptersMap) -> AdaptersMap:
    adapters = AdaptersMap(template)
    adapters.register_loader("timestamptz", UtcTimestamptzLoader)
    return adapters


class DatabaseWrapper(base.DatabaseWrapper):
    _used_at = 0.0

    def get_connection_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_connection_params()
        if params.get("context") is not None and self.timezone is dt.timezone.utc:
            params["context"] = _with_utc_loader(params["context"])
        return params

    def create_cursor(self, name: Any = None) -> Any:
        self._used_at = time.monotonic()
        return super().create_cursor(name)

    def close_if_health_check_failed(self) -> None:
        connection = self.connection
        if (
            connection is not None
            and self.health_check_enabled  # type: ignore[attr-defined]  # absent from the stubs
            and not self.health_check_done  # type: ignore[has-type]
            and not self.pool
            and time.monotonic() - self._used_at < RECENT_SECONDS
            and not connection.closed
            and not connection.broken
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
