"""Django's PostgreSQL backend, with the health check of a kept connection skipped while it is busy.

With ``CONN_HEALTH_CHECKS`` (on: a kept connection may have died with a restart of the database
or an idle timeout of a firewall), Django asks ``SELECT 1`` on the first query of every request,
one more round trip than the request needs: a tenth of a card read's cost here. A connection that
ran a query less than ``RECENT_SECONDS`` ago, and that psycopg does not know to be closed or
broken, is taken as alive instead; one that sat idle longer is asked as before. A connection that
dies within that second fails its next query as it would have without checks: the request
answers an error, and Django closes that connection at the end of the request, so the next one
starts afresh. Connections from psycopg's pool (``RAPPORT_DB_POOL``) are checked by the pool.
"""

from __future__ import annotations

import time
from typing import Any

from django.db.backends.postgresql import base

RECENT_SECONDS = 1.0


class DatabaseWrapper(base.DatabaseWrapper):
    _used_at = 0.0

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
