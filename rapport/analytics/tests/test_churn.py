"""The churn report: each regular judged against its own rhythm, through the selector, API, CLI and page."""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from rapport.analytics import churn, selectors
from rapport.analytics.tests.factories import AS_OF, every
from rapport.commerce.tests.factories import api

pytestmark = pytest.mark.django_db

REQUIRED = {"card_id", "external_id", "orders", "first_order_on", "last_order_on", "usual_interval_days", "days_silent",
            "risk", "flagged"}


def _days_ago(n: int) -> dt.date:
    return AS_OF - dt.timedelta(days=n)


def _row(report: selectors.ChurnReport, card: Any) -> selectors.ChurnRow:
    return next(row for row in report.rows if row.card_id == card.pk)


def test_a_steady_monthly_customer_silent_for_90_days_is_flagged(users: Any, make_org: Any, orders: Any) -> None:
    card = make_org(name="Ferretería Sol")
    orders(card, every(30, count=12, last=_days_ago(90)))
    row = _row(selectors.churn_report(users["rep_ana"], as_of=AS_OF), card)
    assert row.flagged and row.days_silent == 90 and row.orders == 12 and row.purchase_days == 12
    assert row.usual_interval_days is not None and 28 <= row.usual_interval_days <= 40
    assert row.why.startswith(f"Usually orders every ~{round(row.usual_interval_days)} days; silent for 90 days")


def test_a_steady_monthly_customer_silent_for_20_days_is_not_flagged(users: Any, make_org: Any, orders: Any) -> None:
    card = make_org(name="Ferretería Luna")
    orders(card, every(30, count=12, last=_days_ago(20)))
    row = _row(selectors.churn_report(users["rep_ana"], as_of=AS_OF), card)
    assert row.scored and not row.flagged and row.risk is not None and row.risk < 0.8


def test_a_customer_that_orders_every_120_days_is_not_flagged_by_90_days_that_flag_a_monthly_one(
    users: Any, make_org: Any, orders: Any
) -> None:
    monthly, seasonal = make_org(name="Monthly S.L."), make_org(name="Seasonal S.L.")
    orders(monthly, every(30, count=12, last=_days_ago(90)))
    orders(seasonal, every(120, count=5, last=_days_ago(90)))
    report = selectors.churn_report(users["rep_ana"], as_of=AS_OF)
    assert _row(report, monthly).flagged
    slow = _row(report, seasonal)
    assert not slow.flagged and slow.days_silent == 90 and slow.usual_interval_days is not None
    assert slow.usual_interval_days > 90 and slow.flag_after_days is not None and slow.flag_after_days > 90
    assert [r.card_id for r in report.rows] == [monthly.pk, seasonal.pk]  # flagged first


def test_a_customer_with_one_purchase_occasion_is_listed_but_not_scored(users: Any, make_org: Any, orders: Any) -> None:
    card = make_org(name="Nuevo Cliente S.A.")
    orders(card, [_days_ago(200), _days_ago(200)])  # two orders on one day: one occasion
    row = _row(selectors.churn_report(users["rep_ana"], as_of=AS_OF), card)
    assert (row.orders, row.purchase_days, row.days_silent) == (2, 1, 200)
    assert not row.scored and not row.flagged and row.risk is None and row.usual_interval_days is None
    assert row.first_order_on == row.last_order_on == _days_ago(200)


def test_no_orders_and_an_as_of_date_before_any_order_give_an_empty_report(users: Any, make_org: Any, orders: Any) -> None:
    assert selectors.churn_report(users["admin"], as_of=AS_OF).rows == []
    orders(make_org(), every(30, count=6, last=_days_ago(10)))
    before = selectors.churn_report(users["admin"], as_of=dt.date(2000, 1, 1))
    assert before.rows == [] and before.flagged == 0


def test_orders_after_the_as_of_date_are_ignored(users: Any, make_org: Any, orders: Any) -> None:
    card = make_org()
    orders(card, every(30, count=12, last=_days_ago(90)))
    orders(card, [_days_ago(5), AS_OF + dt.timedelta(days=1)])
    row = _row(selectors.churn_report(users["rep_ana"], as_of=_days_ago(10)), card)
    assert row.orders == 12 and row.last_order_on == _days_ago(90) and row.days_silent == 80


def test_a_future_as_of_date_answers_as_if_no_order_came_until_then(users: Any, make_org: Any, orders: Any) -> None:
    card = make_org()
    orders(card, every(30, count=12, last=_days_ago(0)))
    row = _row(selectors.churn_report(users["rep_ana"], as_of=AS_OF + dt.timedelta(days=365)), card)
    assert row.days_silent == 365 and row.flagged


def test_orders_waiting_for_approval_and_cancelled_orders_do_not_count(users: Any, make_org: Any, orders: Any) -> None:
    from rapport.commerce.models import Approval, OrderStatus

    card = make_org()
    orders(card, every(30, count=6, last=_days_ago(100)))
    orders(card, [_days_ago(10)], approval=Approval.PENDING)
    orders(card, [_days_ago(5)], status=OrderStatus.CANCELLED)
    row = _row(selectors.churn_report(users["rep_ana"], as_of=AS_OF), card)
    assert row.orders == 6 and row.last_order_on == _days_ago(100)


def test_a_rep_of_another_team_does_not_see_the_other_teams_customers(users: Any, make_org: Any, orders: Any) -> None:
    north = make_org(owner="rep_ana", name="Norte S.A.")
    south = make_org(owner="rep_bo_other_team", name="Sur S.A.")
    orders(north, every(30, count=12, last=_days_ago(90)))
    orders(south, every(30, count=12, last=_days_ago(90)))
    assert [r.card_id for r in selectors.churn_report(users["rep_bo_other_team"], as_of=AS_OF).rows] == [south.pk]
    assert [r.card_id for r in selectors.churn_report(users["rep_ana"], as_of=AS_OF).rows] == [north.pk]
    body = api(users["rep_bo_other_team"]).get(f"/api/v1/reports/churn?as_of={AS_OF}").json()
    assert [item["card_id"] for item in body["items"]] == [south.pk] and body["count"] == 1
    admin = selectors.churn_report(users["admin"], as_of=AS_OF)
    assert {r.card_id for r in admin.rows} == {north.pk, south.pk}
    north_team = admin.rows[0].team_id if admin.rows[0].card_id == north.pk else admin.rows[1].team_id
    assert [r.card_id for r in selectors.churn_report(users["admin"], as_of=AS_OF, team=north_team).rows] == [north.pk]
    assert [r.card_id for r in selectors.churn_report(users["admin"], as_of=AS_OF, rep=users["rep_bo_other_team"].pk).rows] == [south.pk]


def test_the_api_answers_items_and_count_filters_pages_and_refuses_bad_dates(users: Any, make_org: Any, orders: Any) -> None:
    flagged, quiet, single = make_org(name="A"), make_org(name="B"), make_org(name="C")
    orders(flagged, every(30, count=12, last=_days_ago(90)))
    orders(quiet, every(30, count=12, last=_days_ago(3)))
    orders(single, [_days_ago(40)])
    client = api(users["rep_ana"])
    body = client.get(f"/api/v1/reports/churn?as_of={AS_OF}").json()
    assert body["count"] == 3 and body["flagged"] == 1 and body["as_of"] == AS_OF.isoformat()
    first = body["items"][0]
    assert REQUIRED <= set(first) and first["card_id"] == flagged.pk and first["flagged"] is True and first["why"]
    assert [i["card_id"] for i in client.get(f"/api/v1/reports/churn?as_of={AS_OF}&flagged_only=true").json()["items"]] == [flagged.pk]
    assert [i["card_id"] for i in client.get(f"/api/v1/reports/churn?as_of={AS_OF}&offset=1&limit=1").json()["items"]] == [quiet.pk]
    for bad in ("2026-02-30", "yesterday", "0001-01-01"):
        assert client.get(f"/api/v1/reports/churn?as_of={bad}").status_code == 422
    assert client.get("/api/v1/reports/churn").status_code == 200  # as of today
    assert Client().get("/api/v1/reports/churn").status_code == 401


def test_the_cli_writes_csv_and_xlsx_with_one_row_per_customer(users: Any, make_org: Any, orders: Any, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from rapport.cli import main

    card = make_org(name="=HYPERLINK(\"x\")")
    orders(card, every(30, count=12, last=_days_ago(90)))
    orders(make_org(owner="rep_bo_other_team", name="Sur"), [_days_ago(10)])
    target = tmp_path / "churn.csv"
    assert main(["analytics", "churn", "--as-of", AS_OF.isoformat(), "--user", "rep_ana", "--output", str(target)]) == 0
    rows = list(csv.DictReader(target.read_text(encoding="utf-8-sig").splitlines()))
    assert len(rows) == 1 and REQUIRED <= set(rows[0])
    assert rows[0]["card_id"] == str(card.pk) and rows[0]["flagged"] == "yes" and rows[0]["days_silent"] == "90"
    assert rows[0]["name"].startswith("'=")  # safe to open in a spreadsheet
    book = tmp_path / "churn.xlsx"
    assert main(["analytics", "churn", "--as-of", AS_OF.isoformat(), "--output", str(book)]) == 0
    sheet = load_workbook(book).active
    assert sheet is not None
    values = list(sheet.values)
    assert REQUIRED <= set(values[0]) and len(values) == 3  # the admin sees both customers
    assert main(["analytics", "churn", "--output", str(tmp_path / "churn.pdf")]) == 2


def test_the_page_lists_flagged_customers_first_with_why_and_downloads(users: Any, make_org: Any, orders: Any) -> None:
    from django.urls import reverse

    flagged, quiet = make_org(name="Silenciosa S.A."), make_org(name="Activa S.A.")
    orders(flagged, every(30, count=12, last=_days_ago(90)))
    orders(quiet, every(30, count=12, last=_days_ago(3)))
    client = Client()
    client.force_login(users["rep_ana"])
    page = client.get(reverse("analytics-churn"), {"as_of": AS_OF.isoformat()})
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index("Silenciosa S.A.") < html.index("Activa S.A.")
    assert reverse("card-detail", args=[flagged.pk]) in html and "Usually orders every" in html and "<meter" in html
    assert "analytics/churn.csv?as_of=" in html and "analytics/churn.xlsx?as_of=" in html
    download = client.get(reverse("analytics-churn-csv"), {"as_of": AS_OF.isoformat()})
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert client.get(reverse("analytics-churn-xlsx"), {"as_of": AS_OF.isoformat()}).status_code == 200
    assert client.get(reverse("analytics-churn"), {"as_of": "not a date"}).status_code == 422
    assert Client().get(reverse("analytics-churn")).status_code == 302


def test_the_prior_is_learned_from_the_population_by_maximum_likelihood() -> None:
    rng = random.Random(7)
    pairs = []
    for _ in range(3000):
        rate = rng.gammavariate(2.5, 1 / 60)  # shape 2.5, rate 60 days
        n = rng.randint(1, 8)
        pairs.append((n, max(1, round(sum(rng.expovariate(rate) for _ in range(n))))))
    prior = churn.fit_prior(pairs)
    assert prior.fitted and abs(prior.r - 2.5) < 0.4 and abs(math.log(prior.alpha / 60)) < 0.2
    assert not churn.fit_prior(pairs[:5]).fitted  # too few customers: the weak prior


def test_the_alert_level_comes_from_the_setting(settings: Any, users: Any, make_org: Any, orders: Any) -> None:
    card = make_org()
    orders(card, every(30, count=12, last=_days_ago(45)))
    assert not _row(selectors.churn_report(users["rep_ana"], as_of=AS_OF), card).flagged
    settings.RAPPORT_CHURN_ALERT = 0.5
    row = _row(selectors.churn_report(users["rep_ana"], as_of=AS_OF), card)
    assert row.flagged and row.risk is not None and row.risk >= 0.5


def test_the_report_reads_a_fixed_number_of_queries_however_many_customers(
    users: Any, make_org: Any, orders: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        user = type(users["rep_ana"]).objects.get(pk=users["rep_ana"].pk)  # a fresh visibility scope each time
        with CaptureQueriesContext(connection) as captured:
            selectors.churn_report(user, as_of=AS_OF)
        return len(captured)

    orders(make_org(name="One"), every(30, count=4, last=_days_ago(10)))
    few = queries()
    for i in range(5):
        orders(make_org(name=f"More {i}"), every(20, count=6, last=_days_ago(50)))
    assert queries() == few <= 4


def test_the_openapi_document_describes_the_churn_report(users: Any) -> None:
    schema = api(users["admin"]).get("/api/v1/openapi.json").json()
    assert "/api/v1/reports/churn" in schema["paths"]
