"""Django's SQLite backend with writers queued inside the process.

SQLite lets one writer at a time in; the others retry in its busy handler, which is not a
queue: under many concurrent writers (a threaded server) one of them can keep losing the race
until its busy timeout expires with "database is locked". Here a transaction first waits its
turn on a process-wide lock, so threads of one process take the database in order and the busy
timeout is left to arbitrate between processes only.

Between processes (``rapport serve`` runs several workers), the turn is a lock on a file next
to the database (``<database>-writers``), taken before BEGIN IMMEDIATE and given back at COMMIT
or ROLLBACK: a writer of another process then finds SQLite's own lock free. SQLite's busy
handler, which otherwise arbitrates between processes, sleeps longer after each failed try
(up to 100 ms a time) and lets newcomers overtake the writers already waiting: under a
sales team's load some writes waited more than a second. A waiter here tries the file lock
again every millisecond, so a turn passes as soon as it is given back.

A BEGIN IMMEDIATE that still finds the database locked after the busy timeout (a program
writing without this backend) is tried again a few times: nothing has happened in that
transaction yet, so trying again is safe, and a burst of writers slows down instead of
answering "database is locked".
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: SQLite's busy handler alone arbitrates between processes
    fcntl = None  # type: ignore[assignment]

from django.db import OperationalError
from django.db.backends.sqlite3 import base

# Longer than any sane transaction; past it the transaction proceeds and SQLite's own busy
# timeout decides, so a stuck holder can slow writers down but never block them for good.
WAIT_SECONDS = 60.0
_writers = threading.Lock()
# Further tries of a BEGIN IMMEDIATE that timed out on another process's write lock.
BEGIN_RETRIES = 3
# How often a writer waiting for another process's turn tries again (seconds).
TURN_POLL = 0.001
# The turn files this process has open, by process id and database: a worker forked by the
# server opens its own, since a lock taken through a descriptor shared with the parent would
# be shared with every sibling.
_turn_files: dict[tuple[int, str], int] = {}
_turn_files_lock = threading.Lock()


def _turn_file(database: str) -> int | None:
    """The descriptor of the database's turn file in this process (``None`` in memory)."""
    if fcntl is None or not database or database == ":memory:" or database.startswith("file:"):
        return None
    key = (os.getpid(), database)
    with _turn_files_lock:
        fd = _turn_files.get(key)
        if fd is None:
            fd = os.open(f"{database}-writers", os.O_RDWR | os.O_CREAT, 0o600)
            _turn_files[key] = fd
    return fd


def _take_turn(fd: int, deadline: float) -> bool:
    """Takes the file lock, trying again every ``TURN_POLL`` until ``deadline``."""
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(TURN_POLL)


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_writer_turn = False
    _holds_file_turn: int | None = None

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        # Deleted rows (an erased person) are overwritten with zeros, not left readable in free
        # pages of the file: set here rather than trusting the SQLite build's default.
        connection.execute("PRAGMA secure_delete = ON")
        return connection

    def _start_transaction_under_autocommit(self) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        got = _writers.acquire(timeout=WAIT_SECONDS)
        self._holds_writer_turn = got
        try:
            fd = _turn_file(str(self.settings_dict.get("NAME") or ""))
            if got and fd is not None and _take_turn(fd, deadline):
                self._holds_file_turn = fd
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
        fd, self._holds_file_turn = self._holds_file_turn, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
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

