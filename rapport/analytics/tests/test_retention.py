"""Persistence: retention by cohort of first-order month, through the rules, selector, API, CLI and page."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from rapport.analytics import retention, selectors
from rapport.analytics.tests.factories import AS_OF
from rapport.commerce.tests.factories import api

D = dt.date
COLUMNS = ["cohort", "cohort_customers", "month_offset", "month", "customers", "share", "loyalty"]

# As of 2026-06-30 with 12 cohorts (July 2025 to June 2026). Hand-checked:
#   January 2026: a, b, c, d (4). Feb: a → 1/4; Mar: b → 1/4; Apr: a → 1/4; May: nobody → 0; Jun: d → 1/4.
#     Loyalty (an order from 2026-03-31 on): a and d → 2/4. Repeaters: a, b, d.
#   April 2026: e (1). Apr 1/1, May 1/1, Jun 0/1, then three months not yet elapsed.
#   June 2026: f (1), whose July order comes after the as-of date. Jun 1/1, then five blanks.
#   g first ordered in May 2024: an older cohort, not shown.
# Repeat rate: a, b, d, e of the six → 4/6.
ORDERS = {
    "a": [D(2026, 1, 5), D(2026, 1, 20), D(2026, 2, 10), D(2026, 4, 3)],
    "b": [D(2026, 1, 15), D(2026, 3, 1)],
    "c": [D(2026, 1, 31)],
    "d": [D(2026, 1, 10), D(2026, 6, 30)],
    "e": [D(2026, 4, 10), D(2026, 5, 10)],
    "f": [D(2026, 6, 1), D(2026, 7, 2)],
    "g": [D(2024, 5, 1), D(2026, 2, 1)],
}


def _rows(orders: dict[str, list[dt.date]]) -> list[tuple[str, dt.date]]:
    return [(key, day) for key, days in orders.items() for day in days]


def _shares(cohort: retention.Cohort[Any]) -> list[float | None]:
    return [None if cell is None else cell.share for cell in cohort.cells]


# --- the rules, without a database ------------------------------------------------------------


def test_customers_are_grouped_by_the_month_of_their_first_order() -> None:
    report = retention.retention(_rows(ORDERS), as_of=AS_OF)
    assert [c.month for c in report.cohorts] == [D(2026, 1, 1), D(2026, 4, 1), D(2026, 6, 1)]
    assert [c.size for c in report.cohorts] == [4, 1, 1]
    assert report.cohorts[0].members == frozenset("abcd")
    assert report.customers == 6 and report.width == 6  # January to June: offsets 0..5


def test_each_month_offset_holds_the_share_of_the_cohort_that_ordered_that_month() -> None:
    january, april, june = retention.retention(_rows(ORDERS), as_of=AS_OF).cohorts
    assert [c.customers for c in january.cells if c] == [4, 1, 1, 1, 0, 1]
    assert _shares(january) == [1.0, 0.25, 0.25, 0.25, 0.0, 0.25]
    assert [c.month for c in january.cells if c] == [D(2026, m, 1) for m in range(1, 7)]
    assert _shares(april)[:3] == [1.0, 1.0, 0.0]  # June elapsed without an order: a zero


def test_months_that_have_not_elapsed_yet_are_blanks_not_zeros() -> None:
    _january, april, june = retention.retention(_rows(ORDERS), as_of=AS_OF).cohorts
    assert _shares(april) == [1.0, 1.0, 0.0, None, None, None]
    assert _shares(june) == [1.0, None, None, None, None, None]


def test_orders_after_the_as_of_date_are_ignored() -> None:
    report = retention.retention(_rows(ORDERS), as_of=AS_OF)
    june = report.cohorts[-1]
    assert june.repeaters == 0 and june.cells[0] is not None and june.cells[0].customers == 1
    earlier = retention.retention(_rows(ORDERS), as_of=D(2026, 3, 15))
    assert [c.month for c in earlier.cohorts] == [D(2026, 1, 1)] and earlier.width == 3
    assert _shares(earlier.cohorts[0]) == [1.0, 0.25, 0.25]  # b's order of 1 March counts, a's of April not
    assert earlier.cohorts[0].repeaters == 2  # a and b by then; d's second order comes in June


def test_loyalty_is_the_share_of_each_cohort_that_ordered_in_the_last_three_months() -> None:
    report = retention.retention(_rows(ORDERS), as_of=AS_OF)
    assert report.recent_start == D(2026, 3, 31)  # the day after 2026-03-30 (RFM's window rule)
    assert [(c.active_recent, c.loyalty) for c in report.cohorts] == [(2, 0.5), (1, 1.0), (1, 1.0)]


def test_the_repeat_rate_is_compared_with_the_same_report_a_year_earlier() -> None:
    report = retention.retention(_rows(ORDERS), as_of=AS_OF)
    assert (report.repeaters, report.repeat_rate) == (4, 4 / 6)
    assert report.previous_as_of == D(2025, 6, 30)
    assert report.previous_repeat_rate is None and report.repeat_change is None  # nobody in July 2024 – June 2025
    # h (August 2024) ordered again before 2025-06-30, i (February 2025) only after it: 1 of 2 a year earlier.
    more = {**ORDERS, "h": [D(2024, 8, 1), D(2025, 3, 1)], "i": [D(2025, 2, 1), D(2025, 9, 1)]}
    report = retention.retention(_rows(more), as_of=AS_OF)
    assert report.repeat_rate == 4 / 6 and report.previous_repeat_rate == 0.5
    assert report.repeat_change == pytest.approx(1 / 6)


def test_no_data_and_an_as_of_date_before_any_order_give_an_empty_report() -> None:
    for report in (retention.retention([], as_of=AS_OF), retention.retention(_rows(ORDERS), as_of=D(2020, 1, 1))):
        assert report.cohorts == () and report.width == 0 and report.customers == 0
        assert report.repeat_rate is None and report.repeat_change is None


def test_the_grid_stops_twenty_four_months_after_the_oldest_cohort() -> None:
    rows = [("old", D(2023, 9, 15)), ("old", D(2025, 9, 10)), ("old", D(2026, 6, 1))]
    [cohort] = retention.retention(rows, as_of=AS_OF, cohorts=36).cohorts
    assert len(cohort.cells) == 25 and all(cell is not None for cell in cohort.cells)
    assert cohort.cells[24] is not None and (cohort.cells[24].month, cohort.cells[24].customers) == (D(2025, 9, 1), 1)
    assert sum(cell.customers for cell in cohort.cells if cell) == 2  # the June 2026 order is beyond the grid
    assert retention.retention(rows, as_of=AS_OF, cohorts=12).cohorts == ()
    with pytest.raises(ValueError):
        retention.retention(rows, as_of=AS_OF, cohorts=37)


def test_shares_fall_into_ten_shades_and_nobody_into_shade_zero() -> None:
    assert [retention.shade(s) for s in (0, 0.01, 0.1, 0.25, 0.3, 0.5, 0.99, 1.0)] == [0, 1, 1, 3, 3, 5, 10, 10]


# --- through the database ---------------------------------------------------------------------


@pytest.fixture
def shop(make_org: Any, orders: Any) -> dict[str, Any]:
    """The customers of ORDERS, owned by rep_ana (team North), one counted order per day listed."""
    cards = {}
    for key, days in ORDERS.items():
        cards[key] = make_org(name=f"Cliente {key}")
        orders(cards[key], days)
    return cards


@pytest.mark.django_db
def test_the_report_counts_the_visible_customers_cohorts_as_by_hand(users: Any, shop: dict[str, Any], orders: Any) -> None:
    from rapport.commerce.models import OrderStatus

    orders(shop["c"], [D(2026, 5, 5)], status=OrderStatus.CANCELLED)  # does not count
    report = selectors.retention_report(users["rep_ana"], as_of=AS_OF)
    assert [(c.month, c.size) for c in report.cohorts] == [(D(2026, 1, 1), 4), (D(2026, 4, 1), 1), (D(2026, 6, 1), 1)]
    assert _shares(report.cohorts[0]) == [1.0, 0.25, 0.25, 0.25, 0.0, 0.25]
    assert _shares(report.cohorts[1]) == [1.0, 1.0, 0.0, None, None, None]
    assert report.cohorts[0].members == frozenset(shop[k].pk for k in "abcd")
    assert report.repeat_rate == 4 / 6


@pytest.mark.django_db
def test_archived_customers_are_left_out(users: Any, shop: dict[str, Any]) -> None:
    from django.utils import timezone

    type(shop["e"]).objects.filter(pk=shop["e"].pk).update(archived_at=timezone.now())
    report = selectors.retention_report(users["rep_ana"], as_of=AS_OF)
    assert [(c.month, c.size) for c in report.cohorts] == [(D(2026, 1, 1), 4), (D(2026, 6, 1), 1)]


@pytest.mark.django_db
def test_a_rep_of_another_team_sees_no_cohort_of_the_other_team(users: Any, shop: dict[str, Any]) -> None:
    assert selectors.retention_report(users["rep_bo_other_team"], as_of=AS_OF).cohorts == ()
    body = api(users["rep_bo_other_team"]).get(f"/api/v1/reports/persistence?as_of={AS_OF}").json()
    assert body["cohorts"] == [] and body["customers"] == 0 and body["repeat_rate"] is None
    north = shop["a"].team_id
    assert selectors.retention_report(users["admin"], as_of=AS_OF, team=north).customers == 6
    assert selectors.retention_report(users["admin"], as_of=AS_OF, rep=users["rep_bo_other_team"].pk).cohorts == ()


@pytest.mark.django_db
def test_the_api_answers_cohorts_with_their_rows_and_refuses_bad_input(users: Any, shop: dict[str, Any]) -> None:
    client = api(users["rep_ana"])
    body = client.get(f"/api/v1/reports/persistence?as_of={AS_OF}").json()
    assert body["as_of"] == AS_OF.isoformat() and body["width"] == 6 and body["customers"] == 6
    assert body["repeat_rate"] == 0.6667 and body["previous_as_of"] == "2025-06-30" and body["repeat_change"] is None
    january, april, _june = body["cohorts"]
    assert (january["cohort"], january["customers"], january["loyalty"], january["active_recent"]) == ("2026-01", 4, 0.5, 2)
    assert [row["share"] for row in january["rows"]] == [1.0, 0.25, 0.25, 0.25, 0.0, 0.25]
    assert april["rows"][3] == {"offset": 3, "month": "2026-07-01", "customers": None, "share": None}
    assert [c["cohort"] for c in client.get(f"/api/v1/reports/persistence?as_of={AS_OF}&cohorts=3").json()["cohorts"]] == [
        "2026-04", "2026-06"]
    for bad in ("as_of=2026-02-30", "cohorts=0", "cohorts=37", "team=0"):
        assert client.get(f"/api/v1/reports/persistence?{bad}").status_code == 422
    assert client.get("/api/v1/reports/persistence").status_code == 200  # as of today
    assert Client().get("/api/v1/reports/persistence").status_code == 401
    assert "/api/v1/reports/persistence" in api(users["admin"]).get("/api/v1/openapi.json").json()["paths"]


@pytest.mark.django_db
def test_the_cli_writes_one_row_per_cohort_and_month_offset_as_csv_and_xlsx(users: Any, shop: dict[str, Any],
                                                                           tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from rapport.audit.models import AuditEntry
    from rapport.cli import main

    target = tmp_path / "persistence.csv"
    assert main(["analytics", "persistence", "--as-of", AS_OF.isoformat(), "--user", "rep_ana",
                 "--output", str(target)]) == 0
    lines = target.read_text(encoding="utf-8-sig").splitlines()
    assert next(csv.reader(lines[:1])) == COLUMNS
    rows = list(csv.DictReader(lines))
    assert len(rows) == 3 * 6
    assert rows[1] == {"cohort": "2026-01", "cohort_customers": "4", "month_offset": "1", "month": "2026-02",
                       "customers": "1", "share": "0.25", "loyalty": "0.5"}
    assert rows[6 + 2]["customers"] == "0" and rows[6 + 3]["customers"] == "" and rows[6 + 3]["share"] == ""
    book = tmp_path / "persistence.xlsx"
    assert main(["analytics", "persistence", "--as-of", AS_OF.isoformat(), "--cohorts", "1", "--team", "North",
                 "--output", str(book)]) == 0
    sheet = load_workbook(book).active
    assert sheet is not None
    values = list(sheet.values)
    assert list(values[0]) == COLUMNS and values[1:] == [("2026-06", 1, 0, "2026-06", 1, 1, 1)]
    assert AuditEntry.objects.filter(record_type="analytics.persistence").count() == 2
    assert main(["analytics", "persistence", "--output", str(tmp_path / "p.pdf")]) == 2
    assert main(["analytics", "persistence", "--cohorts", "0", "--output", str(tmp_path / "p.csv")]) == 2


@pytest.mark.django_db
def test_the_page_shows_the_heat_map_the_downloads_and_the_other_reports(users: Any, shop: dict[str, Any]) -> None:
    from django.urls import reverse

    client = Client()
    client.force_login(users["rep_ana"])
    page = client.get(reverse("analytics-retention"), {"as_of": AS_OF.isoformat()})
    assert page.status_code == 200
    html = page.content.decode()
    assert "retention-scroll" in html and "ret-cell ret-10" in html and "ret-cell ret-3" in html
    assert html.count("ret-blank") == 3 + 5 and " style=" not in html
    assert "67 %" in html and "25 %" in html and "50 %" in html  # repeat rate, a January cell, January's loyalty
    assert "analytics/retention.csv?as_of=" in html and "analytics/retention.xlsx?as_of=" in html
    assert reverse("analytics-churn") in html and reverse("analytics-rfm") in html
    assert reverse("analytics-retention") in client.get(reverse("analytics-churn")).content.decode()
    download = client.get(reverse("analytics-retention-csv"), {"as_of": AS_OF.isoformat()})
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert client.get(reverse("analytics-retention-xlsx"), {"as_of": AS_OF.isoformat()}).status_code == 200
    assert client.get(reverse("analytics-retention"), {"cohorts": "0"}).status_code == 422
    assert client.get(reverse("analytics-retention"), {"as_of": "not a date"}).status_code == 422
    empty = client.get(reverse("analytics-retention"), {"as_of": "2020-01-01"}).content.decode()
    assert "No customer you can see had a counted order by this date." in empty and "retention-table" not in empty
    assert Client().get(reverse("analytics-retention")).status_code == 302


@pytest.mark.django_db
def test_the_page_is_translated(users: Any, shop: dict[str, Any]) -> None:
    from django.urls import reverse
    from django.utils import translation

    client = Client()
    client.force_login(users["rep_ana"])
    for language, title in (("es", "Persistencia"), ("zh-hans", "留存"), ("ro", "Persistență")):
        with translation.override(language):
            html = client.get(reverse("analytics-retention"), {"as_of": AS_OF.isoformat()},
                              HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert title in html and "Persistence: retention by cohort" not in html


@pytest.mark.django_db
def test_the_report_reads_a_fixed_number_of_queries_however_many_customers(users: Any, make_org: Any,
                                                                          orders: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        user = type(users["rep_ana"]).objects.get(pk=users["rep_ana"].pk)  # a fresh visibility scope each time
        with CaptureQueriesContext(connection) as captured:
            selectors.retention_report(user, as_of=AS_OF)
        return len(captured)

    orders(make_org(name="One"), [D(2026, 1, 5)])
    few = queries()
    for i in range(6):
        orders(make_org(name=f"More {i}"), [D(2026, 2, 1 + i), D(2026, 5, 1 + i)])
    assert queries() == few <= 5
