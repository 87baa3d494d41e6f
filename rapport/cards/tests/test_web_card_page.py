"""The card page: what it shows, who may see it, and the forms that change it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rapport.activities.models import Activity
from rapport.cards import services
from rapport.cards.models import Card, Fact

HTMX = {"HX-Request": "true"}


@pytest.fixture
def org(make_org: Any) -> Card:
    return make_org(
        name="Ferretería López",
        phones=["+52 55 1234 5678"],
        emails=["ventas@ferreteria-lopez.mx"],
        website="ferreteria-lopez.mx",
        addresses=[{"kind": "shop", "street": "Av. Juárez 10", "city": "Puebla", "country": "MX"}],
        tier="A",
    )


def test_the_card_page_shows_the_header_and_contact_points(ana: Client, org: Card) -> None:
    response = ana.get(reverse("card-detail", args=[org.id]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ferretería López" in html
    assert 'href="tel:+525512345678"' in html
    assert 'href="mailto:ventas@ferreteria-lopez.mx"' in html
    assert 'href="https://ferreteria-lopez.mx"' in html
    assert "Av. Juárez 10" in html
    assert "Tier A" in html


def test_a_person_page_shows_the_local_script_name_and_where_they_work(ana: Client, org: Card, make_person: Any) -> None:
    person = make_person(given_name="Xiaoming", family_name="Wang", local_name="王小明", organization=org.id, title="采购经理")
    html = ana.get(reverse("card-detail", args=[person.id])).content.decode()
    assert "王小明" in html
    assert "Ferretería López" in html
    assert "采购经理" in html


def test_the_card_page_shows_provenance_of_each_fact(ana: Client, org: Card, users: dict[str, Any]) -> None:
    services.add_fact(
        user=users["rep_ana"], card=org, item_key="business_scope", value="Tools and hardware",
        source_key="customer_stated", observed_at="2024-03-05", confidence=90, note="Said at the fair",
    )
    html = ana.get(reverse("card-detail", args=[org.id])).content.decode()
    assert "Tools and hardware" in html
    assert '<details class="prov">' in html
    # Provenance both in the expandable details (touch) and in the hover title.
    from rapport.catalog import selectors as catalog

    assert catalog.sources()["customer_stated"].label in html
    assert "90%" in html
    assert "rep_ana" in html
    assert "Source: " in html and "confidence 90%" in html and "recorded by rep_ana" in html


def test_the_card_page_lists_what_its_tier_still_misses(ana: Client, org: Card) -> None:
    html = ana.get(reverse("card-detail", args=[org.id])).content.decode()
    assert "Still missing for tier A" in html
    assert 'data-pick-item="business_scope"' in html
    assert "<meter" in html


def test_a_rep_gets_404_for_a_card_of_another_team(users: dict[str, Any], org: Card) -> None:
    bo = Client()
    bo.force_login(users["rep_bo_other_team"])
    assert bo.get(reverse("card-detail", args=[org.id])).status_code == 404
    assert bo.get(reverse("card-edit", args=[org.id])).status_code == 404
    assert bo.post(reverse("card-add-fact", args=[org.id]), {"item": "business_scope"}).status_code == 404
    assert bo.post(reverse("activity-log", args=[org.id]), {"kind": "call", "summary": "x"}).status_code == 404
    assert bo.post(reverse("card-archive", args=[org.id])).status_code == 404
    assert bo.get(reverse("card-detail", args=[10**9])).status_code == 404


def test_a_teammate_and_the_manager_see_the_card(users: dict[str, Any], org: Card) -> None:
    for name in ("rep_ben", "manager_mei", "admin", "analyst_al"):
        client = Client()
        client.force_login(users[name])
        assert client.get(reverse("card-detail", args=[org.id])).status_code == 200, name


def test_signed_out_visitors_are_sent_to_the_login_page(client: Client, org: Card) -> None:
    response = client.get(reverse("card-detail", args=[org.id]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    fragment = client.post(reverse("card-add-fact", args=[org.id]), HTTP_HX_CURRENT_URL="http://testserver/cards/1/", headers=HTMX)
    assert fragment.status_code == 204
    assert fragment["HX-Redirect"].startswith(reverse("login") + "?next=")


def test_adding_a_fact_over_htmx_re_renders_profile_facts_and_timeline(ana: Client, org: Card) -> None:
    response = ana.post(
        reverse("card-add-fact", args=[org.id]),
        {"item": "business_scope", "value": "Wholesale of paint", "source": "rep_observation", "confidence": "70"},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="add-fact"' in html
    assert 'id="profile" class="panel order-profile" hx-swap-oob="true"' in html
    assert 'id="timeline" class="panel order-timeline" hx-swap-oob="true"' in html
    assert 'id="facts" class="panel order-facts" hx-swap-oob="true"' in html
    assert "Wholesale of paint" in html
    fact = Fact.objects.get(card=org)
    assert fact.confidence == 70 and fact.source.key == "rep_observation"


def test_adding_a_fact_without_htmx_redirects_back_to_the_card(ana: Client, org: Card) -> None:
    response = ana.post(
        reverse("card-add-fact", args=[org.id]),
        {"item": "business_scope", "value": "Wholesale", "source": "customer_stated", "observed_at": "2024-01-02"},
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("card-detail", args=[org.id]))


def test_a_bad_fact_shows_the_error_next_to_the_value_and_records_nothing(ana: Client, org: Card) -> None:
    response = ana.post(
        reverse("card-add-fact", args=[org.id]),
        {"item": "business_scope", "value": "   ", "source": "customer_stated", "confidence": "500"},
        headers=HTMX,
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "A value is required." in html
    assert "Expected a number from 0 to 100." in html
    assert not Fact.objects.filter(card=org).exists()


def test_the_fact_form_offers_only_items_the_user_may_read(ana: Client, org: Card, users: dict[str, Any]) -> None:
    from rapport.cards.selectors import readable_items
    from rapport.catalog import selectors as catalog

    html = ana.get(reverse("card-detail", args=[org.id])).content.decode()
    readable = readable_items(users["rep_ana"], org)
    hidden = [i for i in catalog.items().values() if i.key not in readable and i.applies_to in ("any", "organization")]
    assert readable
    for item in hidden:
        assert f'value="{item.key}"' not in html


def test_the_value_widget_fits_the_item(ana: Client) -> None:
    from rapport.catalog import selectors as catalog

    choice = next(i for i in catalog.items().values() if i.type == "choice")
    html = ana.get(reverse("item-value-input"), {"item": choice.key, "mode": "fact"}, headers=HTMX).content.decode()
    assert "<select" in html
    first = choice.choices[0]["key"]
    assert f'value="{first}"' in html
    date_item = next((i for i in catalog.items().values() if i.type == "date"), None)
    if date_item is not None:
        html = ana.get(reverse("item-value-input"), {"item": date_item.key}, headers=HTMX).content.decode()
        assert 'type="date"' in html


def test_a_choice_fact_is_shown_with_its_label(ana: Client, org: Card) -> None:
    from rapport.catalog import selectors as catalog

    item = next(i for i in catalog.items().values() if i.type == "choice" and i.applies_to in ("any", "organization") and i.sensitivity in ("public", "internal"))
    choice = item.choices[0]
    ana.post(reverse("card-add-fact", args=[org.id]), {"item": item.key, "value": choice["key"], "source": "customer_stated"})
    html = ana.get(reverse("card-detail", args=[org.id])).content.decode()
    assert item.choice_label(choice["key"]) in html


def test_logging_an_activity_adds_it_to_the_timeline(ana: Client, org: Card) -> None:
    response = ana.post(
        reverse("activity-log", args=[org.id]),
        {"kind": "visit", "summary": "Visited the shop, stock is low", "occurred_at": "2024-05-02T10:30"},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'hx-swap-oob="true"' in html and "Visited the shop, stock is low" in html
    activity = Activity.objects.get()
    assert list(activity.cards.all()) == [org]


def test_an_activity_without_summary_shows_the_error(ana: Client, org: Card) -> None:
    response = ana.post(reverse("activity-log", args=[org.id]), {"kind": "call", "summary": ""}, headers=HTMX)
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    assert not Activity.objects.exists()


def test_an_analyst_sees_no_forms_and_gets_403_when_posting(users: dict[str, Any], org: Card) -> None:
    al = Client()
    al.force_login(users["analyst_al"])
    html = al.get(reverse("card-detail", args=[org.id])).content.decode()
    assert 'id="add-fact"' not in html and 'id="log-activity"' not in html
    response = al.post(
        reverse("card-add-fact", args=[org.id]),
        {"item": "business_scope", "value": "x", "source": "customer_stated"},
    )
    assert response.status_code in (403, 422)
    assert al.post(reverse("activity-log", args=[org.id]), {"kind": "call", "summary": "x"}).status_code == 403
    assert al.post(reverse("card-archive", args=[org.id]), {"archived": "1"}).status_code == 403
    assert al.get(reverse("card-edit", args=[org.id])).status_code == 403
    assert not Fact.objects.exists()


def test_archive_and_restore(ana: Client, org: Card) -> None:
    response = ana.post(reverse("card-archive", args=[org.id]), {"archived": "1"})
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.is_archived
    assert "Restore" in ana.get(reverse("card-detail", args=[org.id])).content.decode()
    ana.post(reverse("card-archive", args=[org.id]), {"archived": "0"})
    org.refresh_from_db()
    assert not org.is_archived
