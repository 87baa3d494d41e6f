"""A real ``rapport worker``: a job put on the queue while no worker runs is done once one
starts (the queue is a file, or Redis, that outlives the worker). The queue is a SQLite file of
its own in RAPPORT_HOME, or Redis when a server answers on 127.0.0.1:6379; the database is this
test's (a copy of it on SQLite, the test database itself on PostgreSQL)."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from rapport.jobs.models import Job

SCRIPT = Path(sys.executable).with_name("rapport")
pytestmark = pytest.mark.django_db(transaction=True)


def _env(home: Path, **extra: str) -> dict[str, str]:
    """A worker's environment on this test's database, with a queue no one else uses."""
    if not SCRIPT.exists():
        pytest.skip("the rapport console script is not installed (pip install -e .)")
    env = {**os.environ, "RAPPORT_HOME": str(home), "RAPPORT_QUEUE_NAME": f"test-{uuid.uuid4().hex[:8]}", **extra}
    for name in ("DJANGO_SETTINGS_MODULE", "RAPPORT_QUEUE_IMMEDIATE", "RAPPORT_SQLITE_PATH"):
        env.pop(name, None)
    if "RAPPORT_QUEUE_URL" not in extra:
        env.pop("RAPPORT_QUEUE_URL", None)
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        # The in-memory test database, migrated once for the whole run, copied to a file.
        env.pop("DATABASE_URL", None)
        copy = sqlite3.connect(home / "rapport.sqlite3")
        connection.connection.backup(copy)
        copy.close()
    else:
        url = os.environ["DATABASE_URL"]
        env["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + str(connection.settings_dict["NAME"])
    return env


def _status(home: Path, job_id: int) -> str:
    if connection.vendor == "sqlite":
        with sqlite3.connect(home / "rapport.sqlite3", timeout=10) as db:
            return str(db.execute("SELECT status FROM jobs_job WHERE id = ?", (job_id,)).fetchone()[0])
    return Job.objects.get(pk=job_id).status


def _job_waits_then_a_worker_runs_it(home: Path, env: dict[str, str]) -> None:
    queued = subprocess.run([str(SCRIPT), "jobs", "run", "segments-refresh"], env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert queued.returncode == 0, queued.stderr
    job_id = int(queued.stdout.split()[1])
    time.sleep(1)
    assert _status(home, job_id) == "queued"  # no worker yet: it waits in the queue

    started = time.monotonic()
    worker = subprocess.Popen([str(SCRIPT), "worker", "--workers", "1", "--no-beat"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while time.monotonic() - started < 20 and _status(home, job_id) != "done":
            time.sleep(0.3)
        assert _status(home, job_id) == "done"
    finally:
        worker.send_signal(signal.SIGINT)  # a graceful stop: the running job would finish first
        try:
            output, errors = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, errors = worker.communicate()
    assert "Rapport's worker: 1 process, without the schedule" in output
    assert "Traceback" not in errors


def test_a_job_queued_before_the_worker_starts_is_run_by_it_from_the_sqlite_queue(tmp_path: Path) -> None:
    _job_waits_then_a_worker_runs_it(tmp_path, _env(tmp_path))
    assert (tmp_path / "queue.sqlite3").exists()  # a file of its own, beside the database


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def test_a_job_queued_before_the_worker_starts_is_run_by_it_from_redis(tmp_path: Path) -> None:
    if not _redis_answers():
        pytest.skip("no Redis server on 127.0.0.1:6379")
    _job_waits_then_a_worker_runs_it(tmp_path, _env(tmp_path, RAPPORT_QUEUE_URL="redis://127.0.0.1:6379/15"))
    assert not (tmp_path / "queue.sqlite3").exists()
