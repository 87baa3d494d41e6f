"""Data-subject access, portability and erasure (GDPR art. 15, 17, 20)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.db import models
from django.test import Client

from rapport.activities.services import log_activity
from rapport.audit.models import AuditEntry
from rapport.cards import services
from rapport.cards.models import Card, Fact
from rapport.cli import main
from rapport.core.errors import PermissionDenied
from rapport.privacy import services as privacy
from rapport.privacy.models import Tombstone
from rapport.privacy.tests.factories import CONSENT, api_client, clear, database_bytes
from rapport.search.models import Term, Variant
from rapport.search.selectors import search_cards

SPECIAL = "Qwertyuiop-migraine"


@pytest.fixture
def subject(users: dict[str, Any], make_org: Any, make_person: Any) -> Card:
    """A person with every kind of data: contacts, employment, facts (one special), an activity,
    a share, a consent, and a change in the audit log."""
    org = make_org(name="Ferretería Zamorano")
    person = make_person(given_name="Xiomara", family_name="Quetzalcoatl", emails=["xiomara.q@example.org"],
                         phones=["+34 699 111 222"], addresses=[{"street": "Calle Ñandú 7", "city": "Zamora"}],
                         external_id="ERP-77781", organization=org.id, title="Buyer")
    ana = clear(users["rep_ana"])
    services.add_fact(user=ana, card=person, item_key="hobbies", value="Falconry-Xiomara", source_key="customer_stated")
    services.add_fact(user=ana, card=person, item_key="health", value=SPECIAL, source_key="customer_stated", legal_basis=CONSENT)
    log_activity(user=ana, data={"kind": "call", "summary": "Called Xiomara about falconry", "cards": [person.id]})
    log_activity(user=ana, data={"kind": "visit", "summary": "Visited Xiomara and the shop", "cards": [person.id, org.id]})
    services.share_card(user=ana, card=person, with_user=users["rep_bo_other_team"])
    privacy.record_consent(user=ana, card=person, purpose="marketing", legal_basis=CONSENT)
    services.update_card(user=ana, card=person, data={"family_name": "Quetzalcoatl-Ruiz"})
    return Card.objects.get(pk=person.pk)


PERSONAL = ("Xiomara", "Quetzalcoatl", "xiomara.q@example.org", "34699111222", "Ñandú", "ERP-77781", "Falconry", SPECIAL)


def test_an_export_holds_every_model_that_refers_to_the_person_with_sources_purposes_and_retention(
    users: dict[str, Any], subject: Card
) -> None:
    document = privacy.export_person(user=clear(users["admin"]), card_id=subject.id)
    related = document["related"]
    for key in ("cards.phone.card", "cards.email.card", "cards.address.card", "cards.fact.card", "cards.employment.person",
                "cards.share.card", "activities.participant.card", "privacy.legalbasis.card", "cards.stagechange.card"):
        assert related.get(key), key
    facts = {f["item"]: f for f in related["cards.fact.card"]}
    assert facts["health"]["value"] == SPECIAL and facts["health"]["purpose"] == "special"
    assert facts["hobbies"]["source"] == "customer_stated" and "retention" in facts["hobbies"]
    assert "24 months" in facts["health"]["retention"]
    assert {p["activity"]["summary"] for p in related["activities.participant.card"]} == {
        "Called Xiomara about falconry", "Visited Xiomara and the shop"}
    assert document["person"]["family_name"] == "Quetzalcoatl-Ruiz"
    assert any(e["action"] == "update" for e in document["access_log"])
    assert AuditEntry.objects.filter(action="export", record_id=str(subject.id)).exists()


def test_a_model_added_later_is_found_by_introspection(subject: Card) -> None:
    # Every concrete foreign key to Card is visited; none is listed by hand.
    found = {f"{m._meta.label_lower}.{f.name}" for m, f in privacy.referring_fields()}
    expected = {
        f"{m._meta.label_lower}.{f.name}"
        for m in __import__("django.apps", fromlist=["apps"]).apps.get_models(include_auto_created=True)
        for f in m._meta.concrete_fields if isinstance(f, models.ForeignKey) and f.related_model is Card
    }
    assert found == expected and "search.term.card" in found


def test_an_admin_without_clearance_exports_without_special_items(users: dict[str, Any], subject: Card) -> None:
    document = privacy.export_person(user=users["admin"], card_id=subject.id)
    text = json.dumps(document)
    assert SPECIAL not in text and '"health"' not in text
    assert "Falconry-Xiomara" in text


def test_only_administrators_export_or_erase(users: dict[str, Any], subject: Card) -> None:
    for name in ("rep_ana", "manager_mei", "analyst_al"):
        with pytest.raises(PermissionDenied):
            privacy.export_person(user=users[name], card_id=subject.id)
        with pytest.raises(PermissionDenied):
            privacy.erase_person(user=users[name], card_id=subject.id)
        assert api_client(users[name]).post(f"/api/v1/privacy/people/{subject.id}/erase", {"confirm": True},
                                            content_type="application/json").status_code == 403
    assert Card.objects.get(pk=subject.id).given_name == "Xiomara"


def test_export_as_json_and_vcard_through_the_api_web_and_command_line(
    users: dict[str, Any], subject: Card, tmp_path: Path, capsys: Any
) -> None:
    from rapport.accounts.services import create_token

    api = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=users['admin'], scope='admin')}")
    as_json = api.get(f"/api/v1/privacy/people/{subject.id}/export")
    assert as_json.status_code == 200 and as_json["Cache-Control"] == "no-store"
    assert json.loads(as_json.content)["person"]["given_name"] == "Xiomara"
    vcard = api.get(f"/api/v1/privacy/people/{subject.id}/export?format=vcard").content.decode()
    assert vcard.startswith("BEGIN:VCARD") and "EMAIL;TYPE=work:xiomara.q@example.org" in vcard and "tel:+34699111222" in vcard
    web = Client()
    web.force_login(users["admin"])
    assert web.get(f"/people/{subject.id}/privacy/export/?format=vcard")["Content-Type"].startswith("text/vcard")
    out = tmp_path / "export.json"
    assert main(["privacy", "export", str(subject.id), "--output", str(out)]) == 0
    assert json.loads(out.read_text())["related"]["cards.fact.card"]
    assert oct(out.stat().st_mode)[-3:] == "600"


@pytest.mark.django_db(transaction=True)
def test_after_erasure_no_row_that_refers_to_the_person_holds_anything_personal(users: dict[str, Any], subject: Card) -> None:
    org_id = subject.employments.get().organization_id
    result = privacy.erase_person(user=users["admin"], card_id=subject.id)
    assert result.pseudonym.startswith("p:")
    # Walk every foreign key to Card, and the card itself.
    card = Card.objects.get(pk=subject.id)
    rows: list[Any] = [card]
    for model, fk in privacy.referring_fields():
        rows.extend(model._default_manager.filter(**{fk.attname: subject.id}))
    for row in rows:
        text = json.dumps({f.attname: str(getattr(row, f.attname)) for f in row._meta.concrete_fields}, ensure_ascii=False)
        for needle in PERSONAL:
            assert needle.casefold() not in text.casefold(), (row._meta.label, needle)
    assert not Fact.objects.filter(card_id=subject.id).exists()
    assert card.display_name == privacy.ERASED_NAME and card.archived_at is not None
    # The organisation keeps its shared visit, without the person's words.
    from rapport.activities.models import Activity

    assert list(Activity.objects.filter(participants__card_id=org_id).values_list("summary", flat=True)) == ["—"]
    # Search index and its vocabulary, the audit log (pseudonym only), and the database as a whole.
    assert not Term.objects.filter(card_id=subject.id).exists()
    assert not Variant.objects.filter(word__in=["xiomara", "quetzalcoatl"]).exists()
    assert search_cards(users["admin"], "Xiomara") == []
    audit_text = json.dumps([[e.record_id, e.old, e.new, e.detail] for e in AuditEntry.objects.all()], default=str)
    for needle in PERSONAL:
        assert needle.casefold() not in audit_text.casefold(), needle
    assert AuditEntry.objects.filter(record_id=result.pseudonym, redacted=True).exists()
    dump = database_bytes()
    assert b"Ferreter" in dump  # the dump holds the other data: the check below can fail
    for needle in ("Xiomara", "Quetzalcoatl", "xiomara.q@example.org", "ERP-77781", "Falconry"):
        assert needle.encode() not in dump, needle


def test_a_tombstone_stops_an_import_from_bringing_the_person_back(users: dict[str, Any], subject: Card) -> None:
    assert not privacy.is_tombstoned(emails=["xiomara.q@example.org"])
    privacy.erase_person(user=None, card_id=subject.id)
    assert privacy.is_tombstoned(emails=["XIOMARA.Q@example.org"])
    assert privacy.is_tombstoned(phones=["+34699111222"])
    assert privacy.is_tombstoned(external_ids=["ERP-77781"])
    assert not privacy.is_tombstoned(emails=["someone.else@example.org"], phones=["+34600000000"])
    assert all("xiomara" not in t.digest for t in Tombstone.objects.all())
    checked = api_client(users["rep_ana"]).post("/api/v1/privacy/tombstones/check", {"emails": ["xiomara.q@example.org"]},
                                                content_type="application/json")
    assert checked.json() == {"tombstoned": True}


def test_bulk_loading_refuses_a_person_erased_earlier_and_loads_the_others(users: dict[str, Any], subject: Card) -> None:
    from rapport.cards.bulk import bulk_create_cards

    privacy.erase_person(user=None, card_id=subject.id)
    rows = [
        {"kind": "person", "given_name": "Xiomara", "family_name": "Again", "emails": ["xiomara.q@example.org"]},
        {"kind": "person", "given_name": "Someone", "family_name": "New", "emails": ["new.person@example.org"]},
        {"kind": "person", "given_name": "By", "family_name": "Phone", "phones": ["+34 699 111 222"]},
    ]
    refused: list[int] = []
    created = bulk_create_cards(user=users["admin"], rows=rows, on_error=lambda index, error: refused.append(index))
    assert created == 1 and refused == [0, 2]
    assert not Card.objects.filter(family_name__in=["Again", "Phone"]).exists()


def test_erasing_through_the_web_asks_for_confirmation(users: dict[str, Any], subject: Card) -> None:
    web = Client()
    web.force_login(users["admin"])
    assert web.get(f"/people/{subject.id}/privacy/erase/").status_code == 200
    assert web.post(f"/people/{subject.id}/privacy/erase/", {"confirm": "no"}).status_code == 422
    assert Card.objects.get(pk=subject.id).given_name == "Xiomara"
    assert web.post(f"/people/{subject.id}/privacy/erase/", {"confirm": "erase"}).status_code == 302
    assert Card.objects.get(pk=subject.id).given_name == ""


def test_erasing_twice_or_an_organisation_is_refused(users: dict[str, Any], subject: Card) -> None:
    from rapport.core.errors import NotFound, ValidationError

    org_id = subject.employments.get().organization_id
    with pytest.raises(NotFound):
        privacy.erase_person(user=users["admin"], card_id=org_id)
    privacy.erase_person(user=users["admin"], card_id=subject.id)
    with pytest.raises(ValidationError):
        privacy.erase_person(user=users["admin"], card_id=subject.id)
    assert main(["privacy", "erase", str(subject.id)]) == 2  # without --yes


def test_consent_per_purpose_is_shown_on_the_card_and_can_be_withdrawn(users: dict[str, Any], make_person: Any) -> None:
    person = make_person()
    web = Client()
    web.force_login(users["rep_ana"])
    page = web.get(f"/cards/{person.id}/").content.decode()
    assert "privacy-panel" in page and 'value="special"' not in page  # the special purpose needs clearance
    response = web.post(f"/people/{person.id}/consents/", {"purpose": "marketing", "basis": "consent",
                                                          "obtained_at": "2024-05-05", "wording": "Send me offers"},
                        HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Send me offers" in response.content.decode()
    bad = web.post(f"/people/{person.id}/consents/", {"purpose": "marketing", "basis": "consent"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 422
    api = api_client(users["rep_ana"])
    listed = api.get(f"/api/v1/privacy/people/{person.id}/consents").json()["items"]
    assert [(c["purpose"], c["status"]) for c in listed] == [("marketing", "given")]
    withdrawn = api.post(f"/api/v1/privacy/people/{person.id}/consents/{listed[0]['id']}/withdraw").json()
    assert withdrawn["status"] == "withdrawn"
    assert "withdrawn" in web.get(f"/cards/{person.id}/").content.decode()
    # Someone who cannot see the person cannot read or add their consents.
    other = api_client(users["rep_bo_other_team"])
    assert other.get(f"/api/v1/privacy/people/{person.id}/consents").status_code == 404


def test_special_legal_bases_are_hidden_from_users_without_clearance(users: dict[str, Any], subject: Card) -> None:
    listed = api_client(users["rep_ben"]).get(f"/api/v1/privacy/people/{subject.id}/consents").json()["items"]
    assert [c["purpose"] for c in listed] == ["marketing"]
    body = api_client(users["admin"]).get(f"/api/v1/privacy/people/{subject.id}/consents").content.decode()
    assert "health" not in body


def test_the_sweep_purges_special_items_of_inactive_contacts_and_reports(users: dict[str, Any], make_person: Any) -> None:
    from django.utils import timezone

    ana = clear(users["rep_ana"])
    long_ago = timezone.now() - dt.timedelta(days=800)
    quiet = make_person(given_name="Quiet")
    active = make_person(given_name="Active")
    for card in (quiet, active):
        services.add_fact(user=ana, card=card, item_key="health", value="x", source_key="customer_stated", legal_basis=CONSENT)
        services.add_fact(user=ana, card=card, item_key="hobbies", value="chess", source_key="customer_stated")
    Fact.objects.all().update(recorded_at=long_ago)
    log_activity(user=ana, data={"kind": "call", "summary": "Hello", "cards": [active.id]})
    dry = {line.rule: line for line in privacy.sweep(dry_run=True)}
    assert (dry["special_inactive"].cards, dry["special_inactive"].facts) == (1, 1)
    assert Fact.objects.filter(item__key="health").count() == 2
    assert main(["privacy", "sweep"]) == 0
    assert list(Fact.objects.filter(item__key="health").values_list("card_id", flat=True)) == [active.id]
    assert "health" not in Card.objects.get(pk=quiet.pk).profile
    assert Fact.objects.filter(card=quiet, item__key="hobbies").exists()
    assert AuditEntry.objects.filter(action="purge", record_id=str(quiet.id)).exists()
