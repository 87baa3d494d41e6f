"""The analytics engine: the churn and RFM reports computed by DuckDB over the snapshot give the
rows of the Python reports, the snapshot follows the database, and only users who see
everything go through it."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from rapport.analytics import columnar, engine, selectors
from rapport.analytics.tests.factories import AS_OF
from rapport.commerce.tests.factories import api

pytestmark = pytest.mark.django_db


@pytest.fixture
def analytics_dir(tmp_path: Path) -> Any:
    with override_settings(RAPPORT_ANALYTICS_DIR=str(tmp_path / "analytics")):
        yield tmp_path / "analytics"


def _python(**settings: Any) -> Any:
    """The reports on the Python path: the engine switched off by a threshold no test reaches."""
    return override_settings(RAPPORT_ANALYTICS_ENGINE_MIN_ORDERS=10**12, **settings)


def _engine(**settings: Any) -> Any:
    settings.setdefault("RAPPORT_ANALYTICS_RECHECK_SECONDS", 0)
    return override_settings(RAPPORT_ANALYTICS_ENGINE_MIN_ORDERS=0, **settings)


@pytest.fixture
def varied(users: Any, make_org: Any) -> dict[str, Any]:
    """Forty customers of two teams with regular, irregular, single, archived, cancelled, pending
    and foreign-currency orders, some dated after the report's date."""
    from rapport.commerce.models import Approval, ExchangeRate, Order, OrderStatus

    ExchangeRate.objects.create(currency="USD", valid_from=dt.date(2025, 1, 1), rate=Decimal("0.9"))
    ExchangeRate.objects.create(currency="USD", valid_from=dt.date(2026, 3, 1), rate=Decimal("0.85"))
    rng = random.Random(7)
    cards = []
    for i in range(40):
        owner = "rep_ana" if i % 2 else "rep_bo_other_team"
        cards.append(make_org(owner=owner, name=f"Cliente {i:02d} {'Ñandú' if i % 7 == 0 else 'Alfa'}"))
    orders = []
    for i, card in enumerate(cards):
        every = rng.choice([7, 14, 30, 45, 90, 180])
        count = 1 if i % 9 == 0 else rng.randint(2, 14)
        last = AS_OF - dt.timedelta(days=rng.randint(0, 400))
        for k in range(count):
            day = last - dt.timedelta(days=every * k + rng.randint(0, 3))
            currency = "USD" if i % 5 == 0 and k % 2 else ("GBP" if i == 13 and k == 0 else "EUR")
            total = Decimal(rng.randint(1, 5000)) + Decimal(rng.randint(0, 99)) / 100
            orders.append(Order(card=card, currency=currency, ordered_on=day, total=total, status=OrderStatus.CONFIRMED))
        if i % 4 == 0:  # a second order on the same day, and one after the report's date
            orders.append(Order(card=card, currency="EUR", ordered_on=last, total=Decimal("10.00"),
                                status=OrderStatus.DELIVERED))
            orders.append(Order(card=card, currency="EUR", ordered_on=AS_OF + dt.timedelta(days=5), total=Decimal("5.00")))
    # Orders that do not count.
    orders.append(Order(card=cards[1], currency="EUR", ordered_on=AS_OF, total=999, status=OrderStatus.CANCELLED))
    orders.append(Order(card=cards[3], currency="EUR", ordered_on=AS_OF, total=999, approval=Approval.PENDING))
    Order.objects.bulk_create(orders)
    archived = cards[5]
    archived.archived_at = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    archived.save(update_fields=["archived_at"])
    return {"cards": cards}


def scanned_and_copied(tmp_path: Path) -> tuple[Any, Any]:
    """The snapshot's tables read by the database scanner and, beside them, copied through Django:
    two DuckDB connections to compare. Needs committed rows (the scanner has connections of its own)."""
    import duckdb

    scanned = duckdb.connect()
    if connection.vendor == "sqlite":  # the test database lives in memory: scan a file copy of it
        copy = tmp_path / "copy.sqlite3"
        target = sqlite3.connect(copy)
        connection.ensure_connection()
        connection.connection.backup(target)
        target.close()
        scanned.execute(f"LOAD {engine.literal(engine._extension('sqlite_scanner'))}")
        scanned.execute(f"ATTACH {engine.literal(str(copy))} AS db (TYPE sqlite, READ_ONLY)")
    else:
        assert engine._attach(scanned) == "db"
    engine._copy_from(scanned, "db")
    through_django = duckdb.connect()
    engine._copy_through_django(through_django)
    return scanned, through_django


def _churn(user: Any, **kwargs: Any) -> tuple[Any, list[Any]]:
    report = selectors.churn_report(user, **kwargs)
    return report, list(report.rows)


def test_the_engine_gives_the_churn_rows_of_the_python_report(users: Any, varied: Any, analytics_dir: Path) -> None:
    admin = users["admin"]
    flagged_somewhere = False
    for as_of in (AS_OF, AS_OF - dt.timedelta(days=200), dt.date(2020, 1, 1), AS_OF + dt.timedelta(days=365)):
        for flt in ({}, {"team": varied["cards"][1].team_id}, {"rep": users["rep_ana"].pk}):
            with _python():
                expected, expected_rows = _churn(admin, as_of=as_of, **flt)
            with _engine():
                got, got_rows = _churn(admin, as_of=as_of, **flt)
            assert isinstance(got.rows, columnar.Rows) and not isinstance(expected.rows, columnar.Rows)
            assert got.prior == expected.prior
            assert got_rows == expected_rows, (as_of, flt)
            assert got.flagged == expected.flagged and list(got.flagged_rows()) == expected_rows[:expected.flagged]
            flagged_somewhere = flagged_somewhere or expected.flagged > 0
    assert flagged_somewhere  # the comparison covered flagged customers, not only quiet ones


def test_the_engine_gives_the_rfm_rows_and_segments_of_the_python_report(users: Any, varied: Any,
                                                                         analytics_dir: Path) -> None:
    admin = users["admin"]
    for as_of in (AS_OF, AS_OF - dt.timedelta(days=200), dt.date(2020, 1, 1)):
        for months in (12, 3):
            for flt in ({}, {"team": varied["cards"][1].team_id}):
                with _python():
                    expected = selectors.rfm_report(admin, as_of=as_of, months=months, **flt)
                with _engine():
                    got = selectors.rfm_report(admin, as_of=as_of, months=months, **flt)
                assert list(got.rows) == list(expected.rows), (as_of, months, flt)
                assert got.segments() == expected.segments()
                for key, _label, n in expected.segments():
                    assert list(got.in_segment(key)) == list(expected.in_segment(key)) and len(got.in_segment(key)) == n
    assert any(row.note for row in expected.rows) or as_of.year == 2020


def test_the_rows_of_the_engine_are_read_a_page_at_a_time(users: Any, varied: Any, analytics_dir: Path) -> None:
    with _engine():
        report = selectors.churn_report(users["admin"], as_of=AS_OF)
    rows = report.rows
    everything = list(rows)
    assert len(rows) == len(everything) == 39  # forty customers, one archived
    assert rows[3:7] == everything[3:7] and rows[-1] == everything[-1] and rows[10:5] == []
    assert rows[::10] == everything[::10]
    with pytest.raises(IndexError):
        rows[len(everything)]


def test_reps_and_managers_get_from_the_engine_only_what_they_see(users: Any, varied: Any,
                                                                  analytics_dir: Path) -> None:
    for username in ("rep_ana", "rep_bo_other_team", "manager_mei", "analyst_al"):
        user = users[username]
        with _python():
            expected_churn = list(selectors.churn_report(user, as_of=AS_OF).rows)
            expected_rfm = list(selectors.rfm_report(user, as_of=AS_OF).rows)
        with _engine():
            churn = selectors.churn_report(user, as_of=AS_OF)
            rfm = selectors.rfm_report(user, as_of=AS_OF)
        assert isinstance(churn.rows, columnar.Rows) and isinstance(rfm.rows, columnar.Rows)
        assert list(churn.rows) == expected_churn and list(rfm.rows) == expected_rfm, username
    ana = {card.pk for card in varied["cards"] if card.owner_id == users["rep_ana"].pk and card.archived_at is None}
    with _engine():
        assert {row.card_id for row in selectors.churn_report(users["rep_ana"], as_of=AS_OF).rows} == ana


def test_a_user_with_few_cards_stays_on_the_python_path_on_a_big_database(users: Any, varied: Any,
                                                                          analytics_dir: Path) -> None:
    with override_settings(RAPPORT_ANALYTICS_ENGINE_MIN_ORDERS=1):  # "a big database": any order at all
        assert engine.plan(users["rep_ana"]) is None  # 20 cards, fewer than MIN_VISIBLE_CARDS
        assert engine.plan(users["admin"]) == engine.Plan(card_ids=None)
        assert not isinstance(selectors.churn_report(users["rep_ana"], as_of=AS_OF).rows, columnar.Rows)
    with override_settings(RAPPORT_ANALYTICS_ENGINE_MIN_ORDERS=10**9):
        assert engine.plan(users["admin"]) is None
    users["rep_ana"].is_active = False
    with _engine():
        assert engine.plan(users["rep_ana"]) is None


def test_the_snapshot_is_rebuilt_when_an_order_or_a_card_changes(users: Any, varied: Any, make_org: Any,
                                                                 analytics_dir: Path) -> None:
    from rapport.commerce.models import Order

    admin = users["admin"]
    with _engine():
        before = selectors.churn_report(admin, as_of=AS_OF)
        assert selectors.churn_report(admin, as_of=AS_OF).rows[0] == before.rows[0]  # unchanged: the same snapshot
        newcomer = make_org(name="Recién llegado")
        Order.objects.create(card=newcomer, currency="EUR", ordered_on=AS_OF, total=5)
        after = selectors.churn_report(admin, as_of=AS_OF)
        assert len(after.rows) == len(before.rows) + 1
        gone = varied["cards"][2]
        gone.archived_at = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
        gone.save(update_fields=["archived_at"])
        assert gone.pk not in {row.card_id for row in selectors.churn_report(admin, as_of=AS_OF).rows}


def test_within_the_recheck_window_the_snapshot_is_used_without_fingerprinting(users: Any, varied: Any, make_org: Any,
                                                                               analytics_dir: Path) -> None:
    from rapport.commerce.models import Order

    with _engine(RAPPORT_ANALYTICS_RECHECK_SECONDS=3600):
        before = len(selectors.churn_report(users["admin"], as_of=AS_OF).rows)
        Order.objects.create(card=make_org(name="Tarde"), currency="EUR", ordered_on=AS_OF, total=5)
        assert len(selectors.churn_report(users["admin"], as_of=AS_OF).rows) == before  # the lag the setting allows
    with _engine():
        assert len(selectors.churn_report(users["admin"], as_of=AS_OF).rows) == before + 1


def test_the_api_pages_and_filters_the_engine_report(users: Any, varied: Any, analytics_dir: Path) -> None:
    with _python():
        expected = api(users["admin"]).get(f"/api/v1/reports/churn?as_of={AS_OF}&limit=5&offset=3").json()
        flagged = api(users["admin"]).get(f"/api/v1/reports/churn?as_of={AS_OF}&flagged_only=true").json()
        at_risk = api(users["admin"]).get(f"/api/v1/reports/rfm?as_of={AS_OF}&segment=at_risk").json()
    with _engine():
        assert api(users["admin"]).get(f"/api/v1/reports/churn?as_of={AS_OF}&limit=5&offset=3").json() == expected
        assert api(users["admin"]).get(f"/api/v1/reports/churn?as_of={AS_OF}&flagged_only=true").json() == flagged
        assert api(users["admin"]).get(f"/api/v1/reports/rfm?as_of={AS_OF}&segment=at_risk").json() == at_risk
    assert expected["count"] == 39 and len(expected["items"]) == 5


def test_an_empty_database_gives_empty_engine_reports(users: Any, analytics_dir: Path) -> None:
    with _engine():
        churn = selectors.churn_report(users["admin"], as_of=AS_OF)
        rfm = selectors.rfm_report(users["admin"], as_of=AS_OF)
    assert list(churn.rows) == [] and churn.flagged == 0 and not churn.prior.fitted
    assert list(rfm.rows) == [] and all(n == 0 for _k, _l, n in rfm.segments())


@pytest.mark.django_db(transaction=True)  # committed rows: the scanners read through connections of their own
def test_the_database_scanner_reads_the_tables_as_the_django_copy_does(users: Any, varied: Any,
                                                                        analytics_dir: Path, tmp_path: Path) -> None:
    scanned, through_django = scanned_and_copied(tmp_path)
    for table, order in (("orders", "card_id, ordered_on, currency, total"), ("cards", "id")):
        query = f"SELECT * FROM {table} ORDER BY {order}"
        rows = scanned.execute(query).fetchall()
        assert rows == through_django.execute(query).fetchall() and rows


def test_the_engine_converts_orders_of_millions_in_another_currency_without_overflow(
    users: Any, make_org: Any, analytics_dir: Path,
) -> None:
    from rapport.commerce.models import ExchangeRate, Order, OrderStatus

    ExchangeRate.objects.create(currency="USD", valid_from=dt.date(2025, 1, 1), rate=Decimal("0.91234567"))
    card = make_org(owner="rep_ana", name="Importadora Grande")
    Order.objects.bulk_create([
        Order(card=card, currency="USD", ordered_on=AS_OF - dt.timedelta(days=d), total=Decimal("98765432.10"),
              status=OrderStatus.CONFIRMED)
        for d in (10, 40, 70)
    ])
    with _python():
        expected = list(selectors.rfm_report(users["admin"], as_of=AS_OF, months=12).rows)
    with _engine():
        got = list(selectors.rfm_report(users["admin"], as_of=AS_OF, months=12).rows)
    assert got == expected and len(got) == 1
