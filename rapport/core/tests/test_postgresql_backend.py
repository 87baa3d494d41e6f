"""The PostgreSQL backend asks a kept connection whether it is alive only after it sat idle."""

from __future__ import annotations

import pytest
from django.db import connection as default_connection
from django.db import connections

from rapport.core.postgresql import base as pg

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(default_connection.vendor != "postgresql", reason="PostgreSQL's backend"),
]


connection: pg.DatabaseWrapper = connections["default"]  # type: ignore[assignment]  # the wrapper itself, not its proxy


def _health_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    asked: list[str] = []
    original = type(connection).is_usable

    def is_usable(self: pg.DatabaseWrapper) -> bool:
        asked.append("SELECT 1")
        return original(self)

    monkeypatch.setattr(type(connection), "is_usable", is_usable)
    monkeypatch.setattr(connection, "health_check_enabled", True)
    return asked


def test_the_site_runs_on_the_backend_that_skips_checks_of_busy_connections() -> None:
    assert isinstance(connection, pg.DatabaseWrapper)


def test_a_connection_used_a_moment_ago_is_not_asked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _health_checks(monkeypatch)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 2")
    connection.health_check_done = False  # what the start of the next request does
    with connection.cursor() as cursor:
        cursor.execute("SELECT 3")
        assert cursor.fetchone() == (3,)
    assert asked == []


def test_a_connection_idle_past_the_limit_is_asked_before_reuse(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _health_checks(monkeypatch)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 2")
    monkeypatch.setattr(connection, "_used_at", connection._used_at - pg.RECENT_SECONDS - 0.01)
    connection.health_check_done = False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 3")
    assert asked == ["SELECT 1"]


def test_a_connection_psycopg_knows_to_be_broken_is_asked_and_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _health_checks(monkeypatch)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 2")
    raw = connection.connection
    monkeypatch.setattr(type(raw), "broken", property(lambda self: self is raw))
    connection.health_check_done = False
    connection.close_if_health_check_failed()
    assert asked == ["SELECT 1"]
