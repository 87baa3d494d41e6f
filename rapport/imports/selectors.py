"""Read use-cases: import jobs and their rows, and the cards of an export (visibility applied here)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from rapport.accounts.models import Role, User
from rapport.cards import selectors as card_selectors
from rapport.cards.models import Card, CurrentValue
from rapport.catalog import selectors as catalog
from rapport.catalog.models import InformationItem, Sensitivity
from rapport.core.visibility import scope_for, visible_through
from rapport.imports.models import ExportRecord, ImportJob, RowError
from rapport.privacy import crypto


def jobs_of(user: User, *, limit: int = 50) -> list[ImportJob]:
    """The user's recent imports; an admin sees everyone's."""
    qs = ImportJob.objects.select_related("user")
    if scope_for(user).role != Role.ADMIN:
        qs = qs.filter(user=user)
    return list(qs.order_by("-created_at", "-id")[:limit])


def errors_of(job: ImportJob, *, limit: int = 200) -> list[RowError]:
    return list(RowError.objects.filter(job=job).order_by("row", "id")[:limit])


def exports_of(user: User, *, limit: int = 100) -> QuerySet[ExportRecord]:
    """Export records: admins see all (the privacy officer's view), others their own."""
    qs = ExportRecord.objects.select_related("user")
    if scope_for(user).role != Role.ADMIN:
        qs = qs.filter(user=user)
    return qs.order_by("-created_at", "-id")[:limit]


# --- export --------------------------------------------------------------------------------------

CORE_COLUMNS = [
    "id", "external_id", "name", "given_name", "family_name", "local_name", "owner", "team", "tier", "stage",
    "industry", "size_band", "website", "phones", "emails", "street", "city", "region", "postal_code", "country",
    "organization", "title", "created_at", "updated_at",
]


@dataclass(frozen=True)
class ExportCard:
    """One exported card: its core values and the items the user may read on it."""

    card: Card
    core: dict[str, Any]
    items: dict[str, str]  # item key -> display value, only items readable on this card
    raw: dict[str, Any]  # item key -> stored value (vCard needs the ISO date, not a label)
    phones: list[tuple[str, str]]  # (E.164, kind)
    emails: list[tuple[str, str]]  # (address, kind)
    addresses: list[dict[str, str]]


def export_items(user: User, cards: QuerySet[Card]) -> list[InformationItem]:
    """The catalog items that get a column: held by some exported card and within the user's
    clearance at all. Items above it have no column, not an empty one."""
    scope = scope_for(user)
    allowed = {Sensitivity.PUBLIC.value, Sensitivity.INTERNAL.value}
    if scope.confidential_q() is not None:
        allowed.add(Sensitivity.CONFIDENTIAL.value)
    if scope.may_see_special:
        allowed.add(Sensitivity.SPECIAL.value)
    held = set(CurrentValue.objects.filter(card__in=cards.order_by().values("id")).values_list("item_id", flat=True).distinct())
    items = [i for i in catalog.items().values() if i.id in held and i.sensitivity in allowed]
    items.sort(key=lambda i: (i.block, i.position, i.key))
    return items


def export_cards(user: User, flt: card_selectors.CardFilter) -> tuple[QuerySet[Card], list[InformationItem]]:
    cards = card_selectors.filter_cards(user, flt)
    return cards, export_items(user, cards)


def export_is_long(user: User, flt: card_selectors.CardFilter) -> bool:
    """Whether the list holds more cards than an export written while the browser waits may
    (``RAPPORT_EXPORT_INLINE_ROWS``); counts no further than that."""
    limit = max(0, int(getattr(settings, "RAPPORT_EXPORT_INLINE_ROWS", 5000)))
    return card_selectors.filter_cards(user, flt).order_by()[: limit + 1].count() > limit


def iter_export(user: User, cards: QuerySet[Card], items: list[InformationItem]) -> Iterator[ExportCard]:
    """The cards in name order with their contact points and current job, streamed in chunks of
    1,000 with one query per related table and chunk (no per-card queries)."""
    from rapport.cards.models import Address, Email, Employment, Phone

    scope = scope_for(user)
    wanted = {i.key: i for i in items}
    chunk: list[Card] = []

    def emit(batch: list[Card]) -> Iterator[ExportCard]:
        ids = [c.id for c in batch]
        phones: dict[int, list[tuple[str, str]]] = {}
        for card_id, e164, kind in Phone.objects.filter(card_id__in=ids).order_by("card_id", "position", "id").values_list("card_id", "e164", "kind"):
            phones.setdefault(card_id, []).append((e164, kind))
        emails: dict[int, list[tuple[str, str]]] = {}
        for card_id, address, kind in Email.objects.filter(card_id__in=ids).order_by("card_id", "position", "id").values_list("card_id", "address", "kind"):
            emails.setdefault(card_id, []).append((address, kind))
        addresses: dict[int, list[dict[str, str]]] = {}
        columns = ("kind", "street", "city", "region", "postal_code", "country")
        for card_id, *cells in Address.objects.filter(card_id__in=ids).order_by("card_id", "position", "id").values_list(
            "card_id", *columns
        ):
            addresses.setdefault(card_id, []).append(dict(zip(columns, cells)))
        jobs: dict[int, tuple[str, str]] = {}
        people = [c.id for c in batch if c.kind == "person"]
        if people:
            current = Employment.objects.filter(person_id__in=people, ended_on__isnull=True)
            for person_id, org_name, title in (
                visible_through(user, current, "organization")
                .order_by("person_id", "-started_on", "id").values_list("person_id", "organization__display_name", "title")
            ):
                jobs.setdefault(person_id, (org_name, title))
        for card in batch:
            allowed = scope.sensitivities_on(card)
            values: dict[str, str] = {}
            raw: dict[str, Any] = {}
            for key, entry in (card.profile or {}).items():
                item = wanted.get(key)
                if item is None or item.sensitivity not in allowed:
                    continue
                value = crypto.unseal(entry.get("v"))  # special items are sealed on the card
                values[key] = card_selectors.display_value(item, value)
                raw[key] = value
            card_addresses = addresses.get(card.id, [])
            first = card_addresses[0] if card_addresses else {}
            org, title = jobs.get(card.id, ("", ""))
            core = {
                "id": card.id, "external_id": card.external_id, "name": card.display_name, "given_name": card.given_name,
                "family_name": card.family_name, "local_name": card.local_name, "owner": card.owner.get_username(),
                "team": card.team.name if card.team else "", "tier": card.tier, "stage": card.lifecycle_stage,
                "industry": card.industry, "size_band": card.size_band, "website": card.website,
                "phones": "; ".join(p for p, _k in phones.get(card.id, [])),
                "emails": "; ".join(e for e, _k in emails.get(card.id, [])),
                "street": first.get("street", ""), "city": first.get("city", ""), "region": first.get("region", ""),
                "postal_code": first.get("postal_code", ""), "country": first.get("country", ""),
                "organization": org, "title": title,
                "created_at": card.created_at.isoformat(timespec="seconds"),
                "updated_at": card.updated_at.isoformat(timespec="seconds"),
            }
            yield ExportCard(card, core, values, raw, phones.get(card.id, []), emails.get(card.id, []), card_addresses)

    for card in cards.order_by("sort_name", "id").select_related("owner", "team").iterator(chunk_size=1000):
        chunk.append(card)
        if len(chunk) >= 1000:
            yield from emit(chunk)
            chunk = []
    if chunk:
        yield from emit(chunk)
