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


def team_ids_of(user_id: int, *, managed: bool = False) -> list[int]:
    """Ids of the teams a user belongs to (``managed``: manages), in team name order, as
    ``user.teams`` (``user.managed_teams``) lists them. The visibility scope asks this on every
    request; written out, the statement costs a fraction of the related manager's query."""
    from django.db import connection

    relation = User._meta.get_field("managed_teams" if managed else "teams")
    through = relation.remote_field.through._meta  # type: ignore[union-attr]
    name = connection.ops.quote_name
    member = name(through.get_field("user").column)
    team = name(through.get_field("team").column)
    sql = (
        f"SELECT t.{name('id')} FROM {name(Team._meta.db_table)} t INNER JOIN {name(through.db_table)} m "
        f"ON m.{team} = t.{name('id')} WHERE m.{member} = %s ORDER BY t.{name('name')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id])
        return [row[0] for row in cursor.fetchall()]
