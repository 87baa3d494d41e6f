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


TIMESTAMPS = [
    "2026-12-06 10:36:43.323255+00", "2020-01-01 10:00:00+00", "1999-12-31 23:59:59.999999+00",
    "0001-01-01 00:00:00+00", "9999-12-31 23:59:59.999999+00", "2024-02-29 12:00:00.5+02", "1970-01-01 00:00:00-09:30",
]


def _read_timestamps(loader: type, values: list[str] = TIMESTAMPS) -> list[object]:
    with connection.cursor() as cursor:
        cursor.cursor.adapters.register_loader("timestamptz", loader)
        cursor.execute("SELECT unnest(%s::timestamptz[])", [values])
        return [row[0] for row in cursor.fetchall()]


def _djangos_loader() -> type:
    """Django's own ``timestamptz`` loader for UTC, as its backend would register it."""
    import datetime as dt

    from django.db.backends.postgresql.psycopg_any import BaseTzLoader

    class DjangosLoader(BaseTzLoader):
        timezone = dt.timezone.utc

    return DjangosLoader


def test_timestamps_are_parsed_by_psycopgs_compiled_loader_and_read_as_djangos_loader_reads_them() -> None:
    import datetime as dt

    from psycopg.pq import Format

    DjangosLoader = _djangos_loader()
    connection.ensure_connection()
    assert connection.connection.adapters.get_loader(base_oid(), Format.TEXT) is pg.UtcTimestamptzLoader
    ours = _read_timestamps(pg.UtcTimestamptzLoader)
    assert ours == _read_timestamps(DjangosLoader)
    assert [t.tzinfo for t in ours] == [dt.timezone.utc] * len(TIMESTAMPS)  # type: ignore[attr-defined]
    assert ours[0] == dt.datetime(2026, 12, 6, 10, 36, 43, 323255, tzinfo=dt.timezone.utc)
    assert ours[-2] == dt.datetime(2024, 2, 29, 10, 0, 0, 500000, tzinfo=dt.timezone.utc)
    loader = pg.UtcTimestamptzLoader(base_oid(), connection.connection)
    if pg._DEFAULT_TIMESTAMPTZ_LOADER is not pg.PythonTimestamptzLoader:  # psycopg[binary] installed
        assert "load" in vars(loader)  # the compiled loader's method, not Django's


def test_in_a_session_not_in_utc_timestamps_are_read_as_djangos_loader_reads_them() -> None:
    DjangosLoader = _djangos_loader()

    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'Europe/Bucharest'")
    try:
        assert "load" not in vars(pg.UtcTimestamptzLoader(base_oid(), connection.connection))
        within = [t for t in TIMESTAMPS if not t.startswith("9999")]  # past year 9999 in Bucharest
        assert _read_timestamps(pg.UtcTimestamptzLoader, within) == _read_timestamps(DjangosLoader, within)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")


def base_oid() -> int:
    import psycopg

    return int(psycopg.adapters.types["timestamptz"].oid)
