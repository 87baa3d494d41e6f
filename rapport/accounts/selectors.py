"""Reading users and teams: whom a user may pick as owner, team or filter."""

from __future__ import annotations

from django.db.models import Q

from rapport.accounts.models import Role, Team, User
from rapport.core.visibility import scope_for


def filter_owners(user: User) -> list[User]:
    """Owners worth offering in a list filter: colleagues whose cards the user can see."""
    scope = scope_for(user)
    qs = User.objects.filter(is_active=True)
    if not scope.sees_everything:
        q = Q(pk__in=[user.id, *scope.managed_user_ids])
        if scope.team_ids:
            q |= Q(teams__in=scope.team_ids)
        qs = qs.filter(q)
    return list(qs.distinct().order_by("username")[:500])


def reachable_teams(user: User) -> list[Team]:
    """Teams the user belongs to or manages (every team for admins and analysts)."""
    scope = scope_for(user)
    if scope.sees_everything:
        return list(Team.objects.order_by("name")[:500])
    return list(Team.objects.filter(pk__in=[*scope.team_ids, *scope.managed_team_ids]).order_by("name"))


def assignable_owners(user: User) -> list[User] | None:
    """Whom the user may make owner of a card (None: only themselves).

    The same rule ``cards.services`` enforces when a card is created or reassigned.
    """
    scope = scope_for(user)
    if scope.role == Role.ADMIN:
        return list(User.objects.filter(is_active=True).order_by("username")[:500])
    if scope.role == Role.MANAGER:
        return list(User.objects.filter(pk__in=[user.id, *scope.managed_user_ids], is_active=True).order_by("username"))
    return None


def assignable_teams(user: User) -> list[Team]:
    scope = scope_for(user)
    if scope.role == Role.ADMIN:
        return list(Team.objects.order_by("name")[:500])
    return list(Team.objects.filter(pk__in=[*scope.team_ids, *scope.managed_team_ids]).order_by("name"))


def list_users(*, include_inactive: bool = True) -> list[User]:
    """Every user with their teams, for administrators (the CLI's ``user list`` and the users page)."""
    qs = User.objects.prefetch_related("teams", "managed_teams").order_by("username")
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return list(qs)
