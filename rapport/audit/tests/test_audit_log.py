"""The audit log records every change, sensitive read, denial, sign-in and permission change."""

from __future__ import annotations

from typing import Any

from django.test import Client

from rapport.accounts.services import set_special_clearance
from rapport.audit.models import AuditEntry
from rapport.cards import services
from rapport.privacy.tests.factories import CONSENT, api_client, clear


def entries(**filters: Any) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(**filters).order_by("id"))


def test_creating_and_changing_a_card_records_each_field_old_and_new_with_who_and_the_request_id(
    users: dict[str, Any], make_org: Any
) -> None:
    org = make_org(name="Old name", industry="Wine")
    created = entries(action="create", record_type="cards.card", record_id=str(org.id))
    assert len(created) == 1 and created[0].actor == "rep_ana"
    api = api_client(users["rep_ana"])
    response = api.patch(f"/api/v1/organizations/{org.id}", {"name": "New name", "industry": "Beer"},
                         content_type="application/json", HTTP_IF_MATCH=f'"{org.version}"', HTTP_X_REQUEST_ID="req-abc-123456")
    assert response.status_code == 200 and response["X-Request-ID"] == "req-abc-123456"
    changes = {e.field: (e.old, e.new) for e in entries(action="update", record_id=str(org.id))}
    assert changes == {"display_name": ("Old name", "New name"), "industry": ("Wine", "Beer")}
    assert {e.request_id for e in entries(action="update")} == {"req-abc-123456"}
    assert all(e.actor_id == users["rep_ana"].id and e.at for e in entries(action="update"))


def test_archiving_and_restoring_are_recorded(users: dict[str, Any], make_org: Any) -> None:
    org = make_org()
    api = api_client(users["rep_ana"])
    api.post(f"/api/v1/organizations/{org.id}/archive")
    api.post(f"/api/v1/organizations/{org.id}/restore")
    assert [e.action for e in entries(record_id=str(org.id), record_type="cards.card")][-2:] == ["archive", "restore"]


def test_reading_special_and_confidential_items_is_recorded_once_per_request_without_the_value(
    users: dict[str, Any], make_person: Any
) -> None:
    person = make_person()
    ana = clear(users["rep_ana"])
    services.add_fact(user=ana, card=person, item_key="health", value="Asthma", source_key="customer_stated", legal_basis=CONSENT)
    before = AuditEntry.objects.filter(action="read").count()
    web = Client()
    web.force_login(ana)
    assert web.get(f"/cards/{person.id}/").status_code == 200
    reads = list(AuditEntry.objects.filter(action="read").order_by("id"))[before:]
    assert len(reads) == 1 and reads[0].detail == {"items": ["health"]} and reads[0].record_id == str(person.id)
    assert "Asthma" not in str([(e.old, e.new, e.detail) for e in AuditEntry.objects.all()])
    # A user who cannot read the item leaves no read entry: nothing sensitive was shown.
    web.force_login(users["rep_ben"])
    web.get(f"/cards/{person.id}/")
    assert AuditEntry.objects.filter(action="read", actor="rep_ben").count() == 0


def test_a_denied_attempt_on_a_card_out_of_reach_is_recorded_and_answered_like_a_missing_one(
    users: dict[str, Any], make_org: Any
) -> None:
    org = make_org(owner="rep_bo_other_team")
    api = api_client(users["rep_ana"])
    hidden = api.get(f"/api/v1/organizations/{org.id}")
    missing = api.get("/api/v1/organizations/999999")
    assert hidden.status_code == missing.status_code == 404 and hidden.content == missing.content
    denied = entries(action="denied")
    assert [(e.actor, e.record_id) for e in denied] == [("rep_ana", str(org.id))]


def test_sign_ins_failures_and_permission_changes_are_recorded(users: dict[str, Any]) -> None:
    client = Client()
    client.post("/login/", {"username": "rep_ana", "password": "wrong"})
    client.post("/login/", {"username": "rep_ana", "password": "x"})
    assert entries(action="login_failed")[0].detail == {"username": "rep_ana"}
    assert entries(action="login")[0].actor == "rep_ana"
    set_special_clearance(user=users["rep_ben"], granted=True, by=users["admin"])
    change = entries(action="permission", field="can_see_special")[0]
    assert (change.old, change.new, change.actor, change.record_id) == (False, True, "admin", str(users["rep_ben"].id))


def test_an_admin_changing_a_role_in_the_admin_site_is_recorded(users: dict[str, Any]) -> None:
    admin = users["admin"]
    admin.is_superuser = True
    admin.save()
    web = Client()
    web.force_login(admin)
    ben = users["rep_ben"]
    page = web.get(f"/admin/accounts/user/{ben.id}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, (list, tuple))}
    data.update({"username": "rep_ben", "role": "manager", "date_joined_0": "2024-01-01", "date_joined_1": "00:00:00",
                 "teams": [t.id for t in ben.teams.all()], "is_active": "on"})
    data.pop("last_login", None)
    data.pop("date_joined", None)
    data.pop("password", None)
    response = web.post(f"/admin/accounts/user/{ben.id}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    change = entries(action="permission", field="role")[0]
    assert (change.old, change.new, change.actor) == ("rep", "manager", "admin")
