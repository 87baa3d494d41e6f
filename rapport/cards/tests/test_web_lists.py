"""My customers and the organisation and person lists: visibility, filters, pages, htmx, query counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rapport.cards import services
from rapport.cards.models import Card

HTMX = {"HX-Request": "true"}


def test_home_shows_my_cards_most_recently_updated_first(ana: Client, make_org: Any, make_person: Any, users: dict[str, Any]) -> None:
    older = make_org(name="Older Org")
    newer = make_person(given_name="Newer", family_name="Person")
    make_org(owner="rep_ben", name="Ben's Org")
    services.update_card(user=users["rep_ana"], card=older, data={"industry": "Paint"})  # now the most recent
    html = ana.get(reverse("home")).content.decode()
    assert html.index("Older Org") < html.index("Newer Person")
    assert "Ben&#x27;s Org" not in html and "Ben's Org" not in html
    assert newer.display_name in html


def test_the_organisation_list_shows_only_visible_organisations(ana: Client, make_org: Any, make_person: Any) -> None:
    make_org(name="Acme North")
    make_org(owner="rep_ben", name="Teammate Org")
    make_org(owner="rep_bo_other_team", name="Southern Secret")
    make_person(given_name="Not", family_name="AnOrg")
    html = ana.get(reverse("organization-list")).content.decode()
    assert "Acme North" in html and "Teammate Org" in html
    assert "Southern Secret" not in html
    assert "AnOrg" not in html


def test_the_person_list_shows_people_and_their_first_phone(ana: Client, make_person: Any, make_org: Any) -> None:
    make_person(given_name="Ion", family_name="Popescu", phones=["0721 234 567"], region="RO")
    make_org(name="Not A Person")
    html = ana.get(reverse("person-list")).content.decode()
    assert "Ion Popescu" in html and 'href="tel:+40721234567"' in html
    assert "Not A Person" not in html


def test_list_pages_are_not_cached(ana: Client) -> None:
    assert ana.get(reverse("organization-list"))["Cache-Control"] == "no-store"
    assert ana.get(reverse("home"))["Cache-Control"] == "no-store"


def test_the_list_filters_on_name_prefix_tier_stage_and_owner(ana: Client, make_org: Any, users: dict[str, Any]) -> None:
    make_org(name="Alfa Distribución", tier="A", lifecycle_stage="customer")
    make_org(name="Beta Comercial", tier="B", lifecycle_stage="prospect")
    make_org(owner="rep_ben", name="Alfa Ben", tier="A", lifecycle_stage="prospect")
    url = reverse("organization-list")

    def names(**params: Any) -> set[str]:
        html = ana.post(url, params).content.decode()
        return {n for n in ("Alfa Distribución", "Beta Comercial", "Alfa Ben") if n in html}

    assert names(q="alfa") == {"Alfa Distribución", "Alfa Ben"}
    assert names(tier="B") == {"Beta Comercial"}
    assert names(stage="prospect") == {"Beta Comercial", "Alfa Ben"}
    assert names(owner=users["rep_ben"].id) == {"Alfa Ben"}
    assert names(q="alfa", stage="customer") == {"Alfa Distribución"}


def test_the_list_filters_on_a_catalog_item(ana: Client, make_org: Any, users: dict[str, Any]) -> None:
    known = make_org(name="Known Scope")
    make_org(name="Unknown Scope")
    services.add_fact(user=users["rep_ana"], card=known, item_key="business_scope", value="Paint", source_key="customer_stated")
    html = ana.get(reverse("organization-list"), {"item": "business_scope"}).content.decode()
    assert "Known Scope" in html and "Unknown Scope" not in html
    html = ana.post(reverse("organization-list"), {"item": "business_scope", "value": "paint"}).content.decode()
    assert "Known Scope" in html
    html = ana.post(reverse("organization-list"), {"item": "business_scope", "value": "tools"}).content.decode()
    assert "Known Scope" not in html


def test_archived_cards_are_listed_only_when_asked(ana: Client, make_org: Any, users: dict[str, Any]) -> None:
    card = make_org(name="Gone Away")
    services.archive_card(user=users["rep_ana"], card=card)
    assert "Gone Away" not in ana.get(reverse("organization-list")).content.decode()
    assert "Gone Away" in ana.get(reverse("organization-list"), {"archived": "on"}).content.decode()


def test_a_bad_filter_value_shows_an_error_instead_of_failing(ana: Client, make_org: Any) -> None:
    make_org(name="Acme")
    response = ana.get(reverse("organization-list"), {"owner": "abc", "tier": "Z"})
    assert response.status_code == 200
    assert "Acme" in response.content.decode()


def test_the_list_answers_only_the_table_to_htmx(ana: Client, make_org: Any) -> None:
    make_org(name="Acme")
    full = ana.get(reverse("organization-list"))
    partial = ana.get(reverse("organization-list"), headers=HTMX)
    assert b"<html" in full.content and b"<html" not in partial.content
    assert b"Acme" in partial.content and b"<table" in partial.content
    assert "HX-Request" in partial["Vary"]
    restore = ana.get(reverse("organization-list"), HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert b"<html" in restore.content


def test_the_list_pages_by_fifty(ana: Client, users: dict[str, Any]) -> None:
    _bulk_orgs(users["rep_ana"], 55)
    first = ana.get(reverse("organization-list")).content.decode()
    assert "1–50 of 55" in first
    assert 'form="list-filters" name="page" value="2"' in first
    second = ana.post(reverse("organization-list"), {"page": 2}).content.decode()
    assert "51–55 of 55" in second


def test_the_list_filter_form_posts_so_a_name_typed_in_it_stays_out_of_the_address(ana: Client, users: dict[str, Any]) -> None:
    _bulk_orgs(users["rep_ana"], 55)
    html = ana.post(reverse("organization-list"), {"q": "org 0"}).content.decode()
    assert '<form id="list-filters" class="filters panel" method="post"' in html and 'hx-post="/organizations/"' in html
    name_box = html.split('name="q" id="id_q"')[1].split(">")[0]
    assert 'hx-post="/organizations/"' in name_box and "hx-get" not in name_box
    assert 'hx-push-url="true"' not in html and "?q=" not in html and "q=org" not in html
    # The next page of the same name filter is asked for with the form, the name in the body.
    assert 'form="list-filters" name="page" value="2"' in html
    assert "51–55 of 55" in ana.post(reverse("organization-list"), {"q": "org 0", "page": 2}).content.decode()


def test_a_name_or_value_filter_in_a_list_address_is_ignored(ana: Client, make_org: Any) -> None:
    make_org(name="Alfa Distribución", tier="A")
    make_org(name="Beta Comercial", tier="B")
    html = ana.get(reverse("organization-list"), {"q": "alfa"}).content.decode()
    assert "Alfa Distribución" in html and "Beta Comercial" in html  # ignored, not applied
    assert 'value="alfa"' not in html
    html = ana.get(reverse("organization-list"), {"tier": "B"}).content.decode()  # naming no one: still linkable
    assert "Beta Comercial" in html and "Alfa Distribución" not in html


def _bulk_orgs(user: Any, count: int) -> None:
    for i in range(count):
        services.create_organization(
            user=user,
            data={"name": f"Org {i:03d}", "phones": [f"+34 600 000 {i:03d}"], "emails": [f"o{i}@example.com"], "tier": "B"},
        )


def _queries_for(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _bulk_people(user: Any, count: int) -> None:
    for i in range(count):
        services.create_person(
            user=user,
            data={"given_name": f"Ana {i:03d}", "family_name": "Pop", "phones": [f"+40 721 000 {i:03d}"], "emails": [f"p{i}@example.ro"]},
        )


@pytest.mark.parametrize("url_name, bulk", [("organization-list", _bulk_orgs), ("person-list", _bulk_people)])
def test_the_list_page_query_count_does_not_grow_with_page_size(ana: Client, users: dict[str, Any], url_name: str, bulk: Any) -> None:
    url = reverse(url_name)
    bulk(users["rep_ana"], 5)
    _queries_for(ana, url)  # warm the catalog cache
    few = _queries_for(ana, url)
    bulk(users["rep_ana"], 55)
    many = _queries_for(ana, url)
    assert Card.objects.count() == 60
    assert many == few
    assert _queries_for(ana, url + "?page=2") == few


def test_the_home_page_query_count_does_not_grow_with_the_number_of_cards(ana: Client, users: dict[str, Any]) -> None:
    url = reverse("home")
    _bulk_orgs(users["rep_ana"], 3)
    _queries_for(ana, url)
    few = _queries_for(ana, url)
    _bulk_orgs(users["rep_ana"], 40)
    assert _queries_for(ana, url) == few

