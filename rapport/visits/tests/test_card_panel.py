"""The visits panel of a card and the card's visit events: what they show, to whom, and in how
many queries (one for a card without visits, promises or site: most cards)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rapport.core.visibility import scope_for
from rapport.visits import services
from rapport.visits.selectors import timeline_entries
from rapport.visits.views.visit import panel_context

pytestmark = pytest.mark.django_db


def section(user: Any, card: Any) -> str:
    client = Client(HTTP_HX_REQUEST="true")
    client.force_login(user)
    return client.get(f"/cards/{card.pk}/sections/visits/").content.decode()


def test_a_card_without_visits_reads_its_panel_and_its_visit_events_in_one_query_each(
    users: Any, org: Any, django_assert_num_queries: Any
) -> None:
    ana = users["rep_ana"]
    with django_assert_num_queries(1):
        data = panel_context(ana, org)
    assert data is not None
    assert (data["upcoming"], data["last"], data["promises"], data["site"]) == ([], None, [], None)
    with django_assert_num_queries(1):
        assert timeline_entries(ana, org, 25, None) == []
    html = section(ana, org)
    assert "No visits yet." in html and "Add location and opening hours" in html


def test_the_panel_shows_the_next_visits_the_last_one_six_promises_and_the_site(
    users: Any, make_visit: Any, org: Any, django_assert_num_queries: Any
) -> None:
    ana = users["rep_ana"]
    done = make_visit(date="2026-11-10")
    services.report_visit(user=ana, visit=done, data={"outcome": "met", "summary": "Good talk with the buyer."})
    make_visit(date="2027-03-16", window_start="10:00")
    make_visit(date="2027-03-15")
    for n in range(7):
        services.add_promise(user=ana, card=org, data={"by": "them" if n else "us", "text": f"Promise {n}", "due_on": f"2027-04-{n + 10}"})
    services.set_site(user=ana, card=org, data={"latitude": "40.1", "longitude": "-3.7"})
    scope_for(ana).card_q()  # the user's teams, read once per request
    with django_assert_num_queries(5):  # the probe, the next visits, the last one, the promises, the site
        data = panel_context(ana, org)
    assert data is not None and data["last"] is not None
    assert [v["planned_on"].isoformat() for v in data["upcoming"]] == ["2027-03-15", "2027-03-16"]
    assert data["last"]["id"] == done.pk and data["last_outcome"] == "Met"
    assert len(data["promises"]) == 6 and data["more_promises"]
    html = section(ana, org)
    assert "Mon 15 Mar</a> <span class=\"muted\">rep_ana</span>" in html and "Tue 16 Mar 10:00</a>" in html
    assert f'href="/visits/{done.pk}/">' in html and "— Met</p>" in html
    assert '<span class="badge">By us</span> Promise 0' in html and '<span class="badge">By them</span> Promise 5' in html
    assert "Promise 6" not in html and "Location and opening hours" in html


def test_a_reported_visit_is_an_event_of_the_cards_timeline(users: Any, make_visit: Any, org: Any, django_assert_num_queries: Any) -> None:
    ana = users["rep_ana"]
    visit = make_visit(date="2026-11-10")
    services.report_visit(user=ana, visit=visit, data={"outcome": "met", "summary": "Good talk with the buyer."})
    make_visit(date="2027-03-15")  # planned: not an event yet
    scope_for(ana).card_q()  # the user's teams, read once per request
    with django_assert_num_queries(2):
        [entry] = timeline_entries(ana, org, 25, None)
    assert (entry.kind, entry.title, entry.detail, entry.url) == ("reported", "Visit on Nov. 10, 2026: Met", "Good talk with the buyer.",
                                                                  f"/visits/{visit.pk}/")
    assert entry.by == "rep_ana" and entry.label == "Visit"
    assert timeline_entries(ana, org, 25, entry.at) == []


def test_a_rep_of_another_team_sees_a_shared_cards_visits_and_nothing_of_an_unshared_one(users: Any, make_visit: Any, org: Any) -> None:
    from rapport.cards.services import share_card

    bo = users["rep_bo_other_team"]
    visit = make_visit(date="2026-11-10")
    services.report_visit(user=users["rep_ana"], visit=visit, data={"outcome": "met", "summary": "Good talk with the buyer."})
    services.add_promise(user=users["rep_ana"], card=org, data={"by": "us", "text": "Bring the new price list"})
    assert timeline_entries(bo, org, 25, None) == []
    data = panel_context(bo, org)
    assert data is not None and data["last"] is None and data["promises"] == []
    share_card(user=users["rep_ana"], card=org, with_user=bo)
    bo = type(bo).objects.get(pk=bo.pk)  # a new request: visibility is worked out again
    assert [e.ref_id for e in timeline_entries(bo, org, 25, None)] == [visit.pk]
    assert "Bring the new price list" in section(bo, org)
