"""A phone typed in a web form is saved with the type chosen beside it (mobile, work, home, fax, other)."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from rapport.cards.models import Card, Phone


def _management() -> dict[str, str]:
    return {"addr-TOTAL_FORMS": "1", "addr-INITIAL_FORMS": "0", "addr-MIN_NUM_FORMS": "0", "addr-MAX_NUM_FORMS": "20"}


def test_the_new_card_form_offers_a_type_beside_each_number(ana: Client) -> None:
    page = ana.get(reverse("organization-create")).content.decode()
    assert 'name="phone_number_0"' in page and 'name="phone_kind_0"' in page
    assert '<option value="fax"' in page
    # An organisation's number is its office line unless said otherwise.
    assert '<option value="work" selected>' in page


def test_each_number_is_saved_with_the_type_chosen(ana: Client) -> None:
    response = ana.post(reverse("person-create"), {
        "given_name": "Lucía", "family_name": "Martín", "phone_region": "ES", "lifecycle_stage": "suspect",
        "phone_number_0": "612 345 678", "phone_kind_0": "mobile",
        "phone_number_1": "91 123 45 67", "phone_kind_1": "home",
        "phone_number_2": "", "phone_kind_2": "work",
        **_management(),
    })
    assert response.status_code == 302, response.content.decode()[:500]
    card = Card.objects.get(kind="person")
    assert [(p.e164, p.kind) for p in card.phones.all()] == [("+34612345678", "mobile"), ("+34911234567", "home")]


def test_changing_only_the_type_of_a_number_is_saved_and_the_page_shows_it(ana: Client, make_org: Any) -> None:
    org = make_org(name="Acme", phones=[{"number": "0721 234 567", "region": "RO", "kind": "mobile"}])
    edit = ana.get(reverse("card-edit", args=[org.id])).content.decode()
    assert 'name="phone_number_0"' in edit and 'name="phone_number_1"' in edit  # the number and one empty row
    data = {"name": "Acme", "phone_region": "ES", "lifecycle_stage": org.lifecycle_stage, "version": str(org.version),
            "phone_number_0": "+40 721 234 567", "phone_kind_0": "fax", "phone_number_1": "", "phone_kind_1": "work",
            **_management()}
    response = ana.post(reverse("card-edit", args=[org.id]), data)
    assert response.status_code == 302, response.content.decode()[:800]
    phone = Phone.objects.get(card=org)
    assert (phone.e164, phone.kind, phone.region) == ("+40721234567", "fax", "RO")  # region kept, type changed
    assert '<option value="fax" selected>' in ana.get(reverse("card-edit", args=[org.id])).content.decode()


def test_an_unknown_type_is_refused_and_nothing_is_saved(ana: Client) -> None:
    response = ana.post(reverse("person-create"), {
        "given_name": "Ion", "family_name": "Pop", "lifecycle_stage": "suspect",
        "phone_number_0": "0721 234 567", "phone_kind_0": "pager<script>", **_management(),
    })
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert not Card.objects.exists()


def test_more_rows_than_a_card_holds_are_refused_with_a_clear_message(ana: Client) -> None:
    response = ana.post(reverse("person-create"), {
        "given_name": "Ion", "family_name": "Pop", "lifecycle_stage": "suspect",
        "phone_number_0": "0721 234 567", "phone_kind_0": "work",
        "phone_number_5000": "0721 234 568", "phone_kind_5000": "work", **_management(),
    })
    assert response.status_code == 422
    assert "at most 20 phone numbers" in response.content.decode()
    assert not Card.objects.exists()
