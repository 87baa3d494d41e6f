"""The card page opens on the newest timeline entries and brings the older ones on demand."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from rapport.activities.services import log_activity
from rapport.cards.views import TIMELINE_FIRST

pytestmark = pytest.mark.django_db


@pytest.fixture
def org_with_history(users: dict[str, Any], make_org: Any) -> Any:
    org = make_org(name="Ferretería Antigua")
    start = dt.datetime(2025, 1, 1, 9, tzinfo=dt.UTC)
    for i in range(TIMELINE_FIRST + 5):
        log_activity(user=users["rep_ana"], data={
            "kind": "call", "summary": f"Call number {i:02d}", "occurred_at": (start + dt.timedelta(days=i)).isoformat(), "cards": [org.pk],
        })
    return org


def test_the_page_shows_the_newest_entries_and_a_link_to_the_older_ones(ana: Client, org_with_history: Any) -> None:
    html = ana.get(f"/cards/{org_with_history.pk}/").content.decode()
    assert f"Call number {TIMELINE_FIRST + 4:02d}" in html
    assert "Call number 00" not in html
    assert "Show older entries" in html
    assert f"/cards/{org_with_history.pk}/?timeline=all#timeline" in html


def test_the_link_brings_the_whole_timeline_as_a_fragment_over_htmx(ana: Client, org_with_history: Any) -> None:
    html = ana.get(f"/cards/{org_with_history.pk}/?timeline=all", HTTP_HX_REQUEST="true").content.decode()
    assert html.lstrip().startswith('<section id="timeline"')
    assert "Call number 00" in html and "Show older entries" not in html


def test_without_javascript_the_link_opens_the_page_with_the_whole_timeline(ana: Client, org_with_history: Any) -> None:
    html = ana.get(f"/cards/{org_with_history.pk}/?timeline=all").content.decode()
    assert "<h1>Ferretería Antigua</h1>" in html and "Call number 00" in html


def test_a_short_timeline_has_no_link(ana: Client, make_org: Any, users: dict[str, Any]) -> None:
    org = make_org(name="Nueva")
    log_activity(user=users["rep_ana"], data={"kind": "call", "summary": "First call", "cards": [org.pk]})
    assert "Show older entries" not in ana.get(f"/cards/{org.pk}/").content.decode()
