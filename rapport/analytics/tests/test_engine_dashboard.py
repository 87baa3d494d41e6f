"""The dashboard's sales and profitability from the analytics engine: the least profitable
customers, the customers at a loss and the sales by month or by rep computed over the snapshot
are those of the SQL reports on the same data, for every role, and the snapshot follows a
changed unit cost or order line."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from rapport.analytics import dashboard, selectors
from rapport.analytics.tests.factories import AS_OF

pytestmark = pytest.mark.django_db

YEAR_START = selectors.year_before(AS_OF)


@pytest.fixture
def analytics_dir(tmp_path: Path) -> Any:
    with override_settings(RAPPORT_ANALYTICS_DIR=str(tmp_path / "analytics")):
        yield tmp_path / "analytics"


def _sql() -> Any:
    """The reports on the SQL path: the engine switched off by a threshold no test reaches."""
    return override_settings(RAPPORT_ANALYTICS_ENGINE_MIN_ORDERS=10**12)


def _engine(**settings: Any) -> Any:
    settings.setdefault("RAPPORT_ANALYTICS_RECHECK_SECONDS", 0)
    return override_settings(RAPPORT_ANALYTICS_ENGINE_MIN_ORDERS=0, **settings)


def _log(user: Any, kind: str, *cards: Any, day: dt.date) -> None:
    from rapport.activities.services import log_activity

    log_activity(user=user, data={"kind": kind, "summary": f"{kind} test", "cards": [c.pk for c in cards],
                                  "occurred_at": f"{day.isoformat()}T10:00:00+00:00"})


@pytest.fixture
def book(users: Any, make_org: Any, sell: Any, orders: Any, products: Any) -> dict[str, Any]:
    """Two years of sales of three reps in two teams: lines with and without a unit cost, discounts,
    dollars at three dated rates, pounds without a rate, orders without lines, orders that do not
    count, an archived customer, customers with the same net profit, and calls and visits, some
    shared between customers, some with customers that bought nothing."""
    from rapport.commerce.models import Approval, ExchangeRate, OrderStatus

    for day, rate in ((dt.date(2024, 1, 1), "0.91"), (dt.date(2025, 10, 1), "0.88"), (dt.date(2026, 3, 1), "0.85")):
        ExchangeRate.objects.create(currency="USD", valid_from=day, rate=Decimal(rate))
    rng = random.Random(11)
    owners = ("rep_ana", "rep_ben", "rep_bo_other_team")
    cards = []
    for i in range(36):
        owner = owners[i % 3]
        card = make_org(owner=owner, name=f"{'Ñandú' if i % 5 == 0 else 'cliente'} {i % 7}")
        cards.append(card)
        for _k in range(rng.randint(0, 6)):
            day = AS_OF - dt.timedelta(days=rng.randint(0, 720))
            currency = "USD" if i % 4 == 0 else ("GBP" if i == 7 else "EUR")
            lines = [(products[rng.choice(["oil", "rice", "rice", "new"])], rng.randint(1, 30),
                      f"{rng.randint(100, 2000) / 100:.2f}", rng.choice(["0", "0", "5", "12.5"]))
                     for _n in range(rng.randint(1, 3))]
            status = OrderStatus.DELIVERED if rng.random() < 0.3 else OrderStatus.CONFIRMED
            sell(card, day, *lines, currency=currency, status=status)
        if i % 6 == 1:
            orders(card, [AS_OF - dt.timedelta(days=40), AS_OF - dt.timedelta(days=400)])  # totals without lines
    for i in (30, 31, 32):  # the same single sale, no activity: the same net profit, names out of id order
        sell(cards[i], dt.date(2026, 2, 2), (products["oil"], 1, "5.00", "0"))
    sell(cards[2], AS_OF, (products["oil"], 50, "9.00", "0"), status=OrderStatus.CANCELLED)
    sell(cards[3], AS_OF, (products["oil"], 50, "9.00", "0"), approval=Approval.PENDING)
    for i, card in enumerate(cards[:24]):
        owner = users[owners[i % 3]]
        _log(owner, "visit" if i % 2 else "call", card, day=AS_OF - dt.timedelta(days=rng.randint(0, 300)))
        if i % 5 == 0:  # shared: each customer bears a third
            _log(owner, "call", card, cards[(i + 3) % 36], cards[(i + 6) % 36], day=AS_OF - dt.timedelta(days=20))
    silent = make_org(owner="rep_ana", name="Solo visitas")
    _log(users["rep_ana"], "visit", silent, day=AS_OF - dt.timedelta(days=3))
    gone = cards[4]
    sell(gone, AS_OF - dt.timedelta(days=2), (products["rice"], 4, "3.00", "0"), currency="USD")  # still the rep's sale
    gone.archived_at = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    gone.save(update_fields=["archived_at"])
    return {"cards": cards, "silent": silent}


VIEWS = [("rep_ana", {}), ("rep_ben", {}), ("manager_mei", {}), ("manager_mei", {"rep": "rep_ben"}),
         ("admin", {}), ("admin", {"rep": "rep_bo_other_team"}), ("admin", {"team": "rep_bo_other_team"}),
         ("analyst_al", {"rep": "rep_ana"})]


def _filters(users: Any, flt: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "rep" in flt:
        out["rep"] = users[flt["rep"]].pk
    if "team" in flt:
        out["team"] = users[flt["team"]].teams.get().pk
    return out


@pytest.mark.parametrize("who, flt", VIEWS)
def test_the_least_profitable_and_the_losing_from_the_snapshot_are_those_of_the_sql_report(
        users: Any, book: Any, analytics_dir: Path, who: str, flt: dict[str, str]) -> None:
    user, filters = users[who], _filters(users, flt)
    for least in (0, 1, 3, 5, 50):
        with _sql():
            expected = selectors.profitability_report(user, start=YEAR_START, end=AS_OF, least=least, **filters)
            full = selectors.profitability_report(user, start=YEAR_START, end=AS_OF, **filters)
        with _engine():
            got = selectors.profitability_report(user, start=YEAR_START, end=AS_OF, least=least, **filters)
        assert got.rows == expected.rows, (least, filters)
        assert got.losing == expected.losing == sum(1 for row in full.rows if row.net_profit < 0)
        assert got.rows == (full.rows[max(len(full.rows) - least, 0):] if least else [])
    assert full.rows and any(row.note for row in full.rows) or who == "rep_ben"


@pytest.mark.parametrize("who, flt", VIEWS)
def test_the_sales_by_month_and_by_rep_from_the_snapshot_are_those_of_the_sql_report(
        users: Any, book: Any, analytics_dir: Path, who: str, flt: dict[str, str]) -> None:
    user, filters = users[who], _filters(users, flt)
    for dimension in ("month", "rep"):
        for customers in (False, True):
            for start in (AS_OF.replace(month=1, day=1), dt.date(2025, 9, 15)):
                kwargs: dict[str, Any] = {"start": start, "end": AS_OF, "dimension": dimension, "customers": customers}
                with _sql():
                    expected = selectors.performance_report(user, **kwargs, **filters)
                with _engine():
                    got = selectors.performance_report(user, **kwargs, **filters)
                assert got == expected, (dimension, customers, start)
    assert expected.rows


@pytest.mark.parametrize("who, flt", VIEWS)
def test_the_rep_figures_from_the_snapshot_are_those_of_the_sql_report(
        users: Any, book: Any, analytics_dir: Path, who: str, flt: dict[str, str]) -> None:
    user, filters = users[who], _filters(users, flt)
    for start in (AS_OF.replace(day=1), YEAR_START):
        with _sql():
            expected = selectors.reps_report(user, start=start, end=AS_OF, **filters)
        with _engine():
            got = selectors.reps_report(user, start=start, end=AS_OF, **filters)
        assert got == expected, start
    assert any(row.revenue and row.customers for row in expected.rows)


@pytest.mark.parametrize("who, flt", [("rep_ana", {}), ("manager_mei", {}), ("manager_mei", {"rep": "rep_ana"}),
                                      ("admin", {})])
def test_the_dashboard_from_the_snapshot_is_the_dashboard_of_the_sql_reports(
        users: Any, book: Any, analytics_dir: Path, who: str, flt: dict[str, str]) -> None:
    user, filters = users[who], _filters(users, flt)
    with _sql():
        expected = dashboard.build_dashboard(user, as_of=AS_OF, **filters)
    with _engine():
        got = dashboard.build_dashboard(user, as_of=AS_OF, **filters)
    assert got == expected
    assert expected.least_profitable and expected.losing and expected.year.revenue and expected.months


def test_a_reps_profitability_and_months_read_no_order_or_line_from_the_database(
        users: Any, book: Any, analytics_dir: Path) -> None:
    rep = users["rep_ana"]
    with _engine(RAPPORT_ANALYTICS_RECHECK_SECONDS=3600):
        selectors.profitability_report(rep, start=YEAR_START, end=AS_OF, rep=rep.pk, least=5)  # the snapshot, once
        with CaptureQueriesContext(connection) as queries:
            selectors.profitability_report(rep, start=YEAR_START, end=AS_OF, rep=rep.pk, least=5)
            selectors.performance_report(rep, start=AS_OF.replace(month=1, day=1), end=AS_OF, dimension="month",
                                         rep=rep.pk, customers=False)
    read = " ".join(q["sql"] for q in queries.captured_queries)
    assert "commerce_orderline" not in read and "ordered_on" not in read
    assert "activities_participant" in read  # the cost to serve is read from the activities


def test_the_snapshot_follows_a_changed_unit_cost_and_a_new_order_line(users: Any, book: Any, sell: Any,
                                                                       products: Any, analytics_dir: Path) -> None:
    from rapport.commerce.models import OrderLine, Product

    rep = users["rep_ana"]

    def least() -> list[selectors.ProfitRow]:
        with _engine():
            found = selectors.profitability_report(rep, start=YEAR_START, end=AS_OF, rep=rep.pk, least=50).rows
        with _sql():
            assert found == selectors.profitability_report(rep, start=YEAR_START, end=AS_OF, rep=rep.pk, least=50).rows
        return found

    before = least()
    Product.objects.filter(pk=products["new"].pk).update(unit_cost=Decimal("2.25"))  # no change of updated_at
    after = least()
    assert after != before and not any("unit cost" in row.note for row in after)
    order = sell(book["cards"][0], AS_OF, (products["oil"], 1, "1.00", "0"))
    with_order = least()
    assert with_order != after
    OrderLine.objects.create(order=order, position=9, product=products["oil"], quantity=3, unit_price=Decimal("1.00"),
                             amount=Decimal("3.00"))  # a line alone: the order is not touched
    assert least() != with_order


@pytest.mark.django_db(transaction=True)  # committed rows: the scanners read through connections of their own
def test_the_database_scanner_sums_the_lines_as_the_django_copy_does(users: Any, book: Any, tmp_path: Path) -> None:
    from rapport.analytics.tests.test_engine import scanned_and_copied

    scanned, through_django = scanned_and_copied(tmp_path)
    query = "SELECT * FROM orders ORDER BY ALL"
    rows = scanned.execute(query).fetchall()
    assert rows == through_django.execute(query).fetchall()
    assert any(row[5] for row in rows) and any(row[6] for row in rows) and any(row[4] for row in rows)
