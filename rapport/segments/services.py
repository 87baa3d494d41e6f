"""Write use-cases of segmentation: saved segments, and the refresh of tiers and dimensions."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from rapport.accounts.models import Role, Team, User
from rapport.cards.models import Card, CurrentValue, Kind, Stage
from rapport.cards.values import clean_text
from rapport.catalog import selectors as catalog
from rapport.core.errors import Conflict, PermissionDenied, ValidationError
from rapport.core.visibility import scope_for
from rapport.funnel import rules
from rapport.segments import conditions as conds
from rapport.segments.models import Dimensions, Segment


def _team_for(user: User, team_id: Any) -> Team | None:
    if team_id in (None, ""):
        return None
    scope = scope_for(user)
    allowed = None if scope.role == Role.ADMIN else set(scope.team_ids) | set(scope.managed_team_ids)
    team = Team.objects.filter(pk=team_id).first() if str(team_id).isdigit() else None
    if team is None or (allowed is not None and team.pk not in allowed):
        raise ValidationError.single("team", "Unknown team.")
    return team


def _clean(user: User, data: dict[str, Any], current: Segment | None) -> dict[str, Any]:
    unknown = set(data) - {"name", "description", "kind", "conditions", "team"}
    if unknown:
        raise ValidationError({k: ["Unknown field."] for k in sorted(unknown)})
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}

    def run(name: str, fn: Any) -> None:
        try:
            out[name] = fn()
        except ValidationError as exc:
            for key, messages in exc.errors.items():
                errors.setdefault(key, []).extend(messages)

    if "name" in data or current is None:
        run("name", lambda: clean_text("name", data.get("name"), required=True, max_length=200))
    if "description" in data:
        run("description", lambda: clean_text("description", data.get("description"), max_length=500) or "")
    kind = data.get("kind", current.kind if current else "") or ""
    if "kind" in data or "conditions" in data or current is None:
        run("kind", lambda: (conds.clean(user, kind, []), kind)[1])
        run("conditions", lambda: conds.clean(user, kind, data.get("conditions", current.conditions if current else [])))
    if "team" in data:
        run("team", lambda: _team_for(user, data.get("team")))
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def create_segment(*, user: User, data: dict[str, Any]) -> Segment:
    """Saves a named filter; private unless ``team`` shares it with one of the user's teams."""
    fields = _clean(user, data, None)
    now = timezone.now()
    return Segment.objects.create(owner=user, created_at=now, updated_at=now, **fields)


def _may_edit(user: User, segment: Segment) -> bool:
    return segment.owner_id == user.id or scope_for(user).role == Role.ADMIN


@transaction.atomic
def update_segment(*, user: User, segment: Segment, data: dict[str, Any], expected_version: int | None = None) -> Segment:
    if not _may_edit(user, segment):
        raise PermissionDenied("Only the segment's owner may change it.")
    locked = Segment.objects.select_for_update().get(pk=segment.pk)
    if expected_version is not None and locked.version != expected_version:
        raise Conflict("The segment changed since you loaded it.")
    fields = _clean(user, data, locked)
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.updated_at = timezone.now()
    locked.version = F("version") + 1
    locked.save()
    locked.refresh_from_db()
    return locked


@transaction.atomic
def delete_segment(*, user: User, segment: Segment) -> None:
    if not _may_edit(user, segment):
        raise PermissionDenied("Only the segment's owner may delete it.")
    segment.delete()


# --- tiers and dimensions ---------------------------------------------------------------------------


@dataclass
class RefreshResult:
    cards: int
    valued: int
    tiers: dict[str, int]
    seconds: float


def tier_thresholds() -> tuple[float, float]:
    """Cumulative value shares closing tier A and tier B (default: 80 % and 95 %)."""
    a, b = (float(x) for x in getattr(settings, "RAPPORT_TIER_THRESHOLDS", (0.8, 0.95)))
    if not 0 < a < b <= 1:
        raise ValidationError.single("RAPPORT_TIER_THRESHOLDS", "Expected two shares with 0 < A < B <= 1, e.g. 0.8,0.95.")
    return a, b


def potential_items() -> list[str]:
    """Catalog items read as a card's potential when it has no revenue yet, first found wins."""
    return list(getattr(settings, "RAPPORT_TIER_POTENTIAL_ITEMS", [
        "category_purchase_volume", "annual_business_volume", "purchase_budget", "average_purchase",
    ]))


def _amount(text: str) -> float | None:
    try:
        return float(Decimal(text.split(" ", 1)[0]))
    except (InvalidOperation, ValueError, IndexError):
        return None


def card_values() -> dict[int, float]:
    """Value per card for the ABC analysis: revenue once orders exist, else the estimated potential.

    Amounts are compared as numbers whatever their currency: a team selling in several
    currencies sets ``RAPPORT_TIER_POTENTIAL_ITEMS`` to items kept in one currency.
    """
    values: dict[int, float] = {}
    items = catalog.items()
    for key in reversed(potential_items()):  # earlier items win, so they are written last
        item = items.get(key)
        if item is None:
            continue
        rows = CurrentValue.objects.filter(item_id=item.id).values_list("card_id", "value_text")
        for card_id, text in rows.iterator(chunk_size=20_000):
            amount = _amount(text)
            if amount is not None and amount >= 0:
                values[card_id] = amount
    provider = rules.order_evidence()
    if provider is not None:
        ids = list(Card.objects.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), 5000):
            values.update({k: float(v) for k, v in provider.revenue(ids[start : start + 5000]).items()})
    return values


def abc_tiers(values: dict[int, float], thresholds: tuple[float, float]) -> dict[int, str]:
    """ABC analysis: the highest-value cards making up the first ``a`` share of value are A, up to ``b`` B, the rest C."""
    a, b = thresholds
    total = sum(values.values())
    tiers: dict[int, str] = {}
    if total <= 0:
        return {card_id: "C" for card_id in values}
    running = 0.0
    for card_id, value in sorted(values.items(), key=lambda kv: (-kv[1], kv[0])):
        # A card belongs to the tier in which its value starts, so one huge card is A on its own.
        share = running / total
        tiers[card_id] = "A" if share < a else "B" if share < b else "C"
        running += value
    return tiers


def refresh(*, today: dt.date | None = None, progress: Any = None) -> RefreshResult:
    """Recomputes ABC tiers (per kind) and every card's dimensions.

    Cards without a known value keep the tier a person set; cards with one get the tier the
    analysis gives. Dimensions are computed for all cards in one statement, with "familiar"
    and "frequent" from order evidence when an orders app provides it.
    """
    import time

    started = time.monotonic()
    values = card_values()
    if progress:
        progress("values", len(values))
    kinds: dict[int, str] = {}
    tiers_now: dict[int, str] = {}
    for card_id, kind, tier in Card.objects.values_list("pk", "kind", "tier").iterator(chunk_size=50_000):
        if card_id in values:
            kinds[card_id] = kind
            tiers_now[card_id] = tier
    tiers: dict[int, str] = {}
    for kind in (Kind.ORGANIZATION, Kind.PERSON):
        tiers.update(abc_tiers({c: v for c, v in values.items() if kinds.get(c) == kind}, tier_thresholds()))
    changed: dict[str, list[int]] = defaultdict(list)
    for card_id, wanted in tiers.items():
        if wanted != tiers_now.get(card_id):
            changed[wanted].append(card_id)
    frequent = _order_frequency(today or timezone.localdate())
    with transaction.atomic():
        _write_tiers({card_id: (tier, kinds[card_id]) for tier, ids in changed.items() for card_id in ids})
        _rewrite_dimensions(values, frequent)
    if progress:
        progress("dimensions", 0)
    with connection.cursor() as cursor:
        # Fresh statistics, so the planner keeps choosing the segment index for the new values.
        cursor.execute("PRAGMA optimize" if connection.vendor == "sqlite" else f"ANALYZE {Dimensions._meta.db_table}")
    tally: dict[str, int] = defaultdict(int)
    for t in tiers.values():
        tally[t] += 1
    return RefreshResult(cards=Card.objects.count(), valued=len(values), tiers=dict(tally), seconds=round(time.monotonic() - started, 2))


def _write_tiers(new: dict[int, tuple[str, str]]) -> None:
    """Writes new tiers, with the completeness each implies, through a temporary table.

    Completeness is measured against the tier's required items, so it moves with the tier:
    the same figure as ``cards.services.completeness_of``, counted from the value index rather
    than by reading every card's profile (a first refresh may re-tier most cards). The version
    moves too, so an edit form opened before the refresh cannot overwrite the new tier.
    """
    from rapport.cards.models import CurrentValue
    from rapport.cards.services import completeness_of

    if not new:
        return
    card, values = Card._meta.db_table, CurrentValue._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE segments_tier_tmp "
            "(card_id bigint PRIMARY KEY, tier varchar(1), kind varchar(16), completeness integer)"
        )
        try:
            rows = [(card_id, tier, kind) for card_id, (tier, kind) in new.items()]
            for start in range(0, len(rows), 10_000):
                cursor.executemany(
                    "INSERT INTO segments_tier_tmp (card_id, tier, kind, completeness) VALUES (%s, %s, %s, 0)",
                    rows[start : start + 10_000],
                )
            for tier, kind in sorted(set(new.values())):
                required = catalog.required_items(tier, kind)
                # Completeness weighs each required item by how many tiers require it
                # (cards.services.completeness_percent): sum the weights of the items present.
                weights = {i.id: max(1, len(i.required_for_tiers)) for i in required}
                total = sum(weights.values())
                have: dict[int, int] = {}
                if required:
                    marks = ",".join(["%s"] * len(required))
                    weight_case = "CASE v.item_id " + " ".join("WHEN %s THEN %s" for _ in weights) + " ELSE 0 END"
                    cursor.execute(
                        f"SELECT t.card_id, SUM({weight_case}) FROM segments_tier_tmp t JOIN {values} v ON v.card_id = t.card_id "  # noqa: S608
                        f"WHERE t.tier = %s AND t.kind = %s AND v.item_id IN ({marks}) GROUP BY t.card_id",
                        [*(x for pair in weights.items() for x in pair), tier, kind, *(i.id for i in required)],
                    )
                    have = {card_id: int(weight) for card_id, weight in cursor.fetchall()}
                # The same figure completeness_percent gives for each possible sum of weights.
                empty = completeness_of(Card(tier=tier, kind=kind, profile={}))
                pct = {n: (round(100 * n / total) if total else empty) for n in range(total + 1)}
                pct[0] = empty
                if pct[0]:
                    cursor.execute(
                        "UPDATE segments_tier_tmp SET completeness = %s WHERE tier = %s AND kind = %s", [pct[0], tier, kind]
                    )
                updates = [(pct[n], card_id) for card_id, n in have.items() if pct[n] != pct[0]]
                for start in range(0, len(updates), 10_000):
                    cursor.executemany(
                        "UPDATE segments_tier_tmp SET completeness = %s WHERE card_id = %s", updates[start : start + 10_000]
                    )
            cursor.execute(
                f"UPDATE {card} SET tier = (SELECT t.tier FROM segments_tier_tmp t WHERE t.card_id = {card}.id), "  # noqa: S608
                f"completeness = (SELECT t.completeness FROM segments_tier_tmp t WHERE t.card_id = {card}.id), "
                "version = version + 1 WHERE id IN (SELECT card_id FROM segments_tier_tmp)"
            )
        finally:
            cursor.execute("DROP TABLE segments_tier_tmp")


# Card.dimension_flags from a dimensions row, bit by bit as ``conds.DIMENSION_BITS`` says (a
# NULL "frequent" sets neither bit). Cards migration 0008 backfilled the column the same way.
DIMENSION_FLAGS_SQL = " + ".join(
    f"(CASE WHEN {name} IS NULL THEN 0 WHEN {name} THEN {yes} ELSE {no} END)" for name, (yes, no) in conds.DIMENSION_BITS.items()
)


def _rewrite_dimensions(values: dict[int, float], frequent: dict[int, bool]) -> None:
    dims = Dimensions._meta.db_table
    card = Card._meta.db_table
    from rapport.cards.models import StageChange
    from rapport.funnel.models import Qualification

    changes = StageChange._meta.db_table
    quals = Qualification._meta.db_table
    now = timezone.now()
    bought = "','".join(rules.BOUGHT)
    differs = "IS NOT" if connection.vendor == "sqlite" else "IS DISTINCT FROM"
    changed = " OR ".join(
        f"{dims}.{column} {differs} excluded.{column}" for column in ("likely", "buying", "familiar", "frequent", "priority", "value")
    )
    # One INSERT … SELECT … ON CONFLICT for every card: a million rows in seconds where an ORM
    # loop takes minutes, and only the rows whose dimensions changed are written.
    sql = f"""
        INSERT INTO {dims} (card_id, likely, buying, familiar, frequent, priority, value, refreshed_at)
        SELECT c.id,
               CASE WHEN c.lifecycle_stage = '{Stage.LOST}' OR q.intent = 'none' THEN FALSE ELSE TRUE END,
               CASE WHEN c.lifecycle_stage IN ('{Stage.CUSTOMER}', '{Stage.REGULAR}') THEN TRUE ELSE FALSE END,
               CASE WHEN c.lifecycle_stage IN ('{bought}') OR t.frequent IS NOT NULL THEN TRUE
                    WHEN c.id IN (SELECT s.card_id FROM {changes} s WHERE s.to_stage IN ('{bought}')) THEN TRUE
                    ELSE FALSE END,
               CASE WHEN t.frequent IS NOT NULL THEN t.frequent
                    WHEN c.lifecycle_stage = '{Stage.REGULAR}' THEN TRUE
                    WHEN c.lifecycle_stage IN ('{Stage.CUSTOMER}', '{Stage.DORMANT}') THEN FALSE
                    ELSE NULL END,
               CASE WHEN c.lifecycle_stage = '{Stage.TARGET}' OR c.tier = 'A' THEN TRUE ELSE FALSE END,
               t.value,
               %s
        FROM {card} c LEFT JOIN {quals} q ON q.card_id = c.id LEFT JOIN segments_value_tmp t ON t.card_id = c.id
        WHERE TRUE
        ON CONFLICT (card_id) DO UPDATE SET
            likely = excluded.likely, buying = excluded.buying, familiar = excluded.familiar,
            frequent = excluded.frequent, priority = excluded.priority, value = excluded.value,
            refreshed_at = excluded.refreshed_at
        WHERE {changed}
    """  # noqa: S608 - only our own table names and constants
    with connection.cursor() as cursor:
        # Values and order flags go through a temporary table so the one INSERT … SELECT can join them.
        cursor.execute(
            "CREATE TEMPORARY TABLE segments_value_tmp (card_id bigint PRIMARY KEY, value double precision, frequent boolean)"
        )
        try:
            rows = [(c, values.get(c), frequent.get(c)) for c in sorted(set(values) | set(frequent))]
            for start in range(0, len(rows), 10_000):
                cursor.executemany(
                    "INSERT INTO segments_value_tmp (card_id, value, frequent) VALUES (%s, %s, %s)", rows[start : start + 10_000]
                )
            cursor.execute(sql, [now])
            cursor.execute(f"DELETE FROM {dims} WHERE card_id NOT IN (SELECT id FROM {card})")  # noqa: S608
            # The rows written just now (changed or new), copied onto their cards as bits.
            cursor.execute(
                f"UPDATE {card} SET dimension_flags = f.flags FROM (SELECT card_id, {DIMENSION_FLAGS_SQL} AS flags "
                f"FROM {dims} WHERE refreshed_at = %s) f WHERE f.card_id = {card}.id AND {card}.dimension_flags <> f.flags",
                [now],
            )  # noqa: S608 - only our own table names and constants
        finally:
            cursor.execute("DROP TABLE segments_value_tmp")


def _order_frequency(today: dt.date) -> dict[int, bool]:
    """Frequent vs rare from orders, for each card with orders: orders per year at least the
    median of the buyers of the same kind (empty until an orders app provides evidence)."""
    provider = rules.order_evidence()
    if provider is None:
        return {}
    ids = list(Card.objects.order_by("pk").values_list("pk", "kind"))
    rates: dict[str, dict[int, float]] = defaultdict(dict)
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        kinds = dict(chunk)
        for card_id, dates in provider.order_dates([c for c, _ in chunk]).items():
            past = sorted(d for d in dates if d <= today)
            if not past:
                continue
            years = max((today - past[0]).days / 365.25, 1 / 12)
            rates[kinds[card_id]][card_id] = len(past) / years
    flags: dict[int, bool] = {}
    for per_kind in rates.values():
        norm = statistics.median(per_kind.values())
        flags.update({card_id: rate >= norm for card_id, rate in per_kind.items()})
    return flags
