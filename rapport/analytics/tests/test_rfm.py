"""The RFM report: recency, frequency and monetary quintile scores, through the selector, API, CLI and page."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from rapport.analytics import rfm, selectors
from rapport.analytics.tests.factories import AS_OF
from rapport.commerce.tests.factories import api

pytestmark = pytest.mark.django_db

COLUMNS = ["card_id", "external_id", "name", "owner", "team", "last_order_on", "recency_days", "frequency", "monetary",
           "currency", "r", "f", "m", "score", "segment", "note"]


def _days_ago(n: int) -> dt.date:
    return AS_OF - dt.timedelta(days=n)


@pytest.fixture
def buy() -> Any:
    """Records one counted order per (day, total[, currency]) of a card."""
    from rapport.commerce.models import Order, OrderStatus

    def add(card: Any, *orders: tuple[Any, ...], **extra: Any) -> None:
        extra.setdefault("status", OrderStatus.CONFIRMED)
        Order.objects.bulk_create([
            Order(card=card, ordered_on=o[0], total=Decimal(str(o[1])), currency=o[2] if len(o) > 2 else "EUR", **extra)
            for o in orders
        ])

    return add


def _row(report: selectors.RfmReport, card: Any) -> selectors.RfmRow:
    return next(row for row in report.rows if row.card_id == card.pk)


# --- the rules, without a database ------------------------------------------------------------


def test_ten_distinct_values_score_two_customers_per_quintile() -> None:
    assert list(rfm.quintiles({i: i for i in range(10)}).values()) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert rfm.quintiles({i: i for i in range(10)}, higher_is_better=False) == {i: 5 - i // 2 for i in range(10)}


def test_equal_values_get_the_score_of_their_mid_rank() -> None:
    values = {"a": 1, "b": 2, "c": 2, "d": 3, "e": 3, "f": 3, "g": 4, "h": 5, "i": 6, "j": 8}
    assert rfm.quintiles(values) == {"a": 1, "b": 2, "c": 2, "d": 3, "e": 3, "f": 3, "g": 4, "h": 4, "i": 5, "j": 5}


def test_fewer_than_five_customers_still_get_sensible_scores() -> None:
    assert rfm.quintiles({}) == {}
    assert rfm.quintiles({"only": 7}) == {"only": 3}
    assert rfm.quintiles({"low": 1, "high": 2}) == {"low": 2, "high": 4}
    assert rfm.quintiles({"a": 1, "b": 2, "c": 3}) == {"a": 1, "b": 3, "c": 5}
    assert set(rfm.quintiles({k: 5 for k in "abcd"}).values()) == {3}  # all equal: nothing to tell apart


def test_segments_follow_the_documented_grid_of_recency_and_frequency_monetary() -> None:
    assert rfm.segment(5, 5, 4) == rfm.CHAMPIONS
    assert rfm.segment(4, 3, 3) == rfm.LOYAL
    assert rfm.segment(5, 1, 2) == rfm.NEW
    assert rfm.segment(3, 4, 5) == rfm.LOYAL
    assert rfm.segment(3, 2, 2) == rfm.NEEDS_ATTENTION
    assert rfm.segment(2, 5, 1) == rfm.AT_RISK
    assert rfm.segment(1, 2, 1) == rfm.HIBERNATING
    assert rfm.segment(5, 4, None) == rfm.CHAMPIONS  # no monetary score: F alone
    assert {rfm.segment(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in (None, 1, 2, 3, 4, 5)} == set(rfm.SEGMENTS)


def test_the_window_is_the_months_before_the_as_of_date() -> None:
    assert rfm.window_start(dt.date(2026, 6, 30)) == dt.date(2025, 7, 1)
    assert rfm.window_start(dt.date(2026, 3, 31), 1) == dt.date(2026, 3, 1)  # 2026-02-28 + 1 day
    assert rfm.window_start(dt.date(2024, 2, 29), 12) == dt.date(2023, 3, 1)


# --- through the database ---------------------------------------------------------------------

def test_quintiles_of_ten_customers_match_the_hand_computed_scores(users: Any, make_org: Any, buy: Any) -> None:
    # Customer i: last order 10 (i + 1) days ago, FREQ[i] order days a week apart, MONEY[i] in all.
    freq = [1, 2, 2, 3, 3, 3, 4, 5, 6, 8]
    money = [5000, 300, 300, 50, 700, 900, 1000, 200, 400, 100]
    cards = []
    for i in range(10):
        card = make_org(name=f"Cliente {i}")
        last = _days_ago(10 * (i + 1))
        buy(card, (last, money[i]), *[(last - dt.timedelta(days=7 * k), 0) for k in range(1, freq[i])])
        cards.append(card)
    report = selectors.rfm_report(users["rep_ana"], as_of=AS_OF)
    got = {c.pk: _row(report, c) for c in cards}
    # Recency 10…100 days, most recent best: two per quintile. Frequency and monetary have ties:
    # F values 1 | 2 2 | 3 3 3 | 4 | 5 | 6 | 8 take positions 1 | 2–3 | 4–6 | 7 | 8 | 9 | 10 and score
    # 1 + ⌊5 (mid-rank − ½) / 10⌋ = 1 | 2 | 3 | 4 | 4 | 5 | 5; M likewise with 300 twice at positions 4–5.
    expected = ["515", "523", "423", "431", "334", "334", "245", "242", "153", "151"]
    assert [got[c.pk].score for c in cards] == expected
    assert [got[c.pk].segment_key for c in cards] == [
        rfm.LOYAL, rfm.LOYAL, rfm.LOYAL, rfm.NEW, rfm.LOYAL, rfm.LOYAL, rfm.AT_RISK, rfm.AT_RISK, rfm.AT_RISK, rfm.AT_RISK]
    assert [got[c.pk].frequency for c in cards] == freq
    assert [got[c.pk].monetary for c in cards] == [Decimal(m) for m in money]
    assert got[cards[3].pk].segment == "New" and got[cards[6].pk].segment == "At risk"
    assert [row.score for row in report.rows] == sorted(expected, reverse=True)  # by R, then F, then M


def test_recency_frequency_and_monetary_count_order_days_within_the_window(users: Any, make_org: Any, buy: Any) -> None:
    card = make_org()
    buy(card,
        (dt.date(2025, 6, 30), 1000),  # the day before the window: not counted
        (dt.date(2025, 7, 1), 10),  # the window's first day
        (dt.date(2026, 3, 1), 20), (dt.date(2026, 3, 1), 30),  # two orders, one day
        (_days_ago(12), 40.5))
    row = _row(selectors.rfm_report(users["rep_ana"], as_of=AS_OF), card)
    assert (row.recency_days, row.frequency, row.monetary, row.currency) == (12, 3, Decimal("100.50"), "EUR")
    assert row.last_order_on == _days_ago(12) and row.note == ""
    short = _row(selectors.rfm_report(users["rep_ana"], as_of=AS_OF, months=1), card)
    assert (short.frequency, short.monetary) == (1, Decimal("40.50"))
    old = make_org(name="Antigua S.L.")
    buy(old, (dt.date(2024, 1, 10), 500))  # ordered, but not in the window
    row_old = _row(selectors.rfm_report(users["rep_ana"], as_of=AS_OF), old)
    assert (row_old.frequency, row_old.monetary, row_old.recency_days) == (0, Decimal("0.00"), (AS_OF - dt.date(2024, 1, 10)).days)


def test_orders_after_the_as_of_date_are_ignored(users: Any, make_org: Any, buy: Any) -> None:
    card = make_org()
    buy(card, (_days_ago(30), 100), (_days_ago(5), 999), (AS_OF + dt.timedelta(days=3), 999))
    row = _row(selectors.rfm_report(users["rep_ana"], as_of=_days_ago(10)), card)
    assert (row.recency_days, row.frequency, row.monetary) == (20, 1, Decimal("100.00"))


def test_a_future_as_of_date_answers_as_if_no_order_came_until_then(users: Any, make_org: Any, buy: Any) -> None:
    card = make_org()
    buy(card, (_days_ago(30), 100), (_days_ago(0), 50))
    row = _row(selectors.rfm_report(users["rep_ana"], as_of=AS_OF + dt.timedelta(days=200)), card)
    assert (row.recency_days, row.frequency, row.monetary) == (200, 2, Decimal("150.00"))
    later = _row(selectors.rfm_report(users["rep_ana"], as_of=AS_OF + dt.timedelta(days=400)), card)
    assert (later.recency_days, later.frequency, later.monetary) == (400, 0, Decimal("0.00"))


def test_no_orders_and_an_as_of_date_before_any_order_give_an_empty_report(users: Any, make_org: Any, buy: Any) -> None:
    empty = selectors.rfm_report(users["admin"], as_of=AS_OF)
    assert empty.rows == [] and all(n == 0 for _key, _label, n in empty.segments())
    buy(make_org(), (_days_ago(10), 100))
    assert selectors.rfm_report(users["admin"], as_of=dt.date(2000, 1, 1)).rows == []


def test_a_single_customer_is_scored_in_the_middle_without_error(users: Any, make_org: Any, buy: Any) -> None:
    card = make_org()
    buy(card, (_days_ago(3), 80))
    [row] = selectors.rfm_report(users["rep_ana"], as_of=AS_OF).rows
    assert row.card_id == card.pk and (row.r, row.f, row.m, row.score) == (3, 3, 3, "333")
    assert row.segment_key == rfm.LOYAL and (row.recency_days, row.frequency, row.monetary) == (3, 1, Decimal("80.00"))


def test_orders_in_other_currencies_are_converted_with_the_rate_valid_on_their_date(users: Any, make_org: Any, buy: Any) -> None:
    from rapport.commerce.models import ExchangeRate

    ExchangeRate.objects.create(currency="USD", valid_from=dt.date(2026, 1, 1), rate=Decimal("0.9"))
    ExchangeRate.objects.create(currency="USD", valid_from=dt.date(2026, 4, 1), rate=Decimal("0.8"))
    card = make_org()
    buy(card, (dt.date(2026, 2, 1), 100, "USD"), (dt.date(2026, 5, 1), 100, "USD"), (dt.date(2026, 5, 2), 50, "EUR"))
    row = _row(selectors.rfm_report(users["rep_ana"], as_of=AS_OF), card)
    assert row.monetary == Decimal("220.00") and row.currency == "EUR" and row.note == ""


def test_an_order_in_a_currency_without_a_rate_leaves_monetary_empty_with_a_note(users: Any, make_org: Any, buy: Any) -> None:
    pounds, euros, more = make_org(name="Pounds Ltd"), make_org(name="Euros S.A."), make_org(name="More S.A.")
    buy(pounds, (_days_ago(10), 100, "EUR"), (_days_ago(20), 1_000_000, "GBP"))
    buy(euros, (_days_ago(30), 10))
    buy(more, (_days_ago(40), 20))
    report = selectors.rfm_report(users["rep_ana"], as_of=AS_OF)
    row = _row(report, pounds)
    assert row.monetary is None and row.m is None and row.score.endswith("-") and row.frequency == 2
    assert "GBP" in row.note and "recency and frequency only" in row.note
    assert (_row(report, euros).m, _row(report, more).m) == (2, 4)  # ranked without it: two customers
    assert row.r == 5 and row.f == 5  # still scored on R and F among all three


def test_a_rep_of_another_team_does_not_see_the_other_teams_customers(users: Any, make_org: Any, buy: Any) -> None:
    north = make_org(owner="rep_ana", name="Norte S.A.")
    south = make_org(owner="rep_bo_other_team", name="Sur S.A.")
    buy(north, (_days_ago(10), 100))
    buy(south, (_days_ago(20), 200))
    assert [r.card_id for r in selectors.rfm_report(users["rep_bo_other_team"], as_of=AS_OF).rows] == [south.pk]
    assert [r.card_id for r in selectors.rfm_report(users["rep_ana"], as_of=AS_OF).rows] == [north.pk]
    body = api(users["rep_bo_other_team"]).get(f"/api/v1/reports/rfm?as_of={AS_OF}").json()
    assert [item["card_id"] for item in body["items"]] == [south.pk] and body["count"] == 1
    admin = selectors.rfm_report(users["admin"], as_of=AS_OF)
    assert {r.card_id for r in admin.rows} == {north.pk, south.pk}
    north_team = _row(admin, north).team_id
    assert [r.card_id for r in selectors.rfm_report(users["admin"], as_of=AS_OF, team=north_team).rows] == [north.pk]
    assert [r.card_id for r in selectors.rfm_report(users["admin"], as_of=AS_OF, rep=users["rep_bo_other_team"].pk).rows] == [south.pk]


def test_archived_customers_and_orders_that_do_not_count_are_left_out(users: Any, make_org: Any, buy: Any) -> None:
    from django.utils import timezone

    from rapport.commerce.models import Approval, OrderStatus

    card, archived = make_org(name="Viva S.A."), make_org(name="Archivada S.A.")
    buy(card, (_days_ago(50), 100))
    buy(card, (_days_ago(10), 999), approval=Approval.PENDING)
    buy(card, (_days_ago(5), 999), status=OrderStatus.CANCELLED)
    buy(archived, (_days_ago(5), 100))
    type(archived).objects.filter(pk=archived.pk).update(archived_at=timezone.now())
    [row] = selectors.rfm_report(users["rep_ana"], as_of=AS_OF).rows
    assert row.card_id == card.pk and (row.recency_days, row.frequency, row.monetary) == (50, 1, Decimal("100.00"))


def test_the_api_answers_items_count_as_of_and_currency_and_refuses_bad_input(users: Any, make_org: Any, buy: Any) -> None:
    recent, old = make_org(name="Reciente"), make_org(name="Antigua")
    buy(recent, (_days_ago(2), 500), (_days_ago(40), 500))
    buy(old, (_days_ago(300), 10))
    client = api(users["rep_ana"])
    body = client.get(f"/api/v1/reports/rfm?as_of={AS_OF}").json()
    assert body["count"] == 2 and body["as_of"] == AS_OF.isoformat() and body["currency"] == "EUR" and body["months"] == 12
    first = body["items"][0]
    assert set(COLUMNS) <= set(first) and first["card_id"] == recent.pk and first["score"] == "444"
    assert Decimal(first["monetary"]) == Decimal("1000") and first["segment"] == "Champions"
    assert body["segments"]["champions"] == 1 and sum(body["segments"].values()) == 2
    only = client.get(f"/api/v1/reports/rfm?as_of={AS_OF}&segment=champions").json()
    assert [i["card_id"] for i in only["items"]] == [recent.pk] and only["count"] == 1
    assert [i["card_id"] for i in client.get(f"/api/v1/reports/rfm?as_of={AS_OF}&offset=1&limit=1").json()["items"]] == [old.pk]
    assert client.get(f"/api/v1/reports/rfm?as_of={AS_OF}&months=1").json()["items"][0]["frequency"] == 1
    for bad in ("as_of=2026-02-30", "as_of=yesterday", "months=0", "months=121", "segment=whales"):
        assert client.get(f"/api/v1/reports/rfm?{bad}").status_code == 422
    assert client.get("/api/v1/reports/rfm").status_code == 200  # as of today
    assert Client().get("/api/v1/reports/rfm").status_code == 401
    assert "/api/v1/reports/rfm" in api(users["admin"]).get("/api/v1/openapi.json").json()["paths"]


def test_the_cli_writes_csv_and_xlsx_with_the_columns(users: Any, make_org: Any, buy: Any, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from rapport.audit.models import AuditEntry
    from rapport.cli import main

    card = make_org(name="=HYPERLINK(\"x\")")
    buy(card, (_days_ago(10), 123.45), (_days_ago(20), 100, "GBP"))
    buy(make_org(owner="rep_bo_other_team", name="Sur"), (_days_ago(10), 5))
    target = tmp_path / "rfm.csv"
    assert main(["analytics", "rfm", "--as-of", AS_OF.isoformat(), "--user", "rep_ana", "--output", str(target)]) == 0
    lines = target.read_text(encoding="utf-8-sig").splitlines()
    assert next(csv.reader(lines[:1])) == COLUMNS
    rows = list(csv.DictReader(lines))
    assert len(rows) == 1 and rows[0]["card_id"] == str(card.pk) and rows[0]["name"].startswith("'=")
    assert rows[0]["monetary"] == "" and rows[0]["m"] == "" and rows[0]["score"] == "33-" and "GBP" in rows[0]["note"]
    book = tmp_path / "rfm.xlsx"
    assert main(["analytics", "rfm", "--as-of", AS_OF.isoformat(), "--months", "6", "--team", "South",
                 "--output", str(book)]) == 0
    sheet = load_workbook(book).active
    assert sheet is not None
    values = list(sheet.values)
    assert list(values[0]) == COLUMNS and len(values) == 2 and values[1][COLUMNS.index("name")] == "Sur"
    assert values[1][COLUMNS.index("monetary")] == 5 and values[1][COLUMNS.index("currency")] == "EUR"
    assert AuditEntry.objects.filter(record_type="analytics.rfm").count() == 2
    assert main(["analytics", "rfm", "--output", str(tmp_path / "rfm.pdf")]) == 2
    assert main(["analytics", "rfm", "--months", "0", "--output", str(tmp_path / "x.csv")]) == 2


def test_the_page_shows_the_segment_chart_the_table_and_the_downloads(users: Any, make_org: Any, buy: Any) -> None:
    from django.urls import reverse

    top, low = make_org(name="Primera S.A."), make_org(name="Última S.A.")
    buy(top, (_days_ago(1), 900), (_days_ago(8), 900))
    buy(low, (_days_ago(200), 5))
    client = Client()
    client.force_login(users["rep_ana"])
    page = client.get(reverse("analytics-rfm"), {"as_of": AS_OF.isoformat()})
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index("Primera S.A.") < html.index("Última S.A.")
    assert "<svg" in html and "<rect" in html and "Champions" in html and "Hibernating" in html
    assert reverse("card-detail", args=[top.pk]) in html and reverse("analytics-churn") in html
    assert "analytics/rfm.csv?as_of=" in html and "analytics/rfm.xlsx?as_of=" in html
    download = client.get(reverse("analytics-rfm-csv"), {"as_of": AS_OF.isoformat()})
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert client.get(reverse("analytics-rfm-xlsx"), {"as_of": AS_OF.isoformat()}).status_code == 200
    assert client.get(reverse("analytics-rfm"), {"as_of": "not a date"}).status_code == 422
    assert client.get(reverse("analytics-rfm"), {"months": "0"}).status_code == 422
    assert Client().get(reverse("analytics-rfm")).status_code == 302


def test_segments_and_notes_are_translated(users: Any, make_org: Any, buy: Any) -> None:
    from django.utils import translation

    buy(make_org(), (_days_ago(1), 900, "GBP"))
    with translation.override("es"):
        assert selectors.rfm_segment_labels()[rfm.CHAMPIONS] == "Campeones"
        [row] = selectors.rfm_report(users["rep_ana"], as_of=AS_OF).rows
        assert row.segment == "Leales" and "GBP" in row.note and not row.note.startswith("No exchange rate")
    with translation.override("zh-hans"):
        assert selectors.rfm_segment_labels()[rfm.AT_RISK] == "有流失风险"
    with translation.override("ro"):
        assert selectors.rfm_segment_labels()[rfm.HIBERNATING] == "Inactivi"


def test_the_report_reads_a_fixed_number_of_queries_however_many_customers(users: Any, make_org: Any, buy: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        user = type(users["rep_ana"]).objects.get(pk=users["rep_ana"].pk)  # a fresh visibility scope each time
        with CaptureQueriesContext(connection) as captured:
            selectors.rfm_report(user, as_of=AS_OF)
        return len(captured)

    buy(make_org(name="One"), (_days_ago(10), 100))
    few = queries()
    for i in range(6):
        buy(make_org(name=f"More {i}"), (_days_ago(20 + i), 10 * i), (_days_ago(90), 5, "USD"))
    assert queries() == few <= 5
