"""Creating users and teams, and issuing API tokens."""

from __future__ import annotations

import copy
import datetime as dt
import time
from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from rapport.accounts.models import ApiToken, Role, Team, TokenScope, User, hash_token
from rapport.accounts.selectors import active_user_with_teams as _active_user
from rapport.audit.models import Action
from rapport.audit.services import record as audit
from rapport.core.errors import NotFound, ValidationError


def get_or_create_team(*, name: str) -> Team:
    name = name.strip()
    if not name or len(name) > 120:
        raise ValidationError.single("team", "A team name has 1 to 120 characters.")
    team, _ = Team.objects.get_or_create(name=name)
    return team


@transaction.atomic
def create_user(
    *,
    username: str,
    role: str,
    password: str | None = None,
    teams: list[str] | None = None,
    manages: list[str] | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    language: str = "",
    validate: bool = True,
) -> User:
    """Creates a user with a role, the teams they belong to and the teams they manage."""
    if role not in Role.values:
        raise ValidationError.single("role", f"{role!r} is not one of: {', '.join(Role.values)}.")
    if not username or len(username) > 150:
        raise ValidationError.single("username", "A username has 1 to 150 characters.")
    if User.objects.filter(username=username).exists():
        raise ValidationError.single("username", f"User {username!r} already exists.")
    user = User(username=username, role=role, email=email, first_name=first_name, last_name=last_name, language=language)
    if password:
        if validate:
            try:
                validate_password(password, user)
            except DjangoValidationError as exc:
                raise ValidationError({"password": list(exc.messages)}) from None
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.is_staff = role == Role.ADMIN
    user.save()
    for name in teams or []:
        user.teams.add(get_or_create_team(name=name))
    for name in manages or []:
        user.managed_teams.add(get_or_create_team(name=name))
    audit(action=Action.CREATE, record=user, detail={"role": role, "teams": teams or [], "manages": manages or []})
    return user


def create_token(*, user: User, name: str = "", days: int | None = None, scope: str = TokenScope.WRITE) -> str:
    """Issues a bearer token; the raw token is returned once and only its hash is stored.

    ``scope``: read (GET only), write (the user's everyday rights) or admin (also the
    administrators' endpoints, for an admin user).
    """
    if scope not in TokenScope.values:
        raise ValidationError.single("scope", f"{scope!r} is not one of: {', '.join(TokenScope.values)}.")
    if scope == TokenScope.ADMIN and not user.is_admin_role:
        raise ValidationError.single("scope", "Only administrators may hold admin tokens.")
    raw = ApiToken.generate()
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=raw[:10],
        key_hash=hash_token(raw),
        scope=scope,
        expires_at=timezone.now() + dt.timedelta(days=days) if days else None,
    )
    audit(action=Action.PERMISSION, record=token, actor=user, field="token", new={"scope": scope, "prefix": token.prefix, "user": user.pk})
    return raw


def revoke_token(*, user: User, prefix: str) -> int:
    """Revokes the user's active tokens starting with ``prefix`` (as ``rapport token list`` shows it)."""
    if not prefix or len(prefix) < 6:
        raise ValidationError.single("prefix", "Give at least the first 6 characters of the token.")
    tokens = list(ApiToken.objects.active().filter(user=user, prefix__startswith=prefix[:12]))
    if not tokens:
        raise NotFound("token")
    ApiToken.objects.filter(pk__in=[t.pk for t in tokens]).update(revoked_at=timezone.now())
    forget_tokens(key_hashes=[t.key_hash for t in tokens])
    for token in tokens:
        audit(action=Action.PERMISSION, record=token, field="token", old={"prefix": token.prefix}, new="revoked")
    return len(tokens)


@transaction.atomic
def set_special_clearance(*, user: User, granted: bool, by: User | None = None) -> User:
    """Grants or withdraws the sensitive-data (special-category) clearance, and audits it."""
    old = user.can_see_special
    User.objects.filter(pk=user.pk).update(can_see_special=granted)
    forget_users()
    user.can_see_special = granted
    user.__dict__.pop("_rapport_scope", None)
    if old != granted:
        audit(action=Action.PERMISSION, record=user, actor=by, field="can_see_special", old=old, new=granted)
    return user


@dataclass(frozen=True)
class CachedToken:
    """What authentication needs of a token row, kept in the process for a few seconds."""

    token_id: int
    user_id: int
    scope: str
    expires_at: dt.datetime | None
    fetched: float  # time.monotonic() when read from the database


@dataclass
class FoundToken:
    """An active token and its user, as ``token_for`` answers."""

    pk: int
    user: User
    scope: str


# key_hash → the token's row, and → when its last_used_at was last written. Per process:
# a revocation clears the entry here at once, other processes drop theirs within the TTL.
_tokens: dict[str, CachedToken] = {}
# user id → the active user with their teams as read at the given time.monotonic(), for the
# same TTL. Any change of a user or of team memberships made in this process empties it
# (``forget_users``, connected to the models' signals in apps.py); other processes see the
# change once their copy is older than the TTL.
_users: dict[int, tuple[User, float]] = {}
_users_generation = 0  # counts the times _users was emptied: a read begun before is not kept
_touched: dict[str, dt.datetime] = {}
_TOUCH_EVERY = dt.timedelta(minutes=1)
_MAX_CACHED = 10_000  # a flood of made-up tokens must not grow the process without bound


def _token_ttl() -> float:
    from django.conf import settings

    return float(getattr(settings, "RAPPORT_TOKEN_CACHE_SECONDS", 5))


def forget_tokens(*, key_hashes: list[str] | None = None) -> None:
    """Drops cached tokens (all of them, and their users, without ``key_hashes``), so the next
    use reads the database."""
    if key_hashes is None:
        _tokens.clear()
        _drop_users()
        return
    for key in key_hashes:
        _tokens.pop(key, None)


def forget_users(**_signal: object) -> None:
    """Drops the cached users, so that the next request of each reads its role, teams and
    active flag again. Also a receiver of the signals of users and teams (``AccountsConfig``).

    Dropped at once and again when the change is committed: a request of another thread that
    read the user in between read the row as it was before."""
    _drop_users()
    transaction.on_commit(_drop_users)


def _drop_users() -> None:
    global _users_generation
    _users_generation += 1
    _users.clear()


def _cached_token(key_hash: str) -> CachedToken | None:
    now = time.monotonic()
    cached = _tokens.get(key_hash)
    if cached is not None and now - cached.fetched < _token_ttl():
        return cached
    row = (
        ApiToken.objects.active().filter(key_hash=key_hash)
        .values_list("pk", "user_id", "scope", "expires_at", "last_used_at").first()
    )
    if row is None:
        _tokens.pop(key_hash, None)
        return None
    pk, user_id, scope, expires_at, last_used_at = row
    cached = CachedToken(token_id=pk, user_id=user_id, scope=scope, expires_at=expires_at, fetched=now)
    if _token_ttl() > 0:
        if len(_tokens) >= _MAX_CACHED:
            _tokens.clear()
        _tokens[key_hash] = cached
    if last_used_at is not None:
        _touched[key_hash] = max(_touched.get(key_hash, last_used_at), last_used_at)
    return cached


def _cached_user(user_id: int) -> User | None:
    """The active user ``user_id`` with their teams: read from the database once per TTL in
    this process, and handed out as a copy, so that nothing one request sets on its user (a
    language, the visibility scope) reaches another."""
    now = time.monotonic()
    ttl = _token_ttl()
    kept = _users.get(user_id)
    if kept is not None and now - kept[1] < ttl:
        return copy.copy(kept[0])
    generation = _users_generation
    user = _active_user(user_id)
    if user is None:
        _users.pop(user_id, None)
        return None
    if ttl > 0 and generation == _users_generation:
        if len(_users) >= _MAX_CACHED:
            _users.clear()
        _users[user_id] = (copy.copy(user), now)
    return user


def token_for(raw: str) -> FoundToken | None:
    """The active token of a raw bearer value, with its user.

    The token row and its user (role, active flag, teams) are cached for
    ``RAPPORT_TOKEN_CACHE_SECONDS`` (5 s): a revocation, a deactivation or a change of role or
    teams applies at once in the process that made it and within that time in every other; an
    expiry applies at once everywhere. ``last_used_at`` is written at most once a minute per
    token.
    """
    key_hash = hash_token(raw)
    cached = _cached_token(key_hash)
    if cached is None:
        return None
    now = timezone.now()
    if cached.expires_at is not None and cached.expires_at <= now:
        return None
    user = _cached_user(cached.user_id)
    if user is None:
        return None
    last = _touched.get(key_hash)
    if last is None or now - last > _TOUCH_EVERY:
        if len(_touched) >= _MAX_CACHED:
            _touched.clear()
        _touched[key_hash] = now
        # Guarded by the stored value as well, so several processes write it once a minute
        # between them; in autocommit, so it waits for no other transaction of the request.
        ApiToken.objects.filter(pk=cached.token_id).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - _TOUCH_EVERY)
        ).update(last_used_at=now)
    return FoundToken(pk=cached.token_id, user=user, scope=cached.scope)


def user_for_token(raw: str) -> User | None:
    token = token_for(raw)
    return token.user if token is not None else None


def get_user(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise NotFound("user")
    return user


def set_language(*, user: User, language: str) -> None:
    """Keeps the user's interface language so it follows them to any browser."""
    from django.conf import settings

    if language not in dict(settings.LANGUAGES):
        raise ValidationError.single("language", f"{language!r} is not a supported language.")
    User.objects.filter(pk=user.pk).update(language=language)
    forget_users()


@transaction.atomic
def set_password(*, user: User, password: str, by: User | None = None) -> User:
    """Sets a user's password after the configured strength checks, and audits the change.

    The audit entry says that the password changed, never what it is.
    """
    if not isinstance(password, str) or not password:
        raise ValidationError.single("password", "A password is required.")
    if len(password) > 4096:
        raise ValidationError.single("password", "A password has at most 4096 characters.")
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationError({"password": list(exc.messages)}) from None
    user.set_password(password)
    user.save(update_fields=["password"])
    audit(action=Action.PERMISSION, record=user, actor=by, field="password", new="changed")
    return user
