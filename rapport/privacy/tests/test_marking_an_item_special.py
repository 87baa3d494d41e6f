"""Marking a catalog item special seals every value already stored for it, at once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.forms.models import model_to_dict
from django.test import Client

from rapport.audit.models import AuditEntry
from rapport.audit.services import REDACTED
from rapport.cards import services
from rapport.cards.models import Card, CurrentValue, Fact
from rapport.catalog import selectors as catalog
from rapport.catalog.models import InformationItem
from rapport.catalog.services import change_sensitivity, load_catalog
from rapport.core.errors import PermissionDenied, ValidationError
from rapport.privacy import crypto
from rapport.privacy.tests.factories import api_client, clear, database_bytes

HOBBY = "Qzxwv-falconry"
NOTE = "Jkqvb-weekends"


def _hobby_values(users: dict[str, Any], make_person: Any, count: int = 3) -> list[Card]:
    """People with a hobby recorded while "hobbies" is still an internal item."""
    ana = users["rep_ana"]
    people = []
    for n in range(count):
        person = make_person(given_name=f"Xiomara{n}", family_name="Quetzal")
        services.add_fact(user=ana, card=person, item_key="hobbies", value=f"{HOBBY}-{n}", source_key="customer_stated",
                          note=f"{NOTE}-{n}")
        people.append(person)
    return people


def _hobbies() -> InformationItem:
    return InformationItem.objects.get(key="hobbies")


def _assert_sealed(person: Card, n: int) -> None:
    fact = Fact.objects.get(card=person, item__key="hobbies")
    assert crypto.is_sealed(fact.value) and crypto.unseal(fact.value) == f"{HOBBY}-{n}"
    assert fact.note.startswith(crypto.TEXT_PREFIX) and crypto.unseal_text(fact.note) == f"{NOTE}-{n}"
    assert fact.value_text == crypto.blind_index("hobbies", f"{HOBBY}-{n}".casefold())
    assert CurrentValue.objects.get(card=person, item__key="hobbies").value_text == fact.value_text
    assert crypto.is_sealed(Card.objects.get(pk=person.pk).profile["hobbies"]["v"])


def test_marking_an_item_special_seals_facts_current_values_and_profiles_at_once(users: dict[str, Any], make_person: Any) -> None:
    people = _hobby_values(users, make_person)
    change_sensitivity(user=users["admin"], item=_hobbies(), sensitivity="special", batch=2)  # batches of 2: 3 rows
    for n, person in enumerate(people):
        _assert_sealed(person, n)
    # The values the audit log recorded when the facts were created are redacted too.
    created = AuditEntry.objects.filter(record_type="cards.fact", field="hobbies", action="create")
    assert created.count() == 3 and set(created.values_list("new", flat=True)) == {REDACTED}
    change = AuditEntry.objects.get(record_type="catalog.informationitem", field="sensitivity")
    assert (change.old, change.new, change.actor) == ("internal", "special", "admin")
    assert change.detail["sealed"] == {"facts": 3, "current_values": 3, "cards": 3, "merges": 0, "audit_entries": 3}


def test_a_cleared_user_still_reads_and_filters_the_values_and_others_get_no_key(users: dict[str, Any], make_person: Any) -> None:
    person, *_ = _hobby_values(users, make_person, count=1)
    change_sensitivity(user=users["admin"], item=_hobbies(), sensitivity="special")
    cleared = api_client(clear(users["rep_ana"]))
    assert cleared.get(f"/api/v1/people/{person.id}").json()["profile"]["hobbies"]["value"] == f"{HOBBY}-0"
    found = cleared.get("/api/v1/people", {"item": "hobbies", "value": f"{HOBBY}-0"}).json()["items"]
    assert [c["id"] for c in found] == [person.id]
    for name in ("rep_ben", "manager_mei"):
        api = api_client(users[name])
        card = api.get(f"/api/v1/people/{person.id}")
        assert card.status_code == 200 and "hobbies" not in card.json()["profile"]
        for url in (f"/api/v1/people/{person.id}", f"/api/v1/people/{person.id}/facts", f"/api/v1/people/{person.id}/timeline"):
            body = api.get(url).content.decode()
            assert HOBBY not in body and NOTE not in body, (name, url)


@pytest.mark.django_db(transaction=True)
def test_no_plaintext_of_a_newly_special_item_is_left_in_the_database_file(users: dict[str, Any], make_person: Any) -> None:
    people = _hobby_values(users, make_person)
    before = database_bytes()
    assert HOBBY.encode() in before and NOTE.encode() in before  # the check below can fail
    change_sensitivity(user=users["admin"], item=_hobbies(), sensitivity="special")
    api_client(clear(users["rep_ana"])).get(f"/api/v1/people/{people[0].id}")  # an audited read writes, too
    dump = database_bytes()  # a compacted copy: only live rows, as a backup would hold them
    assert people[0].display_name.encode() in dump
    for needle in (HOBBY, HOBBY.casefold(), HOBBY.upper(), NOTE):
        assert needle.encode() not in dump, needle
    catalog.clear_cache()


def test_special_stays_special_with_a_reason_and_nothing_changes(users: dict[str, Any], make_person: Any) -> None:
    person, *_ = _hobby_values(users, make_person, count=1)
    change_sensitivity(user=users["admin"], item=_hobbies(), sensitivity="special")
    sealed = Fact.objects.get(card=person).value
    with pytest.raises(ValidationError) as refused:
        change_sensitivity(user=users["admin"], item=_hobbies(), sensitivity="internal")
    assert "stays one" in refused.value.errors["sensitivity"][0]
    assert _hobbies().sensitivity == "special" and Fact.objects.get(card=person).value == sealed


def test_only_administrators_change_an_items_sensitivity(users: dict[str, Any], make_person: Any) -> None:
    person, *_ = _hobby_values(users, make_person, count=1)
    for name in ("rep_ana", "manager_mei"):
        with pytest.raises(PermissionDenied):
            change_sensitivity(user=users[name], item=_hobbies(), sensitivity="special")
    with pytest.raises(ValidationError):
        change_sensitivity(user=users["admin"], item=_hobbies(), sensitivity="secret")
    assert _hobbies().sensitivity == "internal" and not crypto.is_sealed(Fact.objects.get(card=person).value)


def test_a_failure_while_sealing_leaves_the_item_and_its_values_as_they_were(users: dict[str, Any], make_person: Any,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    people = _hobby_values(users, make_person)
    from rapport.privacy import services as privacy

    def broken(**kwargs: Any) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(privacy, "redact_item_values", broken)
    with pytest.raises(RuntimeError):
        change_sensitivity(user=users["admin"], item=_hobbies(), sensitivity="special")
    catalog.clear_cache()
    assert _hobbies().sensitivity == "internal"
    assert not any(crypto.is_sealed(f.value) for f in Fact.objects.filter(card__in=people))
    assert not AuditEntry.objects.filter(record_type="catalog.informationitem").exists()


def test_the_django_admin_seals_at_once_and_refuses_to_lower_a_special_item(users: dict[str, Any], make_person: Any) -> None:
    person, *_ = _hobby_values(users, make_person, count=1)
    operator = users["admin"]
    operator.is_superuser = operator.is_staff = True  # the catalog is edited by the site's superuser
    operator.save(update_fields=["is_superuser", "is_staff"])
    admin = Client()
    admin.force_login(operator)
    item = _hobbies()
    form = {k: json.dumps(v) if isinstance(v, (dict, list)) else ("on" if v is True else v)
            for k, v in model_to_dict(item).items() if v is not False and k != "id"}
    url = f"/admin/catalog/informationitem/{item.pk}/change/"
    response = admin.post(url, {**form, "sensitivity": "special"})
    assert response.status_code == 302, response.content[:800]
    _assert_sealed(person, 0)
    response = admin.post(url, {**form, "sensitivity": "internal"})
    assert response.status_code == 200 and "stays one" in response.content.decode()
    assert _hobbies().sensitivity == "special"
    catalog.clear_cache()


def test_reloading_the_catalog_with_an_item_now_special_seals_its_values(users: dict[str, Any], make_person: Any, tmp_path: Any) -> None:
    import yaml

    from rapport.catalog.services import DATA_DIR

    person, *_ = _hobby_values(users, make_person, count=1)
    document = yaml.safe_load((DATA_DIR / "items.yaml").read_text(encoding="utf-8"))
    for raw in document["items"]:
        if raw["key"] == "hobbies":
            raw["sensitivity"] = "special"
    path = tmp_path / "items.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    load_catalog(items_path=path)
    assert _hobbies().sensitivity == "special"
    _assert_sealed(person, 0)
    catalog.clear_cache()
