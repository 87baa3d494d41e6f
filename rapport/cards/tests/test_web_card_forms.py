"""Creating and editing cards from the web forms: service errors on the fields, conflicts, nothing lost."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rapport.cards import services
from rapport.cards.models import Card, Employment


@pytest.fixture
def ana(users: dict[str, Any]) -> Client:
    client = Client()
    client.force_login(users["rep_ana"])
    return client


def _management(prefix: str = "addr", total: int = 1, initial: int = 0) -> dict[str, str]:
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": str(initial), f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "20"}


def test_the_create_form_shows_field_errors_and_saves_nothing(ana: Client) -> None:
    response = ana.post(
        reverse("organization-create"),
        {
            "name": "",
            "phones": "+34 600 000 001\nnot a phone",
            "emails": "bad@",
            "website": "ferreteria lopez",
            "phone_region": "ES",
            "lifecycle_stage": "suspect",
            **_management(),
            "addr-0-kind": "office",
            "addr-0-city": "Madrid",
            "addr-0-country": "E1",
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "This field is required." in html  # name
    assert "is not a phone number" in html
    assert "is not a valid e-mail address" in html
    assert "is not a valid web address" in html
    assert "two-letter country code" in html
    # What the user typed is still there.
    assert "not a phone" in html and "ferreteria lopez" in html and "Madrid" in html
    assert Card.objects.count() == 0


def test_creating_an_organisation_opens_its_card(ana: Client, users: dict[str, Any]) -> None:
    response = ana.post(
        reverse("organization-create"),
        {
            "name": "Ferretería López",
            "phones": "55 1234 5678",
            "phone_region": "MX",
            "emails": "ventas@ferreteria-lopez.mx",
            "website": "ferreteria-lopez.mx",
            "social": "https://www.facebook.com/ferreterialopez",
            "tier": "A",
            "lifecycle_stage": "prospect",
            **_management(),
            "addr-0-kind": "shop",
            "addr-0-street": "Av. Juárez 10",
            "addr-0-city": "Puebla",
            "addr-0-country": "mx",
        },
    )
    card = Card.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("card-detail", args=[card.id])
    assert card.owner == users["rep_ana"] and card.team is not None and card.team.name == "North"
    assert card.phones.get().e164 == "+525512345678"
    assert card.addresses.get().country == "MX"
    assert card.social == [{"network": "facebook", "url": "https://www.facebook.com/ferreterialopez"}]
    assert card.lifecycle_stage == "prospect" and card.tier == "A"


def test_creating_a_person_at_an_organisation_records_the_employment(ana: Client, make_org: Any) -> None:
    org = make_org(name="Acme")
    form = ana.get(reverse("person-create"), {"organization": org.id}).content.decode()
    assert f'value="{org.id}" checked' in form
    response = ana.post(
        reverse("person-create"),
        {"given_name": "Ion", "family_name": "Popescu", "organization": str(org.id), "title": "Buyer",
         "phone_region": "RO", "phones": "0721 234 567", "lifecycle_stage": "suspect", **_management()},
    )
    assert response.status_code == 302
    person = Card.objects.get(kind="person")
    employment = Employment.objects.get(person=person)
    assert employment.organization == org and employment.title == "Buyer"
    assert person.phones.get().e164 == "+40721234567"


def test_a_person_needs_some_name(ana: Client) -> None:
    response = ana.post(reverse("person-create"), {"given_name": "", "family_name": "", "lifecycle_stage": "suspect", **_management()})
    assert response.status_code == 422
    assert "A person needs a given name" in response.content.decode()
    assert Card.objects.count() == 0


def test_a_rep_cannot_pick_an_organisation_of_another_team(ana: Client, make_org: Any) -> None:
    other = make_org(owner="rep_bo_other_team", name="South Org")
    response = ana.post(
        reverse("person-create"),
        {"given_name": "Ana", "organization": str(other.id), "lifecycle_stage": "suspect", **_management()},
    )
    assert response.status_code == 422
    assert "Unknown organization." in response.content.decode()
    assert "South Org" not in response.content.decode()
    assert not Card.objects.filter(kind="person").exists()


def test_an_analyst_may_not_open_the_create_form(users: dict[str, Any]) -> None:
    al = Client()
    al.force_login(users["analyst_al"])
    assert al.get(reverse("organization-create")).status_code == 403
    assert al.post(reverse("person-create"), {"given_name": "X", **_management()}).status_code == 403


def _edit_post(card: Card, **changes: Any) -> dict[str, Any]:
    addresses = list(card.addresses.all())
    data: dict[str, Any] = {
        "version": str(card.version),
        "name": card.display_name,
        "website": card.website,
        "industry": card.industry,
        "size_band": card.size_band,
        "tier": card.tier,
        "lifecycle_stage": card.lifecycle_stage,
        "team": str(card.team_id or ""),
        "phones": "\n".join(p.e164 for p in card.phones.all()),
        "emails": "\n".join(e.address for e in card.emails.all()),
        "social": "",
        "phone_region": "ES",
        **_management(total=len(addresses) + 1, initial=len(addresses)),
    }
    for i, a in enumerate(addresses):
        for name in ("kind", "street", "city", "region", "postal_code", "country"):
            data[f"addr-{i}-{name}"] = getattr(a, name)
    data.update(changes)
    return data


def test_the_edit_form_saves_changes(ana: Client, make_org: Any) -> None:
    card = make_org(name="Acme", phones=[{"number": "0721 234 567", "region": "RO", "kind": "work"}])
    page = ana.get(reverse("card-edit", args=[card.id])).content.decode()
    assert f'name="version" value="{card.version}"' in page
    response = ana.post(reverse("card-edit", args=[card.id]), _edit_post(card, name="Acme Iberia", emails="info@acme.es", tier="B"))
    assert response.status_code == 302, response.content.decode()[:2000]
    card.refresh_from_db()
    assert card.display_name == "Acme Iberia" and card.tier == "B"
    assert card.emails.get().address == "info@acme.es"
    # The Romanian work phone kept its region and kind although the form's region is ES.
    phone = card.phones.get()
    assert phone.e164 == "+40721234567" and phone.kind == "work"


def test_the_edit_form_shows_a_conflict_instead_of_overwriting(ana: Client, make_org: Any, users: dict[str, Any]) -> None:
    card = make_org(name="Acme")
    stale = _edit_post(card, name="Acme by Ana")
    services.update_card(user=users["rep_ben"], card=card, data={"name": "Acme by Ben"})
    response = ana.post(reverse("card-edit", args=[card.id]), stale)
    assert response.status_code == 409
    html = response.content.decode()
    assert "This card was changed by someone else — reload to see the changes" in html
    assert "Acme by Ana" in html  # the user's input is kept to copy from
    card.refresh_from_db()
    assert card.display_name == "Acme by Ben"


def test_the_edit_form_shows_service_errors_on_address_rows(ana: Client, make_org: Any) -> None:
    card = make_org(name="Acme", addresses=[{"city": "Madrid", "country": "ES"}])
    data = _edit_post(card, **{"addr-0-country": "E5"})
    response = ana.post(reverse("card-edit", args=[card.id]), data)
    assert response.status_code == 422
    assert "two-letter country code" in response.content.decode()
    assert card.addresses.get().country == "ES"
