"""The teams a user belongs to and manages, as the visibility scope reads them on every request."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.accounts.models import Team, User
from rapport.accounts.selectors import memberships_of, team_ids_of
from rapport.accounts.services import create_user
from rapport.core.visibility import scope_for


def test_team_ids_of_lists_the_teams_as_the_related_managers_list_them(users: dict[str, Any]) -> None:
    create_user(username="rep_multi", role="rep", teams=["Zeta", "Alpha", "North"], password="x", validate=False)
    create_user(username="mgr_multi", role="manager", teams=["Zeta"], manages=["South", "Alpha", "North"], password="x", validate=False)
    assert Team.objects.count() >= 4
    for user in User.objects.all():
        assert team_ids_of(user.id) == list(user.teams.values_list("id", flat=True)), user.username
        assert memberships_of(user.id)[1] == list(user.managed_teams.values_list("id", flat=True)), user.username
    multi = User.objects.get(username="rep_multi")
    assert [Team.objects.get(pk=i).name for i in team_ids_of(multi.id)] == ["Alpha", "North", "Zeta"]


def test_a_managers_scope_reads_teams_managed_teams_and_managed_people_in_one_statement(users: dict[str, Any]) -> None:
    manager = User.objects.get(pk=users["manager_mei"].pk)
    north = Team.objects.get(name="North").id
    with CaptureQueriesContext(connection) as ctx:
        scope = scope_for(manager)
        team_ids, managed, people = scope.team_ids, scope.managed_team_ids, scope.managed_user_ids
    assert (team_ids, managed) == ([], [north])
    assert people == sorted(User.objects.filter(teams=north).exclude(pk=manager.pk).values_list("id", flat=True))
    assert people
    assert len(ctx.captured_queries) == 1


def test_memberships_of_answer_what_the_related_managers_answer(users: dict[str, Any]) -> None:
    create_user(username="rep_multi", role="rep", teams=["Zeta", "Alpha", "North"], password="x", validate=False)
    create_user(username="mgr_multi", role="manager", teams=["Zeta", "South"], manages=["South", "Alpha", "North"], password="x", validate=False)
    for user in User.objects.all():
        managed = list(user.managed_teams.values_list("id", flat=True))
        members = set(User.objects.filter(teams__in=managed).values_list("id", flat=True)) - {user.id}
        assert memberships_of(user.id) == (list(user.teams.values_list("id", flat=True)), managed, sorted(members)), user.username
    mgr = User.objects.get(username="mgr_multi")
    assert [Team.objects.get(pk=i).name for i in memberships_of(mgr.id)[1]] == ["Alpha", "North", "South"]


def test_the_user_of_an_api_token_comes_with_the_teams_and_managed_people_its_scope_needs(users: dict[str, Any]) -> None:
    from rapport.accounts.services import create_token, token_for

    create_user(username="rep_multi", role="rep", teams=["Zeta", "Alpha", "North"], password="x", validate=False)
    create_user(username="mgr_multi", role="manager", teams=["Zeta", "South"], manages=["South", "Alpha", "North"], password="x", validate=False)
    checked = 0
    for user in User.objects.filter(is_active=True):
        found = token_for(create_token(user=user))
        assert found is not None
        assert found.user._rapport_memberships == memberships_of(user.id), user.username  # type: ignore[attr-defined]
        fresh = scope_for(User.objects.get(pk=user.pk))
        expected = (fresh.team_ids, fresh.managed_team_ids, fresh.managed_user_ids)
        with CaptureQueriesContext(connection) as ctx:
            scope = scope_for(found.user)
            assert (scope.team_ids, scope.managed_team_ids, scope.managed_user_ids) == expected, user.username
        assert len(ctx.captured_queries) == 0, user.username
        checked += 1
    assert checked >= 6
