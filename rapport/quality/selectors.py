"""Reads of information quality: conflicting facts, weighted completeness, what to collect next.

Everything is derived from the facts, the catalog and the collection policy
(``data/policy.yaml``); cards come through ``rapport.core.visibility`` and items above the
user's clearance are left out, exactly as on the card page.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from django.db.models import Count, QuerySet
from django.utils import timezone

from rapport.cards.models import Card, Fact
from rapport.cards.selectors import display_value, readable_items
from rapport.cards.services import completeness_percent
from rapport.catalog import selectors as catalog
from rapport.catalog.models import InformationItem, Sensitivity
from rapport.core.errors import NotFound, ValidationError
from rapport.core.visibility import scope_for, visible_to

POLICY = Path(__file__).resolve().parent / "data" / "policy.yaml"
TIER_ORDER = ("A", "B", "C")


@lru_cache(maxsize=1)
def policy() -> dict[str, Any]:
    with POLICY.open(encoding="utf-8") as fh:
        loaded: dict[str, Any] = yaml.safe_load(fh)
    return loaded


# --- conflicts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConflictFact:
    """One side of a conflict: a value with its source, confidence and who recorded it."""

    fact_id: int
    value: str
    source: str
    confidence: int
    verified: bool
    observed_at: dt.datetime
    recorded_by: str
    current: bool


@dataclass
class Conflict:
    """Current facts of one item that disagree: different sources, different values, both recent."""

    card_id: int
    item: InformationItem
    facts: list[ConflictFact] = field(default_factory=list)

    @property
    def values(self) -> int:
        return len({f.value for f in self.facts})


def _recent_cutoff() -> dt.datetime:
    return timezone.now() - dt.timedelta(days=int(policy().get("conflict_recent_days", 365)))


def _conflict_from(card_id: int, item: InformationItem, facts: list[Fact], current_fact_id: int | None) -> Conflict | None:
    """The conflict among ``facts`` of one item, or None when they agree or it was resolved.

    A conflict is resolved when someone verified one value after the disagreeing facts were
    recorded: the verified fact is then the card's current value and stays so.
    """
    cutoff = _recent_cutoff()
    recent = [f for f in facts if f.observed_at >= cutoff]
    if len({f.value_text for f in recent}) < 2 or len({f.source_id for f in recent}) < 2:
        return None
    # Only values that disagree with another source count; repeated values keep the latest fact.
    latest: dict[str, Fact] = {}
    for f in sorted(recent, key=lambda f: (f.observed_at, f.id)):
        latest[f.value_text] = f
    sides = list(latest.values())
    if len({f.source_id for f in sides}) < 2:
        return None
    verified = [f for f in facts if f.verified and f.verified_at is not None]
    if verified:
        last_verified = max(verified, key=lambda f: f.verified_at or f.recorded_at)
        assert last_verified.verified_at is not None
        if all(last_verified.verified_at >= f.recorded_at for f in sides if f.value_text != last_verified.value_text):
            return None
    conflict = Conflict(card_id=card_id, item=item)
    for f in sorted(sides, key=lambda f: (-f.confidence, f.observed_at), reverse=False):
        source = catalog.source_by_id(f.source_id)
        conflict.facts.append(
            ConflictFact(
                fact_id=f.id,
                value=display_value(item, f.value),
                source=source.label if source else "",
                confidence=f.confidence,
                verified=f.verified,
                observed_at=f.observed_at,
                recorded_by=f.recorded_by.get_username() if f.recorded_by_id else "",
                current=f.id == current_fact_id,
            )
        )
    return conflict


def conflicts_of(user: Any, card: Card) -> list[Conflict]:
    """Unresolved conflicts on one card the user can see, for items the user may read."""
    readable = readable_items(user, card)
    by_id = {i.id: i for i in readable.values()}
    facts: dict[int, list[Fact]] = defaultdict(list)
    for f in Fact.objects.filter(card=card, item_id__in=list(by_id)).select_related("recorded_by").order_by("id"):
        facts[f.item_id].append(f)
    found = []
    for item_id, item_facts in facts.items():
        if len(item_facts) < 2:
            continue
        item = by_id[item_id]
        current = (card.profile or {}).get(item.key, {}).get("f")
        conflict = _conflict_from(card.pk, item, item_facts, current)
        if conflict is not None:
            found.append(conflict)
    found.sort(key=lambda c: (c.item.block, c.item.position))
    return found


@dataclass(frozen=True)
class TeamConflict:
    card: Card
    conflict: Conflict


def team_conflicts(user: Any, *, team: int | None = None, limit: int = 100) -> list[TeamConflict]:
    """Unresolved conflicts on the cards the user sees (one team's, with ``team``), newest first."""
    cards = _cards(user, team)
    candidates = (
        Fact.objects.filter(card__in=cards, observed_at__gte=_recent_cutoff())
        .values("card_id", "item_id")
        .annotate(values=Count("value_text", distinct=True), sources=Count("source", distinct=True))
        .filter(values__gt=1, sources__gt=1)
        .order_by("-card_id", "item_id")[: limit * 4]
    )
    pairs = [(row["card_id"], row["item_id"]) for row in candidates]
    if not pairs:
        return []
    by_card = {c.pk: c for c in Card.objects.filter(pk__in={c for c, _ in pairs}).select_related("owner", "team")}
    facts: dict[tuple[int, int], list[Fact]] = defaultdict(list)
    for f in Fact.objects.filter(card_id__in=list(by_card), item_id__in={i for _, i in pairs}).select_related("recorded_by"):
        facts[(f.card_id, f.item_id)].append(f)
    scope = scope_for(user)
    found: list[TeamConflict] = []
    for card_id, item_id in pairs:
        card = by_card[card_id]
        item = catalog.item_by_id(item_id)
        if item is None or item.sensitivity not in scope.sensitivities_on(card):
            continue
        current = (card.profile or {}).get(item.key, {}).get("f")
        conflict = _conflict_from(card_id, item, facts[(card_id, item_id)], current)
        if conflict is not None:
            found.append(TeamConflict(card, conflict))
        if len(found) >= limit:
            break
    return found


def _cards(user: Any, team: int | None) -> QuerySet[Card]:
    qs = visible_to(user).filter(archived_at__isnull=True)
    if team is not None:
        if isinstance(team, bool) or not isinstance(team, int):
            raise ValidationError.single("team", "Expected a team id.")
        qs = qs.filter(team_id=team)
    return qs


def get_conflict(user: Any, card: Card, item_key: Any) -> Conflict:
    for conflict in conflicts_of(user, card):
        if conflict.item.key == item_key:
            return conflict
    raise NotFound("conflict")


# --- completeness ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Completeness:
    """How much of what its tier requires a card has, weighted; the missing items the user may read."""

    percent: int
    have: int
    required: int
    missing: list[InformationItem]


def weighted_completeness(tier: str, kind: str, profile: dict[str, Any]) -> tuple[int, list[InformationItem]]:
    """Weighted percent of the tier's required items present in ``profile`` (the rule the card
    stores, ``cards.services.completeness_percent``), and the missing items."""
    required = catalog.required_items(tier, kind)
    return completeness_percent(required, profile, tier), [i for i in required if i.key not in profile]


def completeness_of(user: Any, card: Card) -> Completeness:
    percent, missing = weighted_completeness(card.tier, card.kind, card.profile or {})
    readable = readable_items(user, card)
    required = catalog.required_items(card.tier, card.kind)
    return Completeness(
        percent=percent,
        have=len(required) - len(missing),
        required=len(required),
        missing=[i for i in missing if i.key in readable],
    )


@dataclass(frozen=True)
class IncompleteCard:
    card: Card
    percent: int
    missing: int


def least_complete(user: Any, *, team: int | None = None, limit: int = 50) -> list[IncompleteCard]:
    """The team's valuable cards (tier A, then B) that lack most of what their tier requires.

    The card keeps its weighted completeness up to date, so this is an ordered read.
    """
    limit = max(1, min(limit, 200))
    found: list[IncompleteCard] = []
    for tier in ("A", "B"):
        rows = _cards(user, team).filter(tier=tier, completeness__lt=100).select_related("owner", "team").order_by("completeness", "id")
        for card in rows[: limit - len(found)]:
            _percent, missing = weighted_completeness(card.tier, card.kind, card.profile or {})
            found.append(IncompleteCard(card, card.completeness, len(missing)))
        if len(found) >= limit:
            break
    return found


# --- what to collect next ----------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    """A missing item worth collecting: its value for this card, its cost, and value per cost."""

    item: InformationItem
    value: float
    cost: int
    worth: float
    required: bool


def collect_next(user: Any, card: Card, *, limit: int = 5) -> list[Suggestion]:
    """Missing items ranked by value for the card's tier and stage against collection cost.

    Special-category items are never suggested: collecting them needs a legal basis, not a nudge.
    """
    rules = policy()
    tier_value = float(rules["tier_value"].get(card.tier or "", rules["tier_value"].get("", 0.7)))
    weights = rules["requirement_weight"]
    stage = rules["stage_block_weight"].get(card.lifecycle_stage, {})
    higher = TIER_ORDER[: TIER_ORDER.index(card.tier)] if card.tier in TIER_ORDER else TIER_ORDER
    present = set((card.profile or {}).keys())
    suggestions = []
    for item in readable_items(user, card).values():
        if item.key in present or item.sensitivity == Sensitivity.SPECIAL:
            continue
        own = bool(card.tier) and card.tier in item.required_for_tiers
        if own:
            requirement = float(weights["own_tier"])
        elif any(t in item.required_for_tiers for t in higher):
            requirement = float(weights["higher_tier"])
        else:
            requirement = float(weights["optional"])
        value = requirement * tier_value * float(stage.get(item.block, 1.0))
        cost = max(1, int(item.cost or 1))
        suggestions.append(Suggestion(item=item, value=round(value, 2), cost=cost, worth=round(value / cost, 2), required=own))
    suggestions.sort(key=lambda s: (-s.worth, -s.value, s.item.block, s.item.position))
    return suggestions[: max(1, min(limit, 50))]


