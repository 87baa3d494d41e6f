"""The dashboard's cheap reads give the full reports' answers: the least profitable rows alone are
the full report's last rows, sums per exchange-rate period convert as sums per day, the monthly
figures without buying customers keep their sums, and a rep's own figures are read from the rep's
cards and work without losing a visible card or showing a hidden one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from rapport.analytics import dashboard, selectors
from rapport.analytics.tests.factories import AS_OF

pytestmark = pytest.mark.django_db

START = dt.date(2025, 7, 1)


def _log(user: Any, kind: str, *cards: Any, day: dt.date = dt.date(2026, 6, 3)) -> None:
    from rapport.activities.services import log_activity

    log_activity(user=user, data={"kind": kind, "summary": f"{kind} test", "cards": [c.pk for c in cards],
                                  "occurred_at": f"{day.isoformat()}T10:00:00+00:00"})


@pytest.fixture
def customers(users: Any, make_org: Any, sell: Any, products: Any) -> dict[str, Any]:
    """rep_ana's customers with ties in net profit (same sale, names out of id order), two losing
    ones, one with no sale and a visit; rep_ben and rep_bo_other_team one each."""
    made: dict[str, Any] = {}
    for name in ("Zeta", "alfa", "Beta", "Delta", "gamma"):  # the same net profit: the name breaks the tie
        made[name] = make_org(owner="rep_ana", name=name)
        sell(made[name], dt.date(2026, 3, 1), (products["oil"], 1, "7.00", "0"))
    made["big"] = make_org(owner="rep_ana", name="Grande")
    sell(made["big"], dt.date(2026, 4, 1), (products["rice"], 100, "3.00", "0"))
    made["visited"] = make_org(owner="rep_ana", name="Visitado")
    _log(users["rep_ana"], "visit", made["visited"])
    made["costly"] = make_org(owner="rep_ana", name="Costoso")
    sell(made["costly"], dt.date(2026, 5, 1), (products["oil"], 1, "7.00", "0"))
    _log(users["rep_ana"], "visit", made["costly"])
    made["ben"] = make_org(owner="rep_ben", name="De Ben")
    sell(made["ben"], dt.date(2026, 5, 2), (products["oil"], 1, "7.00", "0"))
    made["bo"] = make_org(owner="rep_bo_other_team", name="De Bo")
    sell(made["bo"], dt.date(2026, 5, 2), (products["oil"], 1, "7.00", "0"))
    return made


@pytest.mark.parametrize("who, rep", [("rep_ana", "rep_ana"), ("manager_mei", None), ("manager_mei", "rep_ana"),
                                      ("admin", None), ("admin", "rep_bo_other_team")])
@pytest.mark.parametrize("least", [0, 1, 3, 5, 50])
def test_the_least_profitable_rows_alone_are_the_last_rows_of_the_full_report(
        users: Any, customers: Any, who: str, rep: str | None, least: int) -> None:
    rep_id = users[rep].pk if rep else None
    full = selectors.profitability_report(users[who], start=START, end=AS_OF, rep=rep_id)
    few = selectors.profitability_report(users[who], start=START, end=AS_OF, rep=rep_id, least=least)
    assert few.rows == (full.rows[len(full.rows) - least:] if least else [])
    assert few.losing == full.losing == sum(1 for row in full.rows if row.net_profit < 0)
    assert few.losing == (0 if rep == "rep_bo_other_team" else 2)
    assert few.tiers == [] and full.tiers and few.currency == full.currency


def test_the_dashboard_lists_the_same_least_profitable_and_losing_as_the_full_report(users: Any, customers: Any) -> None:
    full = selectors.profitability_report(users["rep_ana"], start=selectors.year_before(AS_OF), end=AS_OF,
                                          rep=users["rep_ana"].pk)
    board = dashboard.build_dashboard(users["rep_ana"], as_of=AS_OF)
    expected = sorted(full.rows[-dashboard.LEAST_PROFITABLE:], key=lambda row: (row.net_profit, row.card_id))
    assert board.least_profitable == expected
    assert board.least_profitable[0].card_id in (customers["visited"].pk, customers["costly"].pk)
    assert board.losing == 2


def test_sums_per_exchange_rate_period_convert_as_sums_per_day(users: Any, make_org: Any, sell: Any,
                                                               products: Any) -> None:
    from rapport.commerce.models import ExchangeRate

    for day, rate in ((dt.date(2025, 1, 1), "0.50"), (dt.date(2026, 1, 1), "0.80"), (dt.date(2026, 4, 1), "0.90")):
        ExchangeRate.objects.create(currency="USD", valid_from=day, rate=Decimal(rate))
    card = make_org()
    for day, price in ((dt.date(2025, 12, 31), "10.00"), (dt.date(2026, 1, 1), "20.00"), (dt.date(2026, 3, 31), "40.00"),
                       (dt.date(2026, 4, 1), "100.00"), (dt.date(2026, 6, 30), "1000.00")):
        sell(card, day, (products["oil"], 1, price, "10"), currency="USD")
    sell(card, dt.date(2026, 2, 1), (products["oil"], 1, "5.00", "0"))  # the reporting currency
    row = selectors.profitability_report(users["rep_ana"], start=START, end=AS_OF, rep=users["rep_ana"].pk).rows[0]
    # 90% of each price at the rate of its day: 9 × 0.5 + (18 + 36) × 0.8 + (90 + 900) × 0.9, and 5 euros.
    assert row.revenue == Decimal("4.50") + Decimal("43.20") + Decimal("891.00") + Decimal("5.00")
    assert row.discounts == Decimal("0.50") + Decimal("4.80") + Decimal("99.00") and row.orders == 6


def test_the_monthly_figures_without_buying_customers_keep_every_sum(users: Any, customers: Any) -> None:
    start = AS_OF.replace(month=1, day=1)
    for who, rep in (("rep_ana", "rep_ana"), ("manager_mei", None), ("admin", None)):
        rep_id = users[rep].pk if rep else None
        for dimension in ("month", "rep"):
            full = selectors.performance_report(users[who], start=start, end=AS_OF, dimension=dimension, rep=rep_id)
            lean = selectors.performance_report(users[who], start=start, end=AS_OF, dimension=dimension, rep=rep_id,
                                                customers=False)
            strip = [(r.key, r.revenue, r.previous_revenue, r.orders, r.previous_orders) for r in full.export_rows()]
            assert strip == [(r.key, r.revenue, r.previous_revenue, r.orders, r.previous_orders)
                             for r in lean.export_rows()]
            assert all(r.customers == 0 for r in lean.export_rows()) and full.total.customers > 0


def test_a_reps_work_counts_calls_to_visible_cards_of_others_and_never_to_hidden_ones(users: Any, make_org: Any) -> None:
    ana = users["rep_ana"]
    own = make_org(owner="rep_ana", name="Propio")
    teammate = make_org(owner="rep_ben", name="Del Equipo")  # same team: visible to Ana
    hidden = make_org(owner="rep_bo_other_team", name="Oculto")  # another team: not visible to Ana
    _log(ana, "call", own)
    _log(ana, "call", teammate)
    # A call she logged before the card left her sight (logging refuses a card she cannot see).
    from django.utils import timezone

    from rapport.activities.models import Activity, Participant

    call = Activity.objects.create(kind="call", summary="Llamada", recorded_by=ana,
                                   occurred_at=timezone.make_aware(dt.datetime(2026, 6, 4, 10)))
    Participant.objects.create(activity=call, card=hidden)
    start = AS_OF.replace(day=1)
    mine = selectors.reps_report(ana, start=start, end=AS_OF, rep=ana.pk).rows
    assert [(r.rep_id, r.new_customer_calls) for r in mine] == [(ana.pk, 2)]
    admin = selectors.reps_report(users["admin"], start=start, end=AS_OF, rep=ana.pk).rows
    assert [(r.rep_id, r.new_customer_calls) for r in admin] == [(ana.pk, 3)]
    board = dashboard.build_dashboard(ana, as_of=AS_OF)
    assert board.activity.new_customer_calls == 2


def test_a_report_of_more_customers_than_a_list_of_ids_holds_reads_them_with_the_visible_cards(
        users: Any, customers: Any, monkeypatch: Any) -> None:
    by_id = selectors.profitability_report(users["manager_mei"], start=START, end=AS_OF)
    monkeypatch.setattr(selectors, "PROFIT_IDS_MAX", 1)
    assert selectors.profitability_report(users["manager_mei"], start=START, end=AS_OF) == by_id
    few = selectors.profitability_report(users["manager_mei"], start=START, end=AS_OF, least=2)
    assert few.rows == by_id.rows[-2:] and few.losing == by_id.losing == 2
