"""Reading users and teams: whom a user may pick as owner, team or filter."""

from __future__ import annotations

from typing import Any, NamedTuple

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


class Memberships(NamedTuple):
    """A user's teams and managed teams (each in team name order, as ``user.teams`` lists them)
    and the other members of the managed teams (by id)."""

    teams: list[int]
    managed_teams: list[int]
    managed_users: list[int]


def memberships_of(user_id: int) -> Memberships:
    """A user's ``Memberships`` in one statement instead of three: a manager's visibility scope
    asks all three on most requests."""
    from django.db import connection

    from rapport.core import sql

    def build() -> str:
        name = connection.ops.quote_name
        teams = User._meta.get_field("teams").remote_field.through
        managed = User._meta.get_field("managed_teams").remote_field.through
        team_table = sql.table(Team)
        t_user, t_team = sql.column(teams, "user"), sql.column(teams, "team")
        m_user, m_team = sql.column(managed, "user"), sql.column(managed, "team")
        return (
            f"SELECT 0, t.{name('id')}, t.{name('name')} FROM {team_table} t INNER JOIN {sql.table(teams)} m "
            f"ON m.{t_team} = t.{name('id')} WHERE m.{t_user} = %s "
            f"UNION ALL SELECT 1, t.{name('id')}, t.{name('name')} FROM {team_table} t INNER JOIN {sql.table(managed)} m "
            f"ON m.{m_team} = t.{name('id')} WHERE m.{m_user} = %s "
            f"UNION ALL SELECT 2, m.{t_user}, '' FROM {sql.table(teams)} m "
            f"WHERE m.{t_team} IN (SELECT g.{m_team} FROM {sql.table(managed)} g WHERE g.{m_user} = %s)"
        )

    with connection.cursor() as cursor:
        cursor.execute(sql.statement("accounts.memberships_of", build), [user_id] * 3)
        rows = cursor.fetchall()
    in_order = sorted((what, team_name, pk) for what, pk, team_name in rows if what != 2)
    members = {pk for what, pk, _name in rows if what == 2}
    members.discard(user_id)
    return Memberships(
        [pk for what, _name, pk in in_order if what == 0],
        [pk for what, _name, pk in in_order if what == 1],
        sorted(members),
    )


def membership_columns(user_id: str) -> str | None:
    """Three columns to add to a statement reading a user, whose id is the SQL ``user_id``: its
    teams, managed teams and managed people, each as ids joined by commas (``parse_memberships``
    reads them). The statement that reads the user of each API request brings them along, one
    round trip fewer for every scope that needs them; ``None`` on a database without the
    aggregates used here (the scope then asks ``memberships_of``)."""
    from django.db import connection

    from rapport.core import sql

    postgresql = connection.vendor == "postgresql"
    if not postgresql and connection.vendor != "sqlite":
        return None
    name = connection.ops.quote_name
    teams = User._meta.get_field("teams").remote_field.through
    managed = User._meta.get_field("managed_teams").remote_field.through
    t_user, t_team = sql.column(teams, "user"), sql.column(teams, "team")
    m_user, m_team = sql.column(managed, "user"), sql.column(managed, "team")

    def joined(value: str, rows: str, order: str = "") -> str:
        """The ids ``value`` of ``rows`` joined by commas (in ``order``)."""
        if postgresql:
            return f"(SELECT string_agg(CAST({value} AS text), ','{' ORDER BY ' + order if order else ''}) {rows})"
        # SQLite keeps the order of a subquery an aggregate reads (it never flattens one that sorts).
        return f"(SELECT group_concat(x, ',') FROM (SELECT {value} AS x {rows}{' ORDER BY ' + order if order else ''}))"

    def of_teams(through: Any, user_col: str, team_col: str) -> str:
        rows = f"FROM {sql.table(Team)} t INNER JOIN {sql.table(through)} m ON m.{team_col} = t.{name('id')} WHERE m.{user_col} = {user_id}"
        return joined(f"t.{name('id')}", rows, f"t.{name('name')}")

    people = joined(
        f"m.{t_user}",
        f"FROM {sql.table(teams)} m WHERE m.{t_team} IN (SELECT g.{m_team} FROM {sql.table(managed)} g WHERE g.{m_user} = {user_id})",
    )
    return f"{of_teams(teams, t_user, t_team)}, {of_teams(managed, m_user, m_team)}, {people}"


def parse_memberships(user_id: int, teams: str | None, managed_teams: str | None, managed_users: str | None) -> Memberships:
    """The ``Memberships`` of the three columns of ``membership_columns``."""

    def ids(text: str | None) -> list[int]:
        return [int(part) for part in text.split(",")] if text else []

    members = set(ids(managed_users))
    members.discard(user_id)
    return Memberships(ids(teams), ids(managed_teams), sorted(members))


def team_ids_of(user_id: int) -> list[int]:
    """Ids of the teams a user belongs to, in team name order, as ``user.teams`` lists them. The
    visibility scope of a rep asks this on every request (a manager's comes with the managed
    teams, from ``memberships_of``); written out, the statement costs a fraction of the related
    manager's query."""
    from django.db import connection

    from rapport.core import sql

    def build() -> str:
        teams = User._meta.get_field("teams").remote_field.through
        name = connection.ops.quote_name
        return (
            f"SELECT t.{name('id')} FROM {sql.table(Team)} t INNER JOIN {sql.table(teams)} m "
            f"ON m.{sql.column(teams, 'team')} = t.{name('id')} WHERE m.{sql.column(teams, 'user')} = %s "
            f"ORDER BY t.{name('name')}"
        )

    with connection.cursor() as cursor:
        cursor.execute(sql.statement("accounts.team_ids_of", build), [user_id])
        return [row[0] for row in cursor.fetchall()]


def active_user_with_teams(user_id: int) -> User | None:
    """The user by primary key if active, every column loaded, with their teams, managed teams
    and managed people (``accounts.selectors.membership_columns``) for the visibility scope: one
    fixed statement, which every API request whose user is not cached and every signed-in page
    runs, so it is written out instead of compiled by the ORM each time (a quarter of the cost),
    and read as the ORM would load it (``rapport.core.sql``)."""
    from django.db import connection

    from rapport.core import sql

    def build() -> str:
        extra = membership_columns(f"u.{sql.column(User, 'id')}")
        return (
            f"SELECT {sql.select_columns(User, 'u')}{', ' + extra if extra else ''} FROM {sql.table(User)} u "
            f"WHERE u.{sql.column(User, 'id')} = %s AND u.{sql.column(User, 'is_active')} = %s"
        )

    with connection.cursor() as cursor:
        cursor.execute(sql.statement("accounts.active_user", build), [user_id, True])
        row = cursor.fetchone()
    if row is None:
        return None
    user = sql.from_row(User, row)
    width = sql.width(User)
    if len(row) > width:
        user._rapport_memberships = parse_memberships(user.pk, *row[width:width + 3])
    return user
