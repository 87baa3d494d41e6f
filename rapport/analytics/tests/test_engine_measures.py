"""The engine's per-customer measures: computed once per snapshot and as-of date, shared by the
reports of every user, and still giving each user the rows of the Python reports (every
customer judged against the population that user sees)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from rapport.analytics import columnar, engine, selectors
from rapport.analytics.tests.factories import AS_OF
from rapport.analytics.tests.test_engine import _engine, _python, analytics_dir, varied  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


@pytest.fixture
def tied(users: Any, make_org: Any) -> list[Any]:
    """Thirty-six customers of two teams whose window totals tie in groups of three, some in
    dollars (one rate change in the window), two with an order in a currency without a rate."""
    from rapport.commerce.models import ExchangeRate, Order, OrderStatus

    ExchangeRate.objects.create(currency="USD", valid_from=dt.date(2025, 1, 1), rate=Decimal("0.5"))
    ExchangeRate.objects.create(currency="USD", valid_from=dt.date(2026, 1, 1), rate=Decimal("0.25"))
    cards, orders = [], []
    for i in range(36):
        card = make_org(owner="rep_ana" if i % 3 else "rep_bo_other_team", name=f"Empate {i % 5} {i:02d}")
        cards.append(card)
        group = i // 3  # three customers per amount
        days = [AS_OF - dt.timedelta(days=10 * group + 7 * k) for k in range(1 + group % 4)]
        for k, day in enumerate(days):
            if i % 4 == 1 and k == 0:  # the same value in dollars: 40 at 0.25 is 10
                orders.append(Order(card=card, currency="USD", ordered_on=dt.date(2026, 3, 1),
                                    total=Decimal(40 * (group + 1)), status=OrderStatus.CONFIRMED))
            else:
                orders.append(Order(card=card, currency="EUR", ordered_on=day, total=Decimal(10 * (group + 1)),
                                    status=OrderStatus.CONFIRMED))
        if i in (7, 20):
            orders.append(Order(card=card, currency="GBP", ordered_on=AS_OF, total=Decimal(5),
                                status=OrderStatus.CONFIRMED))
    Order.objects.bulk_create(orders)
    return cards


def test_rfm_scores_of_tied_amounts_are_those_of_the_python_report(users: Any, tied: Any,
                                                                    analytics_dir: Path) -> None:
    for user in ("admin", "rep_ana", "manager_mei"):
        for flt in ({}, {"team": tied[1].team_id}, {"rep": users["rep_ana"].pk}):
            with _python():
                expected = selectors.rfm_report(users[user], as_of=AS_OF, **flt)
            with _engine():
                got = selectors.rfm_report(users[user], as_of=AS_OF, **flt)
            assert isinstance(got.rows, columnar.Rows)
            assert list(got.rows) == list(expected.rows), (user, flt)
            assert got.segments() == expected.segments()
    monetary = [row.monetary for row in expected.rows if row.monetary is not None]
    assert len(set(monetary)) < len(monetary)  # there were ties to score
    assert sum(1 for row in expected.rows if row.m is None) == 2  # the two without a rate


def test_the_measures_of_a_date_are_computed_once_for_every_user(users: Any, varied: Any,
                                                                  analytics_dir: Path) -> None:
    with _engine():
        admin = selectors.churn_report(users["admin"], as_of=AS_OF)
        session = engine.session()
        assert len(session._tables) == 1
        selectors.churn_report(users["admin"], as_of=AS_OF, team=varied["cards"][1].team_id)
        rep = selectors.churn_report(users["rep_ana"], as_of=AS_OF)
        assert engine.session() is session and len(session._tables) == 1  # the same histories
        selectors.rfm_report(users["rep_ana"], as_of=AS_OF)
        selectors.rfm_report(users["admin"], as_of=AS_OF)
        assert len(session._tables) == 2  # and one table of RFM measures
        selectors.churn_report(users["admin"], as_of=AS_OF - dt.timedelta(days=30))
        assert len(session._tables) == 3
    with _python():
        assert admin.prior == selectors.churn_report(users["admin"], as_of=AS_OF).prior
        # A rep's customers are judged against the customers the rep sees, not the company's.
        assert rep.prior == selectors.churn_report(users["rep_ana"], as_of=AS_OF).prior
    assert rep.prior != admin.prior


def test_the_least_recently_used_measures_are_dropped_and_reports_read_before_stay_whole(
        users: Any, varied: Any, analytics_dir: Path) -> None:
    dates = [AS_OF - dt.timedelta(days=days) for days in (0, 40, 80, 120)]
    with _engine(RAPPORT_ANALYTICS_CACHED_MEASURES=2):
        reports = [selectors.churn_report(users["admin"], as_of=day) for day in dates]
        assert len(engine.session()._tables) == 2
    with _python():
        for day, report in zip(dates, reports):
            assert list(report.rows) == list(selectors.churn_report(users["admin"], as_of=day).rows)


def test_new_exchange_rates_give_new_rfm_measures(users: Any, varied: Any, analytics_dir: Path) -> None:
    from rapport.commerce.models import ExchangeRate

    with _engine():
        before = list(selectors.rfm_report(users["admin"], as_of=AS_OF).rows)
    ExchangeRate.objects.create(currency="GBP", valid_from=dt.date(2020, 1, 1), rate=Decimal("1.15"))
    ExchangeRate.objects.filter(currency="USD").update(rate=Decimal("2"))
    with _python():
        expected = list(selectors.rfm_report(users["admin"], as_of=AS_OF).rows)
    with _engine():
        assert list(selectors.rfm_report(users["admin"], as_of=AS_OF).rows) == expected != before


def test_a_snapshot_of_an_older_layout_is_rebuilt(users: Any, varied: Any, analytics_dir: Path) -> None:
    with _engine():
        rows = list(selectors.churn_report(users["admin"], as_of=AS_OF).rows)
        marker = analytics_dir / (engine.SNAPSHOT_NAME + ".fingerprint")
        stored = marker.read_text(encoding="utf-8")
        assert stored.startswith(f"layout {engine.LAYOUT}|")
        marker.write_text(stored.split("|", 1)[1], encoding="utf-8")  # as an older version wrote it
        engine._sessions.clear()
        assert list(selectors.churn_report(users["admin"], as_of=AS_OF).rows) == rows
        assert marker.read_text(encoding="utf-8") == stored


def test_whether_the_database_is_big_is_read_without_counting_every_order(users: Any, varied: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with override_settings(RAPPORT_ANALYTICS_RECHECK_SECONDS=0):
        with CaptureQueriesContext(connection) as queries:
            assert engine._big(3) and not engine._big(10**6)
    assert not any("COUNT(" in query["sql"].upper() for query in queries.captured_queries)


def test_a_due_check_is_made_in_the_background_and_the_new_snapshot_comes_with_its_measures(
        users: Any, varied: Any, make_org: Any, analytics_dir: Path, monkeypatch: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rapport.commerce.models import Order

    started: list[Any] = []
    monkeypatch.setattr(engine, "_start_refresh", lambda key, current: started.append((key, current)))
    with _engine(RAPPORT_ANALYTICS_RECHECK_SECONDS=60):
        before = len(selectors.churn_report(users["admin"], as_of=AS_OF).rows)
        selectors.rfm_report(users["admin"], as_of=AS_OF)
        old = engine.session()
        Order.objects.create(card=make_org(name="Nuevo"), currency="EUR", ordered_on=AS_OF, total=5)
        key = str(old.path)
        engine._matched[key] -= 3600  # the check is due
        with CaptureQueriesContext(connection) as queries:
            assert engine.session() is old  # answered at once from the session it has
        assert started == [(key, old)] and not any("cards_card" in q["sql"] for q in queries.captured_queries)
        engine._refresh(key, old)  # what the thread does
        new = engine.session()
        assert new is not old and new.fingerprint != old.fingerprint
        assert list(new._tables) == list(old._tables)  # the measures were computed before the swap
        assert len(selectors.churn_report(users["admin"], as_of=AS_OF).rows) == before + 1
        engine._refresh(key, new)  # nothing changed: the same session stays
        assert engine.session() is new
    with _engine(RAPPORT_ANALYTICS_RECHECK_SECONDS=60, RAPPORT_ANALYTICS_REFRESH_IN_BACKGROUND=False):
        engine._matched[key] -= 3600
        assert engine.session() is new and not started[1:]  # checked in line: it still matches


def _table(report: Any) -> str:
    """The table of the engine that holds a report's rows."""
    assert isinstance(report.rows, columnar.Rows)
    return report.rows._table


def _fresh(user: Any) -> Any:
    """The user as the next request loads it."""
    from rapport.accounts.models import User

    return User.objects.get(pk=user.pk)


def test_a_reps_report_is_kept_for_the_next_request_until_what_the_rep_sees_changes(
        users: Any, varied: Any, analytics_dir: Path) -> None:
    import gc

    from rapport.cards.models import Share

    with _python():
        before = list(selectors.churn_report(_fresh(users["rep_ana"]), as_of=AS_OF).rows)
    with _engine(RAPPORT_ANALYTICS_RECHECK_SECONDS=3600):
        first = selectors.churn_report(_fresh(users["rep_ana"]), as_of=AS_OF)
        again = selectors.churn_report(_fresh(users["rep_ana"]), as_of=AS_OF)
        rfm_first = selectors.rfm_report(_fresh(users["rep_ana"]), as_of=AS_OF)
        rfm_again = selectors.rfm_report(_fresh(users["rep_ana"]), as_of=AS_OF)
        assert _table(first) == _table(again) and _table(rfm_first) == _table(rfm_again)
        other = next(card for card in varied["cards"] if card.owner_id != users["rep_ana"].pk and card.archived_at is None)
        Share.objects.create(card=other, user=users["rep_ana"])  # the rep now sees one more card
        shared = selectors.churn_report(_fresh(users["rep_ana"]), as_of=AS_OF)
        shared_rfm = selectors.rfm_report(_fresh(users["rep_ana"]), as_of=AS_OF)
        assert _table(shared) != _table(first) and other.pk in {row.card_id for row in shared.rows}
    with _python():
        assert list(again.rows) == before
        assert list(shared.rows) == list(selectors.churn_report(_fresh(users["rep_ana"]), as_of=AS_OF).rows)
        assert list(shared_rfm.rows) == list(selectors.rfm_report(_fresh(users["rep_ana"]), as_of=AS_OF).rows)
    del first, again, rfm_first, rfm_again, shared, shared_rfm
    gc.collect()
    with _engine(RAPPORT_ANALYTICS_RECHECK_SECONDS=3600, RAPPORT_ANALYTICS_CACHED_REPORTS=1):
        kept = selectors.churn_report(_fresh(users["manager_mei"]), as_of=AS_OF)
        table = _table(kept)
        selectors.churn_report(_fresh(users["rep_bo_other_team"]), as_of=AS_OF)  # pushes it out of the cache
        assert len(list(kept.rows)) == len(kept.rows) > 0  # still read whole: the report holds it
        session = engine.session()
        del kept
        gc.collect()
        assert table not in {row[0] for row in session.cursor().execute("SELECT table_name FROM duckdb_tables()").fetchall()}


def test_a_forked_process_opens_its_own_sessions_instead_of_the_parents() -> None:
    import os

    from rapport.analytics import engine

    parent_lock = engine._sessions_lock
    engine._sessions["parent"] = object()  # type: ignore[assignment]
    engine._matched["parent"] = 1.0
    try:
        child = os.fork()
        if child == 0:  # the child: reports there must not reuse the parent's sessions
            ok = not engine._sessions and not engine._matched and engine._sessions_lock is not parent_lock
            os._exit(0 if ok else 1)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert "parent" in engine._sessions  # the parent keeps its own
    finally:
        engine._sessions.pop("parent", None)
        engine._matched.pop("parent", None)
