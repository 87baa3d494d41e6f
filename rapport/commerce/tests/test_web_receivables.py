"""The receivables page: the collection matrix, its drill-down, the aging chart and the aging table."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rapport.commerce import services
from rapport.commerce.tests.factories import invoice

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _receivables(users: Any, make_org: Any) -> None:
    services.set_collection_policy(user=users["admin"], team=None, currency="EUR", long_after_days=30, large_from="1000")
    north = make_org(name="Norte S.A.")
    south = make_org(owner="rep_bo_other_team", name="Sur S.L.")
    invoice(users["rep_ana"], north, "200.00", issued="2026-11-01", due="2026-11-20")  # short, small
    invoice(users["rep_ana"], north, "5000.00", issued="2026-06-01", due="2026-07-01")  # long, large
    invoice(users["rep_ana"], north, "300.00", issued="2026-12-01", due="2027-01-31")  # not yet due
    invoice(users["rep_bo_other_team"], south, "7000.00", issued="2026-06-01", due="2026-07-01")


def test_the_matrix_shows_each_cell_with_its_action_count_and_amount(users: Any, make_org: Any, ana: Client,
                                                                     django_assert_max_num_queries: Any) -> None:
    _receivables(users, make_org)
    with django_assert_max_num_queries(12):
        response = ana.get("/receivables/", {"as_of": "2026-12-03"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Routine reminder" in page and "Rep visits to collect" in page and "Escalated" in page and "Special arrangement" in page
    assert "€200.00" in page and "€5,000.00" in page and "€7,000.00" not in page
    assert "short_small" not in page.replace("cell-short_small", "").replace("/receivables/short_small/", "")
    assert page.count('class="chart-bar') == 10  # a wide and a narrow drawing


def test_the_drill_down_lists_the_cells_invoices(users: Any, make_org: Any, ana: Client, django_assert_max_num_queries: Any) -> None:
    _receivables(users, make_org)
    with django_assert_max_num_queries(10):
        page = ana.get("/receivables/long_large/", {"as_of": "2026-12-03"}).content.decode()
    assert "Norte S.A." in page and "€5,000.00" in page and "Sur S.L." not in page and "€200.00" not in page


def test_a_manager_filters_by_team_and_rep_with_ids(users: Any, make_org: Any) -> None:
    _receivables(users, make_org)
    mei = _client(users["manager_mei"])
    team = users["rep_ana"].teams.get()
    page = mei.get("/receivables/", {"team": team.pk, "rep": users["rep_ana"].pk}).content.decode()
    assert "€5,000.00" in page
    assert mei.get("/receivables/", {"rep": "rep_ana"}).status_code == 422
    assert mei.get("/receivables/", {"as_of": "soon"}).status_code == 422


def test_the_aging_table_is_per_rep_or_per_team(users: Any, make_org: Any) -> None:
    _receivables(users, make_org)
    admin = _client(users["admin"])
    page = admin.get("/receivables/").content.decode()
    assert "Aging per rep" in page and "rep_bo_other_team" in page
    page = admin.get("/receivables/", {"by": "team"}).content.decode()
    assert "Aging per team" in page and "South" in page and "North" in page


def test_an_unknown_cell_is_not_found(ana: Client) -> None:
    assert ana.get("/receivables/everything/").status_code == 404


def test_the_nav_offers_receivables_whose_tabs_lead_to_the_rest(ana: Client) -> None:
    assert 'href="/receivables/"' in ana.get("/").content.decode()
    tabs = ana.get("/receivables/").content.decode()
    assert 'href="/collection/"' in tabs and 'href="/credit-approvals/"' in tabs and 'href="/products/"' in tabs
