"""The user of each signed-in page comes with their teams in one statement; sign-in is unchanged."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, authenticate
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rapport.accounts.backends import TeamsBackend
from rapport.accounts.models import User
from rapport.accounts.selectors import memberships_of
from rapport.accounts.services import create_user
from rapport.core.visibility import scope_for


@pytest.mark.parametrize("username", ["rep_ana", "manager_mei", "admin", "rep_bo_other_team"])
def test_the_user_of_a_session_comes_with_their_teams_in_one_statement(users: dict[str, Any], username: str) -> None:
    with CaptureQueriesContext(connection) as ctx:
        user = TeamsBackend().get_user(users[username].pk)
        assert user is not None
        scope = scope_for(user)
        teams, managed = scope.team_ids, scope.managed_team_ids
    assert len(ctx.captured_queries) == 1
    expected = memberships_of(users[username].pk)
    assert (teams, managed) == (expected.teams, expected.managed_teams if user.role == "manager" else [])


def test_an_inactive_or_unknown_user_is_nobody(users: dict[str, Any]) -> None:
    User.objects.filter(pk=users["rep_ana"].pk).update(is_active=False)
    backend = TeamsBackend()
    for user_id in (users["rep_ana"].pk, 10**9, "x", None, True, "1e3", -1, 2**70):
        assert backend.get_user(user_id) is None, user_id


def test_signing_in_on_the_web_opens_a_session_under_this_backend(users: dict[str, Any]) -> None:
    create_user(username="lucia", role="rep", password="right-horse-battery", teams=["North"], validate=False)
    client = Client()
    assert client.post("/login/", {"username": "lucia", "password": "right-horse-battery"}).status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == "rapport.accounts.backends.TeamsBackend"
    answer = client.get("/people/")
    assert answer.status_code == 200 and answer.wsgi_request.user.username == "lucia"


def test_a_session_opened_under_djangos_model_backend_stays_signed_in(users: dict[str, Any]) -> None:
    client = Client()
    client.force_login(users["rep_ana"], backend="django.contrib.auth.backends.ModelBackend")
    answer = client.get("/people/")
    assert answer.status_code == 200 and answer.wsgi_request.user == users["rep_ana"]
    assert Client().get("/people/").status_code == 302  # signed out, the same page sends to the sign-in


def test_a_wrong_password_is_checked_once(users: dict[str, Any]) -> None:
    create_user(username="lucia", role="rep", password="right-horse-battery", validate=False)
    with mock.patch.object(User, "check_password", autospec=True, side_effect=User.check_password) as checked:
        assert authenticate(username="lucia", password="wrong") is None
    assert checked.call_count == 1
    with mock.patch.object(ModelBackend, "authenticate", autospec=True, side_effect=ModelBackend.authenticate) as tried:
        assert authenticate(username="lucia", password="right-horse-battery") is not None
    assert tried.call_count == 1  # TeamsBackend's own call to it; the model backend listed after is not asked


def test_a_wrong_password_is_still_recorded_as_a_failed_sign_in(users: dict[str, Any]) -> None:
    from rapport.audit.models import AuditEntry

    create_user(username="lucia", role="rep", password="right-horse-battery", validate=False)
    before = AuditEntry.objects.count()
    assert Client().post("/login/", {"username": "lucia", "password": "wrong"}).status_code == 200
    assert AuditEntry.objects.count() == before + 1
