"""Django's SQLite backend with writers queued inside the process.

SQLite lets one writer at a time in; the others retry in its busy handler, which is not a
queue: under many concurrent writers (a threaded server) one of them can keep losing the race
until its busy timeout expires with "database is locked". Here a transaction first waits its
turn on a process-wide lock, so threads of one process take the database in order and the busy
timeout is left to arbitrate between processes only.

Between processes (``rapport serve`` runs several workers), a BEGIN IMMEDIATE that still finds
the database locked after the busy timeout is tried again a few times: nothing has happened
in that transaction yet, so trying again is safe, and a burst of writers from several
processes slows down instead of answering "database is locked".
"""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

# Longer than any sane transaction; past it the transaction proceeds and SQLite's own busy
# timeout decides, so a stuck holder can slow writers down but never block them for good.
WAIT_SECONDS = 60.0
_writers = threading.Lock()
# Further tries of a BEGIN IMMEDIATE that timed out on another process's write lock.
BEGIN_RETRIES = 3


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_writer_turn = False

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        # Deleted rows (an erased person) are overwritten with zeros, not left readable in free
        # pages of the file: set here rather than trusting the SQLite build's default.
        connection.execute("PRAGMA secure_delete = ON")
        return connection

    def _start_transaction_under_autocommit(self) -> None:
        got = _writers.acquire(timeout=WAIT_SECONDS)
        self._holds_writer_turn = got
        try:
            self._begin()
        except BaseException:
            self._release_writer_turn()
            raise

    def _begin(self) -> None:
        for attempt in range(BEGIN_RETRIES + 1):
            try:
                super()._start_transaction_under_autocommit()  # type: ignore[misc]  # private, absent from the stubs
                return
            except (sqlite3.OperationalError, OperationalError) as exc:  # Django wraps the driver's
                if "locked" not in str(exc) or attempt == BEGIN_RETRIES:
                    raise
            time.sleep(0.05 * (attempt + 1))

    def _release_writer_turn(self) -> None:
        if self._holds_writer_turn:
            self._holds_writer_turn = False
            _writers.release()

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]
        finally:
            self._release_writer_turn()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]
        finally:
            self._release_writer_turn()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]
        finally:
            self._release_writer_turn()

