"""Rapport behind PgBouncer in transaction pooling mode (``RAPPORT_DB_TRANSACTION_POOLER=1``, as
docs/deploy.md sets it up): a real PgBouncer in front of the test server, the commands a team runs
through it, each in its own process. Run with the PostgreSQL part of the suite; skipped where
PgBouncer is not installed (``.ci/run`` installs it) or PostgreSQL is not reachable."""

from __future__ import annotations

import csv
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

POSTGRES = ("127.0.0.1", 5432)
PGBOUNCER = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)

pytestmark = [
    pytest.mark.skipif(PGBOUNCER is None, reason="PgBouncer is not installed"),
    # Once per run: with the PostgreSQL part of the suite, not again with SQLite.
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="runs with PostgreSQL"),
]


def _reachable(address: tuple[str, int]) -> bool:
    try:
        socket.create_connection(address, timeout=1).close()
    except OSError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(host=POSTGRES[0], port=POSTGRES[1], user="postgres", dbname="postgres", autocommit=True) as con:
        con.execute(sql)


@pytest.fixture
def pooler(tmp_path: Path) -> Any:
    """A fresh database behind a PgBouncer of its own, in transaction mode; yields its URL."""
    if not _reachable(POSTGRES):
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
    name = f"rapport_pooler_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}"')
    # Outside pytest's own folders, which only their owner may enter: PgBouncer may run as postgres.
    folder = Path(tempfile.mkdtemp(prefix="rapport-pgbouncer-"))
    port = _free_port()
    (folder / "users.txt").write_text('"postgres" ""\n', encoding="utf-8")
    (folder / "pgbouncer.ini").write_text(
        f"[databases]\n{name} = host={POSTGRES[0]} port={POSTGRES[1]} dbname={name}\n"
        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nauth_type = trust\n"
        f"auth_file = {folder / 'users.txt'}\npool_mode = transaction\ndefault_pool_size = 4\n"
        f"max_client_conn = 100\nunix_socket_dir =\nlogfile = {folder / 'pgbouncer.log'}\n",
        encoding="utf-8",
    )
    command = [str(PGBOUNCER), str(folder / "pgbouncer.ini")]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # PgBouncer refuses to run as root
        for path in (folder, *folder.iterdir()):
            path.chmod(0o777 if path.is_dir() else 0o666)
        command = ["runuser", "-u", "postgres", "--", *command]
    errors = (folder / "stderr.txt").open("w")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)
    try:
        for _ in range(100):
            if _reachable(("127.0.0.1", port)):
                break
            time.sleep(0.1)
        else:
            pytest.fail("PgBouncer did not start: " + (folder / "stderr.txt").read_text(errors="replace")[-2000:])
        yield f"postgresql://postgres@127.0.0.1:{port}/{name}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        errors.close()
        shutil.rmtree(folder, ignore_errors=True)
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _rapport(url: str, home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "RAPPORT_DB_TRANSACTION_POOLER": "1", "RAPPORT_HOME": str(home),
           "DJANGO_SETTINGS_MODULE": "rapport.settings"}
    env.pop("PYTEST_XDIST_WORKER", None)
    result = subprocess.run([sys.executable, "-m", "rapport.cli", *argv], env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, f"rapport {' '.join(argv)}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def test_behind_a_transaction_pooler_no_startup_options_are_sent_and_server_side_cursors_are_off() -> None:
    env = {**os.environ, "DATABASE_URL": "postgresql://postgres@db.example:6432/rapport"}
    code = ("from rapport import settings as s; d = s.DATABASES['default']; "
            "print(repr(d['OPTIONS'].get('options')), d.get('DISABLE_SERVER_SIDE_CURSORS', False))")
    direct = subprocess.run([sys.executable, "-c", code], env={**env, "RAPPORT_DB_TRANSACTION_POOLER": "0"},
                            capture_output=True, text=True, check=True)
    pooled = subprocess.run([sys.executable, "-c", code], env={**env, "RAPPORT_DB_TRANSACTION_POOLER": "1"},
                            capture_output=True, text=True, check=True)
    assert direct.stdout.split() == ["'-c", "jit=off'", "False"]
    # PgBouncer refuses a connection whose startup packet carries "options".
    assert pooled.stdout.split() == ["None", "True"]


def test_a_team_works_through_pgbouncer_in_transaction_mode(pooler: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    _rapport(pooler, home, "migrate")
    _rapport(pooler, home, "demo", "--organizations", "12", "--people", "30", "--seed", "7")
    people = tmp_path / "people.csv"
    _rapport(pooler, home, "export", "--kind", "people", "--format", "csv", "--output", str(people))
    with people.open(encoding="utf-8") as stream:
        assert len(list(csv.DictReader(stream))) >= 30
    churn = tmp_path / "churn.csv"
    _rapport(pooler, home, "analytics", "churn", "--output", str(churn))
    assert churn.read_text(encoding="utf-8-sig").startswith("card_id,")
    _rapport(pooler, home, "dedup", "--kind", "people")

