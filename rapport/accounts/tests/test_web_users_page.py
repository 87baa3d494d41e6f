"""Administrators list the users and set a password on the web; nobody else can."""

from __future__ import annotations

import logging
from typing import Any

from django.test import Client

from rapport.audit.models import Action, AuditEntry


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_admin_sees_every_user_with_role_and_teams_and_the_menu_leads_there(users: dict[str, Any]) -> None:
    admin = _client(users["admin"])
    home = admin.get("/").content.decode()
    assert 'href="/account/users/"' in home
    page = admin.get("/account/users/").content.decode()
    for name in ("rep_ana", "rep_bo_other_team", "manager_mei", "analyst_al"):
        assert name in page
    assert "Sales manager" in page and "North" in page and "South" in page
    assert f'href="/account/users/{users["rep_ana"].pk}/password/"' in page


def test_an_admin_sets_a_password_that_then_signs_in_and_the_change_is_audited(users: dict[str, Any]) -> None:
    admin = _client(users["admin"])
    ana = users["rep_ana"]
    response = admin.post(f"/account/users/{ana.pk}/password/",
                          {"new_password1": "Correct-Horse-42", "new_password2": "Correct-Horse-42"})
    assert response.status_code == 302 and response["Location"] == "/account/users/"
    ana.refresh_from_db()
    assert ana.check_password("Correct-Horse-42")
    entry = AuditEntry.objects.get(action=Action.PERMISSION, field="password", record_id=str(ana.pk))
    assert entry.actor == "admin" and "Correct-Horse-42" not in str(entry.new) + str(entry.detail)
    assert Client().login(username="rep_ana", password="Correct-Horse-42")


def test_a_weak_or_mistyped_password_is_refused_with_the_reason(users: dict[str, Any]) -> None:
    admin = _client(users["admin"])
    ana = users["rep_ana"]
    weak = admin.post(f"/account/users/{ana.pk}/password/", {"new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 422 and "too short" in weak.content.decode()
    differ = admin.post(f"/account/users/{ana.pk}/password/", {"new_password1": "Correct-Horse-42", "new_password2": "Other"})
    assert differ.status_code == 422 and "didn’t match" in differ.content.decode()
    huge = admin.post(f"/account/users/{ana.pk}/password/", {"new_password1": "x" * 5000, "new_password2": "x" * 5000})
    assert huge.status_code == 422
    ana.refresh_from_db()
    assert ana.check_password("x")


def test_an_unknown_user_answers_404(users: dict[str, Any]) -> None:
    admin = _client(users["admin"])
    assert admin.get("/account/users/999999/password/").status_code == 404
    assert admin.get("/account/users/abc/password/").status_code == 404


def test_reps_managers_and_analysts_are_refused_without_a_traceback(users: dict[str, Any], caplog: Any) -> None:
    for name in ("rep_ana", "manager_mei", "analyst_al"):
        client = _client(users[name])
        assert 'href="/account/users/"' not in client.get("/").content.decode()
        with caplog.at_level(logging.WARNING):
            assert client.get("/account/users/").status_code == 403
            target = users["admin"].pk
            assert client.post(f"/account/users/{target}/password/",
                               {"new_password1": "Correct-Horse-42", "new_password2": "Correct-Horse-42"}).status_code == 403
    assert not [r for r in caplog.records if r.exc_info]
    users["admin"].refresh_from_db()
    assert users["admin"].check_password("x")


def test_signed_out_visitors_are_sent_to_sign_in(db: Any) -> None:
    response = Client().get("/account/users/")
    assert response.status_code == 302 and "/login/" in response["Location"]
