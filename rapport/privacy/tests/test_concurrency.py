"""Concurrent edits: the second of two writers from one version is refused, and many writers on
SQLite never meet "database is locked"."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from typing import Any

import pytest
from django.db import connection

from rapport.cards import services
from rapport.core.errors import Conflict


def test_twenty_writers_on_sqlite_meet_no_lock_errors_and_two_edits_of_one_version_give_one_conflict() -> None:
    # Its own process and database file: the production SQLite settings (WAL, IMMEDIATE, busy
    # timeout), whatever database this test run uses. 30 s by hand; a few seconds here.
    done = subprocess.run(
        [sys.executable, "-m", "rapport.privacy.concurrency_probe", "--writers", "20", "--seconds", "3"],
        capture_output=True, text=True, timeout=240, check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["journal_mode"] == "wal"
    assert result["pair"] == ["conflict", "ok"]
    assert result["errors"] == 0 and result["locked"] == 0, result["sample_errors"]
    assert result["writes"] > 20


@pytest.mark.django_db(transaction=True)
def test_two_clients_editing_one_card_at_once_on_this_database_give_one_success_and_one_conflict(
    users: dict[str, Any], make_org: Any
) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("the in-memory SQLite test database is not shared between threads; the probe above covers SQLite")
    org = make_org(name="Contended")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def edit(who: str, name: str) -> None:
        try:
            barrier.wait()
            services.update_card(user=users[who], card=org, data={"name": name}, expected_version=org.version)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=edit, args=a) for a in (("rep_ana", "Ana"), ("rep_ben", "Ben"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
