"""Today reads only what it shows: each feed answers a window (every line from today on, the
oldest overdue lines, a count of the others), the counts stay right, a feed that knows no
windows still works, and the API answers the same lines as the page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rapport.agenda import selectors
from rapport.core import extensions
from rapport.core.extensions import AgendaEntry, AgendaFeed, AgendaWindow


def _day(offset: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=offset)


@pytest.fixture
def every_feed_busy(users: Any, make_org: Any) -> Any:
    """rep_ana with something in each feed: overdue, due today, coming and undated lines."""
    from rapport.cards.models import Card
    from rapport.commerce.services import create_invoice
    from rapport.deals.models import Deal
    from rapport.deals.services import create_deal
    from rapport.funnel.services import set_qualification
    from rapport.visits.services import add_promise, create_visit

    ana = users["rep_ana"]
    org = make_org(name="Busy Buyer S.A.")
    for offset in (-30, -12, -3, 0, 4):
        create_invoice(user=ana, card=org, data={"currency": "EUR", "amount": "100.00", "issued_on": _day(offset - 30).isoformat(),
                                                 "due_on": _day(offset).isoformat()})
    for offset in (-20, -2, 1):
        add_promise(user=ana, card=org, data={"by": "us", "text": f"Promise {offset}", "due_on": _day(offset).isoformat()})
    add_promise(user=ana, card=org, data={"by": "them", "text": "Some day"})
    create_visit(user=ana, data={"organization": org.pk, "date": _day(2).isoformat()})
    late = create_deal(user=ana, data={"organization": org.pk, "name": "Late and stalled", "currency": "EUR", "amount": "10",
                                       "expected_close": _day(-5).isoformat()})
    Deal.objects.filter(pk=late.pk).update(step_entered_at=timezone.now() - dt.timedelta(days=60))
    create_deal(user=ana, data={"organization": org.pk, "name": "Coming", "currency": "EUR", "amount": "10",
                                "expected_close": _day(3).isoformat()})
    for n, offset in enumerate((-9, 0, 5)):
        prospect = make_org(name=f"Parked {n}")
        Card.objects.filter(pk=prospect.pk).update(lifecycle_stage="prospect")
        prospect.refresh_from_db()
        set_qualification(user=ana, card=prospect, data={"check_back_on": _day(offset).isoformat()})
    return org


def test_each_feeds_window_holds_the_same_lines_as_its_entries(users: Any, every_feed_busy: Any) -> None:
    ana = users["rep_ana"]
    until = _day(7)
    wide = AgendaWindow(today=timezone.localdate(), until=until, overdue_shown=1000)
    for feed in extensions.agenda_feeds():
        assert feed.page is not None, feed.key
        page = feed.window(ana, ana, wide)
        assert page.overdue_unread == 0
        assert sorted(e.key for e in page.entries) == sorted(e.key for e in feed.entries(ana, ana, until)), feed.key


def test_a_feeds_window_reads_the_oldest_overdue_lines_and_counts_the_others(users: Any, every_feed_busy: Any) -> None:
    ana = users["rep_ana"]
    today = timezone.localdate()
    narrow = AgendaWindow(today=today, until=_day(7), overdue_shown=1)
    feeds = {feed.key: feed.window(ana, ana, narrow) for feed in extensions.agenda_feeds()}
    receivables = feeds["commerce"]
    late = [e for e in receivables.entries if e.due_on < today]
    assert [e.due_on for e in late] == [_day(-30)] and receivables.overdue_unread == 2
    assert sorted(e.due_on for e in receivables.entries if e.due_on >= today) == [_day(0), _day(4)]
    promises = feeds["visits"]
    assert [e.why for e in promises.entries if e.due_on and e.due_on < today] == ["Promise -20"] and promises.overdue_unread == 1
    assert {e.why for e in promises.entries if e.due_on is None} == {"Some day"}
    deals = feeds["deals"]
    assert {e.key.split(":")[0] for e in deals.entries} == {"deals.close", "deals.stalled"} and deals.overdue_unread == 0
    assert [e.due_on for e in feeds["funnel.check_back"].entries if e.due_on < today] == [_day(-9)]


def test_the_overdue_count_adds_every_feeds_lines_not_read(ana: Client, users: Any, every_feed_busy: Any) -> None:
    everything = selectors.today_of(users["rep_ana"])
    cut = selectors.today_of(users["rep_ana"], overdue_shown=2)
    assert everything.overdue_total == len(everything.overdue) == 7  # 3 invoices, 2 promises, 1 deal's close, 1 check-back
    assert cut.overdue_total == 7 and [i.key for i in cut.overdue] == [i.key for i in everything.overdue[:2]]
    assert [i.key for i in cut.due_today] == [i.key for i in everything.due_today]
    assert [i.key for d in cut.upcoming for i in d.items] == [i.key for d in everything.upcoming for i in d.items]


def test_the_oldest_overdue_lines_are_shown_whichever_source_they_come_from(ana: Client, users: Any, make_org: Any, task: Any) -> None:
    from rapport.commerce.models import Invoice

    org = make_org(name="Slow Payer S.A.")
    for n in range(20):
        task(title=f"Late task {n:02d}", due_on=_day(-25 + n).isoformat())  # from 25 to 6 days ago
    Invoice.objects.bulk_create([
        Invoice(card=org, currency="EUR", issued_on=_day(-90), due_on=_day(-60 + n), amount=Decimal(10), open_amount=Decimal(10),
                is_open=True, owner_id=org.owner_id, team_id=org.team_id)
        for n in range(15)])  # from 60 to 46 days ago: older than every task
    html = ana.get("/today/").content.decode()
    assert '<span class="count">35</span>' in html and "Show 5 more overdue" in html
    assert "Late task 14" in html and "Late task 15" not in html
    assert "Late task 19" in ana.get("/today/?all=1").content.decode()


def test_a_feed_that_knows_no_windows_is_still_cut_and_counted(ana: Client, users: Any, monkeypatch: Any) -> None:
    today = timezone.localdate()

    def old_style(viewer: Any, owner: Any, until: Any) -> list[AgendaEntry]:
        return [AgendaEntry(key=f"old:{n}", due_on=today - dt.timedelta(days=40 - n), title=f"Old line {n:02d}") for n in range(34)] + [
            AgendaEntry(key="old:today", due_on=None, title="Undated line")]

    monkeypatch.setitem(extensions._agenda_feeds, "old", AgendaFeed(key="old", label="Old", entries=old_style))
    agenda = selectors.today_of(users["rep_ana"], overdue_shown=30)
    assert agenda.overdue_total == 34 and len(agenda.overdue) == 30 and agenda.overdue[-1].title == "Old line 29"
    assert [i.title for i in agenda.due_today] == ["Undated line"]
    html = ana.get("/today/").content.decode()
    assert "Show 4 more overdue" in html and "Old line 29" in html and "Old line 30" not in html


def test_the_api_answers_the_lines_of_the_page_and_counts_the_rest(ana: Client, task: Any) -> None:
    for n in range(33):
        task(title=f"Late {n:02d}", due_on=_day(-40 + n).isoformat())
    task(title="Today's call", due_on=_day(0).isoformat())
    cut = ana.get("/api/v1/agenda/today?overdue_limit=30").json()
    assert cut["overdue_total"] == 33 and [i["title"] for i in cut["overdue"]] == [f"Late {n:02d}" for n in range(30)]
    assert [i["title"] for i in cut["due_today"]] == ["Today's call"]
    whole = ana.get("/api/v1/agenda/today").json()
    assert whole["overdue_total"] == len(whole["overdue"]) == 33
    assert ana.get("/api/v1/agenda/today?overdue_limit=-1").status_code == 422
    assert ana.get("/api/v1/agenda/today?overdue_limit=many").status_code == 422


def test_a_feed_window_shows_and_counts_nothing_a_viewer_may_not_see(users: Any, every_feed_busy: Any) -> None:
    window = AgendaWindow(today=timezone.localdate(), until=_day(7), overdue_shown=1)
    for feed in extensions.agenda_feeds():
        page = feed.window(users["rep_bo_other_team"], users["rep_ana"], window)
        assert not page.entries and page.overdue_unread == 0, feed.key
        assert feed.window(users["manager_mei"], users["rep_ana"], window).entries, feed.key


def test_the_page_reads_as_many_queries_for_forty_overdue_lines_as_for_two(ana: Client, users: Any, make_org: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rapport.commerce.models import Invoice
    from rapport.visits.models import Promise

    org = make_org(name="Slow Payer S.A.", phones=["+34 912 345 678"])

    def add(n: int, start: int) -> None:
        Invoice.objects.bulk_create([
            Invoice(card=org, currency="EUR", issued_on=_day(-99), due_on=_day(-60 + start + i), amount=Decimal(10),
                    open_amount=Decimal(10), is_open=True, owner_id=org.owner_id, team_id=org.team_id) for i in range(n)])
        Promise.objects.bulk_create([
            Promise(card=org, owner=users["rep_ana"], by="us", text=f"Promise {start + i}", due_on=_day(-60 + start + i),
                    card_owner_id=org.owner_id, card_team_id=org.team_id) for i in range(n)])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert ana.get("/today/").status_code == 200
        return len(ctx.captured_queries)

    add(1, 0)
    few = count()
    add(19, 1)
    assert count() == few


def test_every_overdue_line_is_counted_alike_by_the_page_and_the_whole_api(ana: Client, users: Any, make_org: Any) -> None:
    from rapport.commerce.models import Invoice

    org = make_org(name="Slow Payer S.A.")
    Invoice.objects.bulk_create([
        Invoice(card=org, currency="EUR", issued_on=_day(-400), due_on=_day(-300 + n), amount=Decimal(10), open_amount=Decimal(10),
                is_open=True, owner_id=org.owner_id, team_id=org.team_id) for n in range(120)])  # more than a feed's 100 entries
    whole = ana.get("/api/v1/agenda/today").json()
    assert whole["overdue_total"] == len(whole["overdue"]) == 120
    assert ana.get("/api/v1/agenda/today?overdue_limit=30").json()["overdue_total"] == 120
    assert '<span class="count">120</span>' in ana.get("/today/").content.decode()
    assert ana.get("/today/?all=1").content.decode().count('<li class="agenda-item') == 120
