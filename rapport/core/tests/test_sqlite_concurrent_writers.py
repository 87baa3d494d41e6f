"""Several server processes, each with several threads, writing to one SQLite file at once:
every acknowledged write is kept and none is answered "database is locked"."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

WRITER = r"""
import json, os, sys, threading
import django
django.setup()
from django.db import connection, transaction
from rapport.accounts.models import Team

process, threads, writes = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
kept, errors = [], []

def write(thread):
    try:
        for n in range(writes):
            name = f"w{process}-{thread}-{n}"
            try:
                # A read, then a write, in one transaction: the pattern of every service.
                with transaction.atomic():
                    Team.objects.filter(name__startswith=f"w{process}-").count()
                    Team.objects.create(name=name)
                kept.append(name)
            except Exception as exc:  # counted, not raised: the test reports them all
                errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()

pool = [threading.Thread(target=write, args=(t,)) for t in range(threads)]
for t in pool: t.start()
for t in pool: t.join()
print(json.dumps({"kept": kept, "errors": errors}))
"""


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_in_several_processes_lose_nothing_and_never_see_a_lock(tmp_path: Path) -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's single writer is what this checks")
    connection.ensure_connection()
    database = tmp_path / "rapport.sqlite3"
    target = sqlite3.connect(database)
    connection.connection.backup(target)
    # The copy of an in-memory database keeps a rollback journal; a database made by `migrate`
    # is in WAL mode from its first connection on, as here.
    target.execute("PRAGMA journal_mode=WAL")
    target.close()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="rapport.settings", RAPPORT_HOME=str(tmp_path), RAPPORT_SQLITE_PATH=str(database))
    processes, threads, writes = 4, 3, 25
    running = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(p), str(threads), str(writes)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for p in range(processes)
    ]
    results: list[dict[str, Any]] = []
    for proc in running:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    errors = [e for r in results for e in r["errors"]]
    kept = {name for r in results for name in r["kept"]}
    assert errors == []
    assert len(kept) == processes * threads * writes
    with sqlite3.connect(database) as check:
        stored = {row[0] for row in check.execute("SELECT name FROM accounts_team WHERE name LIKE 'w%'")}
    assert stored == kept


def test_a_begin_that_finds_the_database_locked_is_tried_again(monkeypatch: Any) -> None:
    """A BEGIN IMMEDIATE that timed out on another process's lock has done nothing yet: the
    backend waits a little and tries again instead of answering "database is locked"."""
    from django.db import OperationalError
    from django.db.backends.sqlite3 import base as django_base

    from rapport.core.sqlite import base

    calls: list[int] = []

    def begin(self: Any) -> None:
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("database is locked")

    monkeypatch.setattr(django_base.DatabaseWrapper, "_start_transaction_under_autocommit", begin)
    monkeypatch.setattr(base.time, "sleep", lambda seconds: None)
    wrapper = base.DatabaseWrapper({"NAME": ":memory:", "OPTIONS": {}, "TIME_ZONE": None, "CONN_MAX_AGE": 0,
                                    "CONN_HEALTH_CHECKS": False, "AUTOCOMMIT": True, "ATOMIC_REQUESTS": False})
    wrapper._start_transaction_under_autocommit()
    assert len(calls) == 3
    wrapper._release_writer_turn()


def test_other_errors_at_begin_are_not_retried(monkeypatch: Any) -> None:
    from django.db import OperationalError
    from django.db.backends.sqlite3 import base as django_base

    from rapport.core.sqlite import base

    calls: list[int] = []

    def begin(self: Any) -> None:
        calls.append(1)
        raise OperationalError("disk I/O error")

    monkeypatch.setattr(django_base.DatabaseWrapper, "_start_transaction_under_autocommit", begin)
    wrapper = base.DatabaseWrapper({"NAME": ":memory:", "OPTIONS": {}, "TIME_ZONE": None, "CONN_MAX_AGE": 0,
                                    "CONN_HEALTH_CHECKS": False, "AUTOCOMMIT": True, "ATOMIC_REQUESTS": False})
    with pytest.raises(OperationalError):
        wrapper._start_transaction_under_autocommit()
    assert calls == [1]
    assert base._writers.acquire(blocking=False)  # the process's writer turn was given back
    base._writers.release()


def _file_wrapper(path: Path) -> Any:
    from rapport.core.sqlite import base

    return base.DatabaseWrapper({"NAME": str(path), "OPTIONS": {}, "TIME_ZONE": None, "CONN_MAX_AGE": 0,
                                 "CONN_HEALTH_CHECKS": False, "AUTOCOMMIT": True, "ATOMIC_REQUESTS": False})


def _turn_is_free(path: Path) -> bool:
    """Whether another process (here: another open file description) could take the turn now."""
    import fcntl

    fd = os.open(f"{path}-writers", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


@pytest.mark.skipif(sys.platform == "win32", reason="the turn file needs fcntl")
def test_a_transaction_holds_the_turn_of_every_process_from_begin_to_commit_or_rollback(
    tmp_path: Path, django_db_blocker: Any
) -> None:
    database = tmp_path / "turns.sqlite3"
    wrapper = _file_wrapper(database)
    with django_db_blocker.unblock():
        for ending in ("commit", "rollback"):
            with pytest.raises(RuntimeError) if ending == "rollback" else _nothing():
                with _atomic(wrapper):
                    wrapper.cursor().execute("CREATE TABLE IF NOT EXISTS t (x)")
                    assert not _turn_is_free(database), ending
                    if ending == "rollback":
                        raise RuntimeError("the transaction fails")
            assert _turn_is_free(database), ending
        wrapper.close()


@pytest.mark.skipif(sys.platform == "win32", reason="the turn file needs fcntl")
def test_a_writer_waits_for_the_turn_another_process_holds_and_goes_on_when_it_is_given_back(
    tmp_path: Path, django_db_blocker: Any
) -> None:
    import fcntl
    import threading
    import time

    database = tmp_path / "waits.sqlite3"
    other = os.open(f"{database}-writers", os.O_RDWR | os.O_CREAT)
    fcntl.flock(other, fcntl.LOCK_EX)  # another process is writing
    wrapper = _file_wrapper(database)
    started = time.monotonic()
    threading.Timer(0.3, lambda: fcntl.flock(other, fcntl.LOCK_UN)).start()
    try:
        with django_db_blocker.unblock():
            with _atomic(wrapper):
                wrapper.cursor().execute("CREATE TABLE t (x)")
            waited = time.monotonic() - started
            wrapper.close()
        assert 0.25 <= waited < 5
    finally:
        os.close(other)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


class _atomic:
    """A transaction on a wrapper of its own, begun and ended as ``transaction.atomic`` does."""

    def __init__(self, wrapper: Any) -> None:
        self.wrapper = wrapper

    def __enter__(self) -> None:
        self.wrapper.ensure_connection()
        # As ``transaction.atomic`` begins on SQLite: BEGIN (IMMEDIATE) under the backend's turns.
        self.wrapper.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)

    def __exit__(self, kind: Any, *exc: Any) -> None:
        if kind is None:
            self.wrapper.commit()
        else:
            self.wrapper.rollback()
        self.wrapper.set_autocommit(True)
