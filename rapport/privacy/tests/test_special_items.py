"""Special-category items: a legal basis to record them, encryption at rest, no trace for the uncleared."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.test import Client

from rapport.cards import services
from rapport.cards.models import Card, CurrentValue, Fact
from rapport.core.errors import ValidationError
from rapport.privacy import crypto
from rapport.privacy.models import LegalBasis
from rapport.privacy.tests.factories import CONSENT, api_client, clear, database_bytes

SECRET = "Zyxwvut-diabetes-tipo-2"


def test_recording_a_special_item_through_the_api_without_a_legal_basis_is_422_and_saves_nothing(
    users: dict[str, Any], make_person: Any
) -> None:
    person = make_person()
    api = api_client(clear(users["rep_ana"]))
    response = api.post(f"/api/v1/people/{person.id}/facts", {"item": "health", "value": SECRET, "source": "customer_stated"},
                        content_type="application/json")
    assert response.status_code == 422
    assert "legal_basis" in response.json()["errors"]
    assert not Fact.objects.filter(card=person).exists()
    assert not LegalBasis.objects.exists()


@pytest.mark.parametrize(
    ("basis", "field"),
    [
        ({"basis": "explicit_consent", "wording": "yes"}, "legal_basis.obtained_at"),
        ({"basis": "explicit_consent", "obtained_at": "2024-01-01"}, "legal_basis.wording"),
        ({"basis": "legitimate_interest"}, "legal_basis.basis"),
        ({"basis": "explicit_consent", "obtained_at": "yesterday", "wording": "yes"}, "legal_basis.obtained_at"),
        ({"basis": "explicit_consent", "obtained_at": "2999-01-01", "wording": "yes"}, "legal_basis.obtained_at"),
    ],
)
def test_an_incomplete_or_disallowed_legal_basis_names_the_field(
    users: dict[str, Any], make_person: Any, basis: dict[str, Any], field: str
) -> None:
    person = make_person()
    response = api_client(clear(users["rep_ana"])).post(
        f"/api/v1/people/{person.id}/facts",
        {"item": "health", "value": SECRET, "source": "customer_stated", "legal_basis": basis},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert not Fact.objects.filter(card=person).exists()


def test_an_admin_may_allow_another_basis_for_special_items(users: dict[str, Any], make_person: Any, settings: Any) -> None:
    settings.RAPPORT_SPECIAL_BASES = ["explicit_consent", "made_public"]
    person = make_person()
    response = api_client(clear(users["rep_ana"])).post(
        f"/api/v1/people/{person.id}/facts",
        {"item": "political_opinions", "value": "Stood for the council", "source": "customer_stated", "legal_basis": {"basis": "made_public"}},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert LegalBasis.objects.get(card=person).basis == "made_public"


def test_a_special_item_with_consent_is_recorded_and_read_back_by_a_cleared_user(users: dict[str, Any], make_person: Any) -> None:
    person = make_person()
    api = api_client(clear(users["rep_ana"]))
    response = api.post(f"/api/v1/people/{person.id}/facts",
                        {"item": "health", "value": SECRET, "source": "customer_stated", "note": "Said at lunch", "legal_basis": CONSENT},
                        content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["value"] == SECRET and response.json()["note"] == "Said at lunch"
    card = api.get(f"/api/v1/people/{person.id}").json()
    assert card["profile"]["health"]["value"] == SECRET
    facts = api.get(f"/api/v1/people/{person.id}/facts").json()["items"]
    assert facts[0]["value"] == SECRET
    timeline = api.get(f"/api/v1/people/{person.id}/timeline").json()["items"]
    assert any(e["detail"] == SECRET for e in timeline)
    basis = LegalBasis.objects.get(card=person)
    assert basis.item_key == "health" and basis.wording == CONSENT["wording"] and str(basis.obtained_at) == "2024-03-01"


def test_special_values_are_stored_encrypted_in_every_column(users: dict[str, Any], make_person: Any) -> None:
    person = make_person()
    services.add_fact(user=clear(users["rep_ana"]), card=person, item_key="health", value=SECRET,
                      source_key="customer_stated", note="Note-" + SECRET, legal_basis=CONSENT)
    fact = Fact.objects.get(card=person)
    assert crypto.is_sealed(fact.value) and fact.note.startswith(crypto.TEXT_PREFIX)
    assert fact.value_text.startswith(crypto.BLIND_PREFIX)
    assert CurrentValue.objects.get(card=person).value_text.startswith(crypto.BLIND_PREFIX)
    assert crypto.is_sealed(Card.objects.get(pk=person.pk).profile["health"]["v"])


@pytest.mark.django_db(transaction=True)
def test_no_plaintext_of_a_special_value_is_found_anywhere_in_the_database_file(users: dict[str, Any], make_person: Any) -> None:
    person = make_person()
    ana = clear(users["rep_ana"])
    services.add_fact(user=ana, card=person, item_key="health", value=SECRET, source_key="customer_stated",
                      note="Note " + SECRET.upper(), legal_basis=CONSENT)
    services.add_fact(user=ana, card=person, item_key="religion", value="Pastafarian-" + SECRET, source_key="customer_stated",
                      legal_basis=CONSENT)
    # Reading it (which writes audit entries) must not leave a copy either.
    api_client(ana).get(f"/api/v1/people/{person.id}")
    api_client(ana).get(f"/api/v1/people/{person.id}/timeline")
    dump = database_bytes()
    assert person.display_name.encode() in dump  # the dump does hold the card: the check can fail
    for needle in (SECRET, SECRET.upper(), SECRET.casefold(), "Pastafarian"):
        assert needle.encode() not in dump, needle


def test_users_without_clearance_get_no_key_for_special_items_anywhere(users: dict[str, Any], make_person: Any) -> None:
    person = make_person(owner="rep_ana")
    services.add_fact(user=clear(users["admin"]), card=person, item_key="health", value=SECRET,
                      source_key="customer_stated", legal_basis=CONSENT)
    for name in ("rep_ana", "manager_mei", "analyst_al"):
        api = api_client(users[name])
        card = api.get(f"/api/v1/people/{person.id}")
        assert card.status_code == 200
        assert "health" not in card.json()["profile"]
        for url in (f"/api/v1/people/{person.id}", f"/api/v1/people/{person.id}/facts",
                    f"/api/v1/people/{person.id}/timeline", f"/api/v1/people?q={person.display_name[:3]}",
                    f"/api/v1/search?q={person.family_name}"):
            body = api.get(url).content.decode()
            assert SECRET not in body and '"health"' not in body, (name, url)
        assert api.get("/api/v1/people?item=health").status_code == 422
        assert '"health"' not in api.get("/api/v1/catalog/items").content.decode()
        web = Client()
        web.force_login(users[name])
        html = web.get(f"/cards/{person.id}/").content.decode()
        assert SECRET not in html and 'value="health"' not in html, name


def test_writing_a_special_item_without_clearance_is_refused_and_changes_nothing(users: dict[str, Any], make_person: Any) -> None:
    person = make_person(owner="rep_ana")
    version = Card.objects.get(pk=person.pk).version
    with pytest.raises(ValidationError) as refused:
        services.add_fact(user=users["rep_ana"], card=person, item_key="health", value=SECRET,
                          source_key="customer_stated", legal_basis=CONSENT)
    assert "item" in refused.value.errors
    response = api_client(users["rep_ana"]).post(
        f"/api/v1/people/{person.id}/facts",
        {"item": "health", "value": SECRET, "source": "customer_stated", "legal_basis": CONSENT}, content_type="application/json",
    )
    assert response.status_code == 422
    assert not Fact.objects.filter(card=person).exists() and not LegalBasis.objects.exists()
    assert Card.objects.get(pk=person.pk).version == version


def test_the_catalog_lists_special_items_only_to_cleared_users(users: dict[str, Any]) -> None:
    keys = {i["key"] for i in api_client(clear(users["rep_ana"])).get("/api/v1/catalog/items").json()["items"]}
    assert "health" in keys and "religion" in keys


def test_a_cleared_user_filters_a_list_on_an_encrypted_value(users: dict[str, Any], make_person: Any) -> None:
    ana = clear(users["rep_ana"])
    match = make_person(given_name="Ada")
    other = make_person(given_name="Bea")
    services.add_fact(user=ana, card=match, item_key="religion", value="Quaker", source_key="customer_stated", legal_basis=CONSENT)
    services.add_fact(user=ana, card=other, item_key="religion", value="Stoic", source_key="customer_stated", legal_basis=CONSENT)
    api = api_client(ana)
    found = api.get("/api/v1/people?item=religion&value=quaker").json()
    assert [c["id"] for c in found["items"]] == [match.id]
    assert api.get("/api/v1/people?item=religion").json()["count"] == 2


def test_the_web_form_asks_for_a_legal_basis_and_refuses_a_special_fact_without_it(users: dict[str, Any], make_person: Any) -> None:
    person = make_person()
    web = Client()
    web.force_login(clear(users["rep_ana"]))
    page = web.get(f"/cards/{person.id}/").content.decode()
    assert 'name="legal_basis"' in page
    data = {"item": "health", "value": SECRET, "source": "customer_stated"}
    refused = web.post(f"/cards/{person.id}/facts/", data, HTTP_HX_REQUEST="true")
    assert refused.status_code == 422 and not Fact.objects.exists()
    data.update({"legal_basis": "explicit_consent", "legal_basis_obtained_at": "2024-02-02", "legal_basis_wording": "Yes, keep it."})
    assert web.post(f"/cards/{person.id}/facts/", data).status_code == 302
    assert LegalBasis.objects.get(card=person).wording == "Yes, keep it."


def test_rotating_keys_keeps_old_rows_readable_and_re_encrypts_them(
    users: dict[str, Any], make_person: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("RAPPORT_SECRET_KEYS", old_key)
    crypto.reset()
    person = make_person()
    ana = clear(users["rep_ana"])
    services.add_fact(user=ana, card=person, item_key="health", value=SECRET, source_key="customer_stated",
                      note="private", legal_basis=CONSENT)
    before = Fact.objects.get(card=person).value
    # A new key first: rows sealed with the old one still read during the rotation.
    monkeypatch.setenv("RAPPORT_SECRET_KEYS", f"{new_key},{old_key}")
    crypto.reset()
    assert api_client(ana).get(f"/api/v1/people/{person.id}").json()["profile"]["health"]["value"] == SECRET
    from rapport.privacy.services import rotate_keys

    result = rotate_keys()
    assert result.facts == 1 and result.cards == 1
    fact = Fact.objects.get(card=person)
    assert fact.value != before
    # The old key can now be retired.
    monkeypatch.setenv("RAPPORT_SECRET_KEYS", new_key)
    crypto.reset()
    assert crypto.unseal(fact.value) == SECRET and crypto.unseal_text(fact.note) == "private"
    assert api_client(ana).get(f"/api/v1/people/{person.id}").json()["profile"]["health"]["value"] == SECRET
    crypto.reset()


def test_bulk_loading_seals_special_items_and_requires_their_legal_basis(users: dict[str, Any]) -> None:
    from rapport.cards.bulk import BulkError, bulk_create_cards

    admin = clear(users["admin"])
    raw_fact: dict[str, Any] = {"item": "health", "value": SECRET, "source": "customer_stated"}
    row: dict[str, Any] = {"kind": "person", "given_name": "Bulk", "family_name": "Loaded", "facts": [raw_fact]}
    with pytest.raises(BulkError) as refused:
        bulk_create_cards(user=admin, rows=[row])
    assert "rows[0].facts[0].legal_basis" in refused.value.errors
    assert not Card.objects.filter(given_name="Bulk").exists()
    raw_fact["legal_basis"] = CONSENT
    assert bulk_create_cards(user=admin, rows=[row]) == 1
    card = Card.objects.get(given_name="Bulk")
    fact = Fact.objects.get(card=card)
    assert crypto.is_sealed(fact.value) and crypto.is_sealed(card.profile["health"]["v"])
    assert CurrentValue.objects.get(card=card).value_text.startswith(crypto.BLIND_PREFIX)
    assert LegalBasis.objects.get(card=card).fact_id == fact.id
    assert api_client(admin).get(f"/api/v1/people/{card.id}").json()["profile"]["health"]["value"] == SECRET


def test_an_item_newly_marked_special_has_its_values_sealed_by_the_rotation(users: dict[str, Any], make_person: Any) -> None:
    from rapport.catalog import selectors as catalog
    from rapport.catalog.models import InformationItem
    from rapport.privacy.services import rotate_keys

    ana = clear(users["rep_ana"])
    person = make_person()
    services.add_fact(user=ana, card=person, item_key="hobbies", value="Birdwatching", source_key="customer_stated", note="weekends")
    InformationItem.objects.filter(key="hobbies").update(sensitivity="special")
    catalog.clear_cache()
    rotate_keys()
    fact = Fact.objects.get(card=person)
    assert crypto.is_sealed(fact.value) and fact.note.startswith(crypto.TEXT_PREFIX)
    assert CurrentValue.objects.get(card=person).value_text == crypto.blind_index("hobbies", "birdwatching")
    assert crypto.is_sealed(Card.objects.get(pk=person.pk).profile["hobbies"]["v"])
    api = api_client(ana)
    assert api.get(f"/api/v1/people/{person.id}").json()["profile"]["hobbies"]["value"] == "Birdwatching"
    assert [c["id"] for c in api.get("/api/v1/people?item=hobbies&value=Birdwatching").json()["items"]] == [person.id]
    assert "hobbies" not in api_client(users["rep_ben"]).get(f"/api/v1/people/{person.id}").json()["profile"]
