"""Read use-cases for customer cards. Visibility is applied here, never by the caller."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rapport.activities.models import Activity
from rapport.catalog import selectors as catalog
from rapport.catalog.models import InformationItem, ItemType, Sensitivity
from rapport.cards.models import Card, CurrentValue, Employment, Fact, Kind, Phone, Share, Stage, StageChange
from rapport.cards.values import parse_item_value
from rapport.core.errors import NotFound, ValidationError
from rapport.core.i18n import pick_label
from rapport.core.text import fold
from rapport.core.visibility import scope_for, visible_through, visible_to
from rapport.privacy import crypto


def get_card(user: Any, card_id: Any, kind: str | None = None) -> Card:
    """A card the user may see, or NotFound (also for cards that exist but are out of reach).

    Every page, section and API call about one card starts here, so it reads the card as
    ``read_card`` does: by primary key in one statement, the visibility filter asked only when
    the card's own columns do not settle it."""
    return read_card(user, card_id, kind)


def _card_with_names(pk: int, *, contacts: bool = False) -> tuple[Card | None, Contacts]:
    """A card by primary key with its owner's names and its team's name, as
    ``select_related("owner", "team")`` would load them, in one statement written out instead of
    one the ORM compiles on every read (a quarter of the cost). The owner carries its username,
    first and last name and whether it is active (what pages show of a card's owner), the team its
    name; any other of their columns is read from the database when first used, as for a
    deferred field. With ``contacts``, the card's phones, e-mails and addresses come in the same
    statement, one round trip instead of two (the caller drops them unless the card is one the
    user may see)."""
    from django.db import connection

    from rapport.accounts.models import Team, User
    from rapport.core import sql

    width = sql.width(Card)

    def build() -> str:
        name = connection.ops.quote_name
        statement = (
            f"SELECT {sql.select_columns(Card, 'c')}, u.{name('username')}, u.{name('first_name')}, u.{name('last_name')}, "
            f"u.{name('is_active')}, t.{name('name')}{', NULL' * _CONTACT_WIDTH if contacts else ''} "
            f"FROM {sql.table(Card)} c INNER JOIN {sql.table(User)} u ON u.{name('id')} = c.{name('owner_id')} "
            f"LEFT OUTER JOIN {sql.table(Team)} t ON t.{name('id')} = c.{name('team_id')} "
            f"WHERE c.{name('id')} = %s"
        )
        if contacts:
            nulls = ", ".join(["NULL"] * (width + 5))
            statement += "".join(
                f" UNION ALL SELECT {nulls}, {branch.removeprefix('SELECT ')}"
                for branch in _contact_branches("%s", addresses=True)
            )
        return statement

    statement = sql.statement(("cards.with_names", contacts), build)
    with connection.cursor() as cursor:
        cursor.execute(statement, [pk] * (4 if contacts else 1))
        rows = cursor.fetchall()
    card = None
    for row in rows:
        if row[0] is None:
            continue  # a contact's row
        card = sql.from_row(Card, row)
        username, first_name, last_name, is_active, team_name = row[width:width + 5]
        db = card._state.db
        owner = User.from_db(
            db, ["id", "username", "first_name", "last_name", "is_active"],
            [card.owner_id, username, first_name, last_name, bool(is_active)],
        )
        team = Team.from_db(db, ["id", "name"], [card.team_id, team_name]) if card.team_id is not None else None
        Card.owner.field.set_cached_value(card, owner)
        Card.team.field.set_cached_value(card, team)
    found = _gather_contacts([row[width + 5:] for row in rows if row[0] is None]) if contacts and card else {}
    return card, found.get(pk) or Contacts()


def read_card(user: Any, card_id: Any, kind: str | None = None) -> Card:
    """``get_card`` for reading one card by id, with the same answer, the same 404s and the same
    log of denied reads, cheaper: the card is read by primary key, and when the user sees it as its
    owner, in its team or as a manager (``Scope.sees_without_shares``) no visibility query runs;
    otherwise the database is asked, as ``get_card`` asks it (a card shared with the user)."""
    return read_card_with_contacts(user, card_id, kind, contacts=False)[0]


def read_card_with_contacts(user: Any, card_id: Any, kind: str | None = None, *, contacts: bool = True) -> tuple[Card, Contacts]:
    """``read_card`` with the card's phones, e-mails and addresses, read in the same statement."""
    if isinstance(card_id, bool) or not str(card_id).isdigit() or int(card_id) > 2**62:
        raise NotFound(kind or "card")
    pk = int(card_id)
    if getattr(user, "is_authenticated", False):
        card, found = _card_with_names(pk, contacts=contacts)
        if card is not None and (not kind or card.kind == kind):
            if scope_for(user).sees_without_shares(card.owner_id, card.team_id) or visible_to(user).filter(pk=pk).exists():
                return card, found
    _audit_denied(user, pk)
    raise NotFound(kind or "card")


def cards_by_ids(user: Any, ids: Iterable[int]) -> list[Card]:
    """The cards among ``ids`` that ``user`` may see, in id order: read by primary key and kept
    when the user sees them as owner, team member or manager, the database asked about the rest
    only (shares); the same cards as ``visible_to(user).filter(pk__in=ids)``."""
    wanted = sorted({i for i in ids if isinstance(i, int) and not isinstance(i, bool)})
    if not wanted or not getattr(user, "is_authenticated", False):
        return []
    cards = list(Card.objects.filter(pk__in=wanted).order_by("pk"))
    scope = scope_for(user)
    unsure = [c.pk for c in cards if not scope.sees_without_shares(c.owner_id, c.team_id)]
    if unsure:
        shared = set(visible_to(user).filter(pk__in=unsure).values_list("id", flat=True))
        cards = [c for c in cards if c.pk not in unsure or c.pk in shared]
    return cards


def phones_to_call(user: Any, card_ids: Any) -> dict[int, str]:
    """The first number (E.164) of each of these cards that ``user`` may see, to call from the
    page: one query, and nothing of a card out of reach."""
    phones: dict[int, str] = {}
    rows = visible_through(user, Phone.objects.filter(card_id__in={i for i in card_ids if i}), "card")
    for card_id, e164 in rows.order_by("card_id", "position", "id").values_list("card_id", "e164"):
        phones.setdefault(card_id, e164)
    return phones


@dataclass
class Contacts:
    """A card's phones, e-mails and (when asked for) postal addresses, in their stored order,
    each as the API shows it."""

    phones: list[dict[str, str]] = field(default_factory=list)
    emails: list[dict[str, str]] = field(default_factory=list)
    addresses: list[dict[str, str]] = field(default_factory=list)


# Columns of each row of ``_contact_branches``: card, which table, position, id, then six values.
_CONTACT_WIDTH = 10


def _contact_branches(marks: str, *, addresses: bool) -> list[str]:
    """The SELECTs of phones, e-mails (and addresses) of the cards whose ids fill ``marks``,
    each read through its card index, to be joined with UNION ALL."""
    from django.db import connection

    from rapport.cards.models import Address, Email

    table = connection.ops.quote_name
    parts = [
        f"SELECT card_id, 0, position, id, e164, raw, region, kind, '', '' FROM {table(Phone._meta.db_table)} WHERE card_id IN ({marks})",
        f"SELECT card_id, 1, position, id, address, kind, '', '', '', '' FROM {table(Email._meta.db_table)} WHERE card_id IN ({marks})",
    ]
    if addresses:
        parts.append(
            f"SELECT card_id, 2, position, id, kind, street, city, region, postal_code, country "
            f"FROM {table(Address._meta.db_table)} WHERE card_id IN ({marks})"
        )
    return parts


def _gather_contacts(rows: list[Any]) -> dict[int, Contacts]:
    """Rows of ``_contact_branches`` as each card's ``Contacts``, in each model's order."""
    found: dict[int, Contacts] = {}
    rows.sort(key=lambda r: (r[1], r[2], r[3]))  # as each model's Meta.ordering: position, id
    for card_id, what, _position, _id, a, b, c, d, e, f in rows:
        contacts = found.setdefault(card_id, Contacts())
        if what == 0:
            contacts.phones.append({"e164": a, "raw": b, "region": c, "kind": d})
        elif what == 1:
            contacts.emails.append({"address": a, "kind": b})
        else:
            contacts.addresses.append({"kind": a, "street": b, "city": c, "region": d, "postal_code": e, "country": f})
    return found


def _contacts(card_ids: list[int], *, addresses: bool) -> dict[int, Contacts]:
    """Phones, e-mails and addresses of these cards (which the caller has read through the
    visibility filter) in one statement: a UNION ALL of the three tables; the ORM would spend
    more compiling three queries than the database reading them."""
    from django.db import connection

    if not card_ids:
        return {}
    parts = _contact_branches(", ".join(["%s"] * len(card_ids)), addresses=addresses)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), [*card_ids] * len(parts))
        rows = cursor.fetchall()
    return _gather_contacts(rows)


def card_contacts(card: Card) -> Contacts:
    """Phones, e-mails and addresses of a card read through ``get_card`` (so one the user may see)."""
    return _contacts([card.pk], addresses=True).get(card.pk) or Contacts()


# The columns of a card an answer listing cards shows (``CardOut``), besides its owner and team.
SUMMARY_COLUMNS = (
    "kind", "display_name", "given_name", "family_name", "local_name", "website", "industry", "size_band",
    "tier", "lifecycle_stage", "external_id", "completeness", "archived_at", "version", "created_at", "updated_at",
)


def card_rows(user: Any, ids: Iterable[int]) -> list[dict[str, Any]]:
    """The cards among ``ids`` that ``user`` may see, in the order of ``ids``, as plain rows: the
    card's ``id``, ``owner_id``, ``team_id`` and ``SUMMARY_COLUMNS``, ``owner__username``,
    ``team__name`` and ``contacts`` (phones and e-mails). Two queries whatever the number of
    cards (three when some are seen only through a share): for answers that list cards found
    otherwise (the API's search)."""
    wanted = list(dict.fromkeys(ids))
    if not wanted or not getattr(user, "is_authenticated", False):
        return []
    # Read by primary key, then kept if the user sees the card as its owner, in its team or as a
    # manager; the database is asked about the others only (cards shared with the user), as
    # ``read_card`` does for one card.
    rows = {row["id"]: row for row in _summary_rows(wanted)}
    scope = scope_for(user)
    unsure = [i for i, r in rows.items() if not scope.sees_without_shares(r["owner_id"], r["team_id"])]
    if unsure:
        shared = set(visible_to(user).filter(pk__in=unsure).values_list("id", flat=True))
        for card_id in unsure:
            if card_id not in shared:
                del rows[card_id]
    contacts = _contacts(list(rows), addresses=False)
    found = []
    for card_id in wanted:
        row = rows.get(card_id)
        if row is None:
            continue
        row["contacts"] = contacts.get(card_id) or Contacts()
        found.append(row)
    return found


def _summary_rows(pks: list[int]) -> list[dict[str, Any]]:
    """``card_rows``' columns of these cards, whoever may see them: one statement written out
    (compiling it costs the ORM more than running it), its date-times made aware in UTC as the
    ORM makes them (SQLite answers text, PostgreSQL answers them aware)."""
    from django.db import connection
    from django.utils.dateparse import parse_datetime

    from rapport.accounts.models import Team, User

    name = connection.ops.quote_name
    columns = ("id", "owner_id", "team_id", *SUMMARY_COLUMNS)
    sql = (
        f"SELECT {', '.join(f'c.{name(c)}' for c in columns)}, u.{name('username')}, t.{name('name')} "
        f"FROM {name(Card._meta.db_table)} c INNER JOIN {name(User._meta.db_table)} u ON u.{name('id')} = c.{name('owner_id')} "
        f"LEFT OUTER JOIN {name(Team._meta.db_table)} t ON t.{name('id')} = c.{name('team_id')} "
        f"WHERE c.{name('id')} IN ({', '.join(['%s'] * len(pks))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, pks)
        fetched = cursor.fetchall()
    keys = (*columns, "owner__username", "team__name")
    rows = []
    for values in fetched:
        row = dict(zip(keys, values))
        for column in _SUMMARY_DATETIMES:
            value = row[column]
            if isinstance(value, str):
                value = parse_datetime(value)
            if value is not None and timezone.is_naive(value):
                value = timezone.make_aware(value, dt.timezone.utc)
            row[column] = value
        rows.append(row)
    return rows


_SUMMARY_DATETIMES = ("archived_at", "created_at", "updated_at")


MAX_PICKED = 20


def picked_cards(user: Any, ids: list[Any], *, kind: str | None = None) -> list[Card]:
    """The cards chosen in a card picker (ids as posted) that the user may see, in the order given;
    anything else (unknown, out of reach, not a number) is dropped."""
    wanted = [int(i) for i in dict.fromkeys(str(i) for i in ids) if i.isdigit() and len(i) <= 18][:MAX_PICKED]
    if not wanted:
        return []
    qs = visible_to(user).filter(pk__in=wanted)
    if kind:
        qs = qs.filter(kind=kind)
    found = {c.pk: c for c in qs}
    return [found[i] for i in wanted if i in found]


def _audit_denied(user: Any, card_id: int) -> None:
    """A card that exists but is out of reach: the answer is a plain 404, the log keeps the attempt."""
    if not getattr(user, "is_authenticated", False) or not Card.objects.filter(pk=card_id).exists():
        return
    from rapport.audit.services import record

    record(action="denied", record_type="cards.card", record_id=card_id, actor=user)


def audit_read(user: Any, card: Card, item_keys: list[str]) -> None:
    """Records that confidential or special items of a card were shown, once per card and request."""
    if not item_keys:
        return
    from rapport.audit.context import current_request
    from rapport.privacy.read_audit import record_read

    request = current_request()
    seen: set[tuple[int, str]] | None = getattr(request, "_rapport_audited_reads", None) if request else None
    fresh = sorted({k for k in item_keys if seen is None or (card.pk, k) not in seen})
    if not fresh:
        return
    if request is not None:
        if seen is None:
            seen = set()
            request._rapport_audited_reads = seen  # type: ignore[attr-defined]
        seen.update((card.pk, k) for k in fresh)
    # Written with the request's other read entries, in one transaction, before the answer leaves.
    record_read(user=user, card=card, items=fresh)


_AUDITED_READS = {Sensitivity.CONFIDENTIAL.value, Sensitivity.SPECIAL.value}


def _sensitive_keys(items: Any) -> list[str]:
    return [i.key for i in items if i.sensitivity in _AUDITED_READS]


@dataclass
class CardFilter:
    """One filter definition for the list page, the API and exports."""

    kind: str | None = None
    q: str = ""  # name prefix (folded)
    owner: int | None = None
    team: int | None = None
    tier: str = ""
    stage: str = ""
    industry: str = ""
    item: str = ""  # catalog item key
    value: Any = None  # value of ``item``; empty means "has any value"
    archived: bool = False
    organization: int | None = None  # people currently working there
    segment: int | None = None  # members of a saved segment the user may use


def filter_cards(user: Any, flt: CardFilter) -> QuerySet[Card]:
    qs = visible_to(user)
    if flt.kind:
        qs = qs.filter(kind=flt.kind)
    qs = qs.filter(archived_at__isnull=not flt.archived)
    if flt.q:
        prefix = fold(flt.q.strip())[:300]
        qs = qs.filter(sort_name__gte=prefix, sort_name__lt=prefix + "\uffff")
    if flt.owner:
        qs = qs.filter(owner_id=flt.owner)
    if flt.team:
        qs = qs.filter(team_id=flt.team)
    if flt.tier:
        qs = qs.filter(tier=flt.tier)
    if flt.stage:
        if flt.stage not in Stage.values:
            raise ValidationError.single("stage", f"Unknown stage {flt.stage!r}.")
        qs = qs.filter(lifecycle_stage=flt.stage)
    if flt.industry:
        qs = qs.filter(industry=flt.industry)
    if flt.organization:
        qs = qs.filter(
            Exists(Employment.objects.filter(person=OuterRef("pk"), organization_id=flt.organization, ended_on__isnull=True))
        )
    if flt.item:
        qs = _filter_on_item(user, qs, flt.item, flt.value)
    if flt.segment:
        from rapport.segments.selectors import apply_segment

        qs = apply_segment(user, qs, flt.segment)
    return qs


def _filter_on_item(user: Any, qs: QuerySet[Card], key: str, value: Any) -> QuerySet[Card]:
    values, restriction = _item_values(user, key, value)
    if restriction is not None:
        qs = qs.filter(restriction)
    # An IN over the (item, value_text, ...) index is driven by the few matching values;
    # a correlated EXISTS would probe every card of the kind.
    return qs.filter(pk__in=values.values("card_id"))


def _item_values(user: Any, key: str, value: Any) -> tuple[QuerySet[CurrentValue], Q | None]:
    """Current values of one item (equal to ``value`` if given), and a card restriction if any.

    An item above the user's clearance is answered as unknown; a confidential item is only
    matched on cards where the user may read confidential items.
    """
    scope = scope_for(user)
    item = catalog.items().get(key)
    if item is None or (item.sensitivity == Sensitivity.SPECIAL and not scope.may_see_special):
        raise ValidationError.single("item", f"Unknown catalog item {key!r}.")
    restriction: Q | None = None
    if item.sensitivity == Sensitivity.CONFIDENTIAL:
        # Filtering must not reveal confidential values on cards where the user cannot read them.
        restriction = scope.confidential_q()
        if restriction is None:
            raise ValidationError.single("item", f"Unknown catalog item {key!r}.")
    values = CurrentValue.objects.filter(item_id=item.id)
    if value not in (None, ""):
        special = item.sensitivity == Sensitivity.SPECIAL
        if item.type == ItemType.MULTI_CHOICE and not special:
            values = values.filter(value_text__contains=f"|{value}|")
        elif item.type == ItemType.TEXT:
            text = str(value).strip().casefold()
            values = values.filter(value_text=crypto.blind_index(item.key, text) if special else text)
        else:
            _stored, text = parse_item_value(item, value)
            # Special values are indexed by a keyed hash: only equality can be asked of them.
            values = values.filter(value_text=crypto.blind_index(item.key, text) if special else text)
    return values, restriction


def _list_by_item(
    user: Any, flt: CardFilter, *, offset: int, limit: int, count_limit: int | None
) -> tuple[list[int], int] | None:
    """A page of card ids filtered on one catalog item, answered from the current-value index.

    Each current value carries its card's kind, archived flag, name, owner and team, so the
    page is read in name order from one index range and the count never visits the cards.
    ``None`` when the filter also narrows columns only the cards hold.
    """
    if not flt.item or not flt.kind or flt.q or flt.tier or flt.stage or flt.industry or flt.organization or flt.segment:
        return None
    values, restriction = _item_values(user, flt.item, flt.value)
    values = values.filter(kind=flt.kind, archived=flt.archived)
    visibility = scope_for(user).card_q(id_field="card_id")
    if visibility:
        values = values.filter(visibility)
    if restriction:
        values = values.filter(restriction)
    if flt.owner:
        values = values.filter(owner_id=flt.owner)
    if flt.team:
        values = values.filter(team_id=flt.team)
    total = values.count() if count_limit is None else values.order_by()[: count_limit + 1].count()
    ids = list(values.order_by("sort_name", "card_id").values_list("card_id", flat=True)[offset : offset + limit])
    return ids, total


def list_cards(
    user: Any, flt: CardFilter, *, offset: int = 0, limit: int = 50, count_limit: int | None = None
) -> tuple[list[Card], int]:
    """One page of cards in name order, with the related rows the list shows, and the total count.

    With ``count_limit`` the count stops at that many plus one: an exact count of a large
    list reads every matching index entry, while "more than N" answers in milliseconds.
    """
    by_item = _list_by_item(user, flt, offset=offset, limit=limit, count_limit=count_limit)
    if by_item is not None:
        ids, total = by_item
        found = Card.objects.filter(pk__in=ids).select_related("owner", "team").prefetch_related("phones", "emails")
        order = {card_id: i for i, card_id in enumerate(ids)}
        return sorted(found, key=lambda c: order[c.pk]), total
    qs = filter_cards(user, flt)
    page = list(
        qs.order_by(*_list_ordering(flt))
        .select_related("owner", "team")
        .prefetch_related("phones", "emails")[offset : offset + limit]
    )
    return page, _list_count(qs, count_limit)


def list_card_rows(
    user: Any, flt: CardFilter, *, offset: int = 0, limit: int = 50, count_limit: int | None = None
) -> tuple[list[dict[str, Any]], int]:
    """``list_cards`` as plain rows (those of ``card_rows``), for answers that list cards: the
    page's ids come through the visibility filter, their columns and contacts in two statements
    written out, without a model instance per card, owner, team, phone and e-mail."""
    ids, total = _list_page_ids(user, flt, offset=offset, limit=limit, count_limit=count_limit)
    rows = {row["id"]: row for row in _summary_rows(ids)} if ids else {}
    contacts = _contacts(ids, addresses=False)
    page = []
    for card_id in ids:
        row = rows.get(card_id)
        if row is not None:  # archived or erased between the two statements: left out
            row["contacts"] = contacts.get(card_id) or Contacts()
            page.append(row)
    return page, total


def _list_page_ids(
    user: Any, flt: CardFilter, *, offset: int, limit: int, count_limit: int | None
) -> tuple[list[int], int]:
    """The ids of one page of the list in name order, and the total count."""
    by_item = _list_by_item(user, flt, offset=offset, limit=limit, count_limit=count_limit)
    if by_item is not None:
        return by_item
    qs = filter_cards(user, flt)
    ids = list(qs.order_by(*_list_ordering(flt)).values_list("id", flat=True)[offset : offset + limit])
    return ids, _list_count(qs, count_limit)


def _list_count(qs: QuerySet[Card], count_limit: int | None) -> int:
    return qs.count() if count_limit is None else qs.order_by()[: count_limit + 1].count()


def _list_ordering(flt: CardFilter) -> tuple[str, ...]:
    # Live cards all have archived_at NULL, so ordering on it first changes nothing, but it
    # lets PostgreSQL read the page in order from the (…, archived_at, sort_name, id) index
    # and stop after it: an IS NULL condition does not count as an equality for its ordering.
    return ("sort_name", "id") if flt.archived else ("archived_at", "sort_name", "id")


# --- profile ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileValue:
    """The current value of one item on one card, with the provenance the card shows on hover."""

    item: InformationItem
    value: Any
    display: str
    fact_id: int
    source_key: str
    confidence: int
    verified: bool
    observed_at: str
    recorded_by: int | None

    @property
    def source_label(self) -> str:
        """The source's name in the reader's language (the API answers its key instead)."""
        source = catalog.sources().get(self.source_key)
        return str(source.label) if source else self.source_key


@dataclass
class ProfileBlock:
    key: str
    label: str
    values: list[ProfileValue] = field(default_factory=list)
    missing: list[InformationItem] = field(default_factory=list)


def display_value(item: InformationItem, value: Any, people: dict[int, str] | None = None) -> str:
    """A value as people read it; ``people`` names the person cards the reader may see."""
    if item.type == ItemType.PERSON:
        if people is not None and isinstance(value, int):
            # A reference to a card out of the reader's sight reveals nothing about it.
            return people.get(value) or str(_("a person you cannot see"))
        return str(value)
    if item.type == ItemType.CHOICE:
        return item.choice_label(value)
    if item.type == ItemType.MULTI_CHOICE and isinstance(value, list):
        return ", ".join(item.choice_label(v) for v in value)
    if item.type == ItemType.MONEY and isinstance(value, dict):
        return f"{value.get('amount')} {value.get('currency')}"
    return str(value)


def readable_items(user: Any, card: Card) -> dict[str, InformationItem]:
    """Catalog items the user may read on this card (items above their clearance are absent)."""
    return catalog.readable_items(card.kind, frozenset(scope_for(user).sensitivities_on(card)))


def person_names(user: Any, ids: Iterable[Any]) -> dict[int, str]:
    """Display names of the person cards among ``ids`` that the user may see."""
    wanted = {i for i in ids if isinstance(i, int) and not isinstance(i, bool)}
    if not wanted:
        return {}
    return dict(visible_to(user).filter(pk__in=wanted, kind=Kind.PERSON).values_list("id", "display_name"))


def display_names(user: Any, ids: Iterable[Any]) -> dict[int, str]:
    """Display names of the cards (of either kind) among ``ids`` that the user may see."""
    wanted = {i for i in ids if isinstance(i, int) and not isinstance(i, bool)}
    if not wanted:
        return {}
    return dict(visible_to(user).filter(pk__in=wanted).values_list("id", "display_name"))


def _referenced_people(pairs: Iterable[tuple[InformationItem | None, Any]]) -> set[Any]:
    return {value for item, value in pairs if item is not None and item.type == ItemType.PERSON}


def profile_of(user: Any, card: Card, *, display: bool = True) -> list[ProfileValue]:
    """The card's current values the user may read, in catalog order; each read of a confidential
    or special one is logged. Without ``display`` (the API, which answers values, not how pages
    write them) each value's ``display`` is left empty and the names of the people it refers
    to are not read."""
    readable = readable_items(user, card)
    result = []
    # Only what the user may read is decrypted, and each value once.
    entries = [(readable[k], e, crypto.unseal(e.get("v"))) for k, e in (card.profile or {}).items() if k in readable]
    people = person_names(user, _referenced_people((item, value) for item, _, value in entries)) if display else {}
    for item, entry, value in entries:
        result.append(
            ProfileValue(
                item=item,
                value=value,
                display=display_value(item, value, people) if display else "",
                fact_id=entry.get("f", 0),
                source_key=entry.get("s", ""),
                confidence=entry.get("c", 0),
                verified=bool(entry.get("ok")),
                observed_at=entry.get("at", ""),
                recorded_by=entry.get("by"),
            )
        )
    result.sort(key=lambda v: (v.item.block, v.item.position))
    audit_read(user, card, _sensitive_keys(v.item for v in result))
    return result


def profile_blocks(user: Any, card: Card) -> list[ProfileBlock]:
    """The card's profile grouped by catalog block, with the items its tier requires but lacks."""
    from rapport.catalog.models import Block

    values = profile_of(user, card)
    readable = readable_items(user, card)
    blocks = {b.value: ProfileBlock(key=b.value, label=str(b.label)) for b in Block}
    for value in values:
        blocks[value.item.block].values.append(value)
    present = {v.item.key for v in values}
    for item in catalog.required_items(card.tier, card.kind):
        if item.key not in present and item.key in readable:
            blocks[item.block].missing.append(item)
    return [b for b in blocks.values() if b.values or b.missing]


def facts_of(user: Any, card: Card, *, item_key: str | None = None, limit: int = 200) -> list[Fact]:
    readable = readable_items(user, card)
    qs = Fact.objects.filter(card=card, item__key__in=list(readable)).select_related("item", "source", "recorded_by")
    if item_key:
        qs = qs.filter(item__key=item_key)
    facts = list(qs.order_by("-recorded_at", "-id")[:limit])
    for f in facts:
        _open(f)
    audit_read(user, card, _sensitive_keys({f.item for f in facts}))
    people = person_names(user, _referenced_people((f.item, f.value) for f in facts))
    for fact in facts:
        fact.display = display_value(fact.item, fact.value, people)  # type: ignore[attr-defined]
    return facts


def _open(fact: Fact) -> Fact:
    """Decrypts a sealed fact in memory for showing. Facts are append-only and never saved back
    (verification is an ``update()`` of other columns), so the plain value stays out of the database."""
    fact.value = crypto.unseal(fact.value)
    fact.note = crypto.unseal_text(fact.note)
    return fact


def get_fact(user: Any, card: Card, fact_id: int) -> Fact:
    """One fact of a card the user can see, if its item is within their clearance; else NotFound."""
    readable = readable_items(user, card)
    fact = Fact.objects.select_related("card", "item", "source", "recorded_by").filter(pk=fact_id, card=card).first()
    if fact is None or fact.item.key not in readable:
        raise NotFound("fact")
    return _open(fact)


def shares_of(user: Any, card: Card) -> list[Share] | None:
    """Whom a card is shared with; ``None`` for users who may not manage its sharing."""
    if not scope_for(user).may_see_confidential_on(card):
        return None
    return list(Share.objects.filter(card=card).select_related("user", "team").order_by("created_at", "id"))


def employments_of(user: Any, card: Card) -> list[Employment]:
    """Where a person works, or who works at an organisation: only cards the user may see."""
    if card.kind == Kind.PERSON:
        qs = visible_through(user, Employment.objects.filter(person=card), "organization").select_related("organization")
    else:
        qs = visible_through(user, Employment.objects.filter(organization=card), "person").select_related("person")
    return list(qs.order_by("ended_on", "-started_on", "id")[:500])


# What the card page shows of an employment: the job, and of the other card only its name.
_EMPLOYMENT_LINE = ("title", "level", "function", "started_on", "ended_on", "person_id", "organization_id")


def employment_lines(user: Any, card: Card) -> list[Employment]:
    """``employments_of`` as the card page lists them: the other card carries only its name (a
    card has some thirty columns, and reading twenty of them whole costs more than the query)."""
    other = "organization" if card.kind == Kind.PERSON else "person"
    rows = Employment.objects.filter(**{"person" if other == "organization" else "organization": card})
    qs = visible_through(user, rows, other).select_related(other).only(*_EMPLOYMENT_LINE, f"{other}__display_name")
    return list(qs.order_by("ended_on", "-started_on", "id")[:500])


@dataclass(frozen=True)
class Company:
    """Where a person in a list works now: the organisation the reader may see, with the job title."""

    id: int
    name: str
    title: str


def current_companies(user: Any, people: Iterable[Card]) -> dict[int, list[Company]]:
    """Current employers of each person in a list page, in one query; only organisations the user may see."""
    ids = [card.pk for card in people if card.kind == Kind.PERSON]
    if not ids:
        return {}
    today = timezone.localdate()
    rows = (
        visible_through(user, Employment.objects.filter(person_id__in=ids), "organization")
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=today))
        .order_by("person_id", "-started_on", "id")
        .values_list("person_id", "organization_id", "organization__display_name", "title")
    )
    found: dict[int, list[Company]] = {}
    for person_id, org_id, name, title in rows:
        found.setdefault(person_id, []).append(Company(id=org_id, name=name, title=title))
    return found


# --- timeline --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a card's timeline: an activity, a fact learned or a stage change."""

    at: dt.datetime
    type: str  # activity | fact | stage
    kind: str
    title: str
    detail: str
    by: str
    ref_id: int
    rule: str = ""  # for a stage change: the funnel rule that allowed or made it, translated
    label: str = ""  # for entries other apps add (an order, a complaint): what it is, translated
    url: str = ""  # where the entry's record is shown, when it has a page
    dated: bool = False  # the record has a date, not a time (an order, an invoice): shown without a time


# Other apps add their records to a card's timeline (orders, invoices, service cases…): a
# source answers the entries of one card that the user may see, newest first, at most ``limit``
# and older than ``before`` when given.
TimelineSource = Callable[[Any, Card, int, "dt.datetime | None"], list[TimelineEntry]]
_timeline_sources: list[TimelineSource] = []


def timeline_rows(rows: QuerySet[Any], when: str, before: Any, limit: int, *columns: str) -> list[tuple[Any, ...]]:
    """A timeline source's newest ``limit`` rows, older than ``before`` when given, newest first by
    ``when`` then id, as tuples of ``columns`` (an author's name joined in by ``…__username``):
    a model instance and its author's for each row would cost more than the query."""
    if before is not None:
        rows = rows.filter(**{f"{when}__lt": before})
    return list(rows.order_by(f"-{when}", "-id").values_list(*columns)[:limit])


def register_timeline_source(source: TimelineSource) -> None:
    if source not in _timeline_sources:
        _timeline_sources.append(source)


def timeline_of(user: Any, card: Card, *, limit: int = 50, before: dt.datetime | None = None) -> list[TimelineEntry]:
    """Activities, facts learned and stage changes of a card, newest first."""
    from rapport.activities.models import ActivityKind

    limit = max(1, min(limit, 200))
    entries: list[TimelineEntry] = []
    # Rows as tuples, with the author's name joined in: the page shows up to 50 of each kind,
    # and a model instance plus its author's for each row would cost more than the queries.
    activities = Activity.objects.filter(participants__card=card)
    facts = Fact.objects.filter(card=card, item__key__in=list(readable_items(user, card)))
    stages = StageChange.objects.filter(card=card)
    if before:
        activities = activities.filter(occurred_at__lt=before)
        facts = facts.filter(recorded_at__lt=before)
        stages = stages.filter(changed_at__lt=before)
    kinds = dict(ActivityKind.choices)
    for pk, occurred_at, kind, summary, by in activities.order_by("-occurred_at", "-id").values_list(
        "id", "occurred_at", "kind", "summary", "recorded_by__username"
    )[:limit]:
        entries.append(TimelineEntry(occurred_at, "activity", kind, str(kinds.get(kind, kind)), summary, by, pk))
    shown: list[InformationItem] = []
    recent_facts = [
        (pk, recorded_at, catalog.item_by_id(item_id), crypto.unseal(value), by)
        for pk, recorded_at, item_id, value, by in facts.order_by("-recorded_at", "-id").values_list(
            "id", "recorded_at", "item_id", "value", "recorded_by__username"
        )[:limit]
    ]
    people = person_names(user, _referenced_people((item, value) for _pk, _at, item, value, _by in recent_facts))
    for pk, recorded_at, item, value, by in recent_facts:
        if item is None:
            continue
        shown.append(item)
        entries.append(TimelineEntry(recorded_at, "fact", item.key, item.label, display_value(item, value, people), by, pk))
    audit_read(user, card, _sensitive_keys(shown))
    from rapport.funnel.rules import rule_label

    stage_labels = dict(Stage.choices)
    for pk, changed_at, from_stage, to_stage, reason, rule, by in stages.order_by("-changed_at", "-id").values_list(
        "id", "changed_at", "from_stage", "to_stage", "reason", "rule", "changed_by__username"
    )[:limit]:
        title = f"{stage_labels.get(from_stage, '—') if from_stage else '—'} → {stage_labels.get(to_stage, to_stage)}"
        entries.append(TimelineEntry(changed_at, "stage", to_stage, str(title), reason, by or "", pk, rule_label(rule)))
    for source in _timeline_sources:
        entries.extend(source(user, card, limit, before))
    entries.sort(key=lambda e: (e.at, e.ref_id), reverse=True)
    return entries[:limit]


def source_label(key: str) -> str:
    source = catalog.sources().get(key)
    return pick_label(source.labels) if source else key


def recent_cards(user: Any, *, limit: int = 50) -> list[Card]:
    """My customers: the live cards the user owns, the ones changed last first."""
    qs = filter_cards(user, CardFilter(owner=user.id))
    return list(qs.order_by("-updated_at", "-id").select_related("owner", "team").prefetch_related("phones", "emails")[:limit])


def filterable_items(user: Any, kind: str | None) -> list[InformationItem]:
    """Catalog items the user may filter lists on: the rule ``_filter_on_item`` enforces."""
    scope = scope_for(user)
    allowed = {Sensitivity.PUBLIC.value, Sensitivity.INTERNAL.value}
    if scope.confidential_q() is not None:
        allowed.add(Sensitivity.CONFIDENTIAL.value)
    if scope.may_see_special:
        allowed.add(Sensitivity.SPECIAL.value)
    return [
        i for i in catalog.items().values() if i.sensitivity in allowed and (kind is None or i.applies_to in ("any", kind))
    ]


_INDUSTRY_CACHE_SECONDS = 300


def industries(user: Any, kind: str) -> list[str]:
    """Industries on the cards the user can see, for the list filter.

    A distinct over every visible card reads a whole index on large tables, so the answer
    is cached per user for a few minutes; a new industry shows up in the filter a little late.
    """
    from django.core.cache import cache

    key = f"rapport:industries:{user.id}:{kind}"
    found = cache.get(key)
    if found is None:
        found = list(
            filter_cards(user, CardFilter(kind=kind)).exclude(industry="").order_by("industry")
            .values_list("industry", flat=True).distinct()[:200]
        )
        cache.set(key, found, _INDUSTRY_CACHE_SECONDS)
    return found
