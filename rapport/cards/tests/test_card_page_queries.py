"""The card page of a busy organisation runs a fixed number of queries, whatever the database holds.

These are the whole page, as a browser without scripts gets it (every section at once); the
first response of a browser that runs scripts and each section it loads afterwards are pinned
in ``test_card_page_sections``."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rapport.cards import services
from rapport.cards.tests.factories import busy_organization

pytestmark = pytest.mark.django_db

# Every panel of the page has something to show (see ``busy_organization``); a rep also gets
# the sharing form, which names the colleagues and teams. A new panel or query changes these
# numbers on purpose: update them, and keep each panel at a fixed number of queries.
ADMIN_QUERIES = 46  # 47 before the contacts came with the card
REP_QUERIES = 46  # 48, then 47 with the contacts, before the user came with their teams


def page_queries(user: Any, card_id: int) -> int:
    client = Client()
    client.force_login(user)
    assert client.get(f"/cards/{card_id}/").status_code == 200  # warm the per-process caches
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"/cards/{card_id}/").status_code == 200
    return len(ctx.captured_queries)


def more_cards(users: dict[str, Any], count: int) -> None:
    """Cards of both teams that the organisation has nothing to do with, one of them shared."""
    for i in range(count):
        owner = users["rep_ana" if i % 2 else "rep_bo_other_team"]
        org = services.create_organization(user=owner, data={"name": f"Other {i}"})
        services.create_person(user=owner, data={"given_name": f"Other{i}", "family_name": "Soto", "organization": org.pk})


@pytest.fixture
def busy(users: dict[str, Any]) -> Any:
    return busy_organization(users["rep_ana"], people=6, activities=60)


def test_the_card_page_runs_a_pinned_number_of_queries_for_an_admin(users: dict[str, Any], busy: Any) -> None:
    assert page_queries(users["admin"], busy.organization.pk) == ADMIN_QUERIES


def test_the_card_page_runs_a_pinned_number_of_queries_for_a_rep(users: dict[str, Any], busy: Any) -> None:
    assert page_queries(users["rep_ana"], busy.organization.pk) == REP_QUERIES


def test_more_cards_in_the_database_add_no_query_to_the_card_page(users: dict[str, Any], busy: Any) -> None:
    before = {who: page_queries(users[who], busy.organization.pk) for who in ("admin", "rep_ana", "manager_mei")}
    more_cards(users, 30)
    after = {who: page_queries(users[who], busy.organization.pk) for who in ("admin", "rep_ana", "manager_mei")}
    assert after == before


def test_more_people_and_activities_add_no_query_to_the_card_page(users: dict[str, Any]) -> None:
    small = busy_organization(users["rep_ana"], people=2, activities=4, name="Small S.L.")
    large = busy_organization(users["rep_ana"], people=12, activities=80, name="Large S.A.")
    for who in ("admin", "rep_ana"):
        assert page_queries(users[who], small.organization.pk) == page_queries(users[who], large.organization.pk)
