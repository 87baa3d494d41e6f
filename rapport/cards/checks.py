"""Input checks shared by the apps whose records hang off a customer card (deals, visits…):
ids, unknown fields, choices, yes/no, and who the customer, the owner and the team are.

Each raises ``ValidationError`` naming the field, with the same words whichever door the
input came through (a form, a JSON body, the command line)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from rapport.accounts.models import Team, User
from rapport.cards.models import Card
from rapport.cards.services import Errors
from rapport.core.errors import NotFound, ValidationError
from rapport.core.visibility import visible_to


class Checked(Errors):
    """The cards' field-error collector, keeping each parsed value by name as well."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, Any] = {}

    def take(self, name: str, parse: Callable[[], Any]) -> None:
        self.values[name] = self.run(parse)


def refuse_unknown(data: dict[str, Any], allowed: set[str]) -> None:
    if not isinstance(data, dict):
        raise ValidationError.single("body", _("Expected an object."))
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError({k: [_("Unknown field.")] for k in sorted(unknown)})


def parse_id(field: str, value: Any) -> int:
    """A record id from a form, a JSON body or the command line."""
    if isinstance(value, bool) or value is None or not str(value).strip().isdigit() or int(str(value).strip()) > 2**62:
        raise ValidationError.single(field, _("Expected a number."))
    return int(str(value).strip())


def choice(field: str, raw: Any, choices: Any, *, blank: bool = False) -> str:
    """One of ``choices`` (a TextChoices class or plain keys); empty allowed with ``blank``."""
    value = "" if raw is None else str(raw).strip()
    if blank and value == "":
        return ""
    allowed = [str(getattr(c, "value", c)) for c in choices]
    if value not in allowed:
        raise ValidationError.single(field, _("Expected one of: %(values)s.") % {"values": ", ".join(v for v in allowed if v)})
    return value


def parse_bool(field: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw or "").strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off"):
        return False
    raise ValidationError.single(field, _("Expected true or false."))


def customer_from(user: User, data: dict[str, Any]) -> Card:
    """The customer from ``organization`` or ``person`` (an id of a card the user sees)."""
    from rapport.cards.selectors import get_card

    given = [k for k in ("organization", "person") if data.get(k) not in (None, "")]
    if len(given) != 1:
        raise ValidationError.single("organization", _("Give the customer: an organisation or a person, not both."))
    kind = given[0]
    try:
        return get_card(user, parse_id(kind, data[kind]), kind)
    except NotFound:
        raise ValidationError.single(kind, _("No such customer, or you may not see it.")) from None


def owner_for(raw: Any, card: Card, user: User) -> User:
    """An active user who may see ``card``, to work a record of it."""
    owner = User.objects.filter(pk=parse_id("owner", raw), is_active=True).first()
    if owner is None:
        raise ValidationError.single("owner", _("No active user with this id."))
    if owner.pk != user.pk and not visible_to(owner).filter(pk=card.pk).exists():
        raise ValidationError.single("owner", _("%(name)s may not see this customer.") % {"name": owner.get_username()})
    return owner


def team_by_id(raw: Any) -> Team | None:
    if raw is None or raw == "":
        return None
    team = Team.objects.filter(pk=parse_id("team", raw)).first()
    if team is None:
        raise ValidationError.single("team", _("No team with this id."))
    return team


def default_team(owner: User, card: Card) -> Team | None:
    """The owner's team that holds the card, else the owner's first team."""
    teams = list(owner.teams.all())
    if card.team_id is not None and any(t.pk == card.team_id for t in teams):
        return next(t for t in teams if t.pk == card.team_id)
    return teams[0] if teams else None
