"""The lifecycle rules: which stage moves are legal, and which evidence moves a card by itself.

A manual move is legal when a rule of ``MOVES`` names it; otherwise the first matching
refusal of ``REFUSALS`` explains why (the API answers 422 with the rule's key). Automatic
moves come from order evidence (``OrderEvidence``), which an orders app provides by calling
``register_order_evidence`` in its ``AppConfig.ready()``.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from rapport.cards.models import Stage

S = Stage
PRE_CUSTOMER = (S.SUSPECT, S.PROSPECT, S.TARGET)
BOUGHT = (S.CUSTOMER, S.REGULAR, S.DORMANT)  # stages of a card that has bought at least once


@dataclass(frozen=True)
class MoveRule:
    """One legal manual move; ``needs_reason`` when the move must say why."""

    key: str
    label: Promise
    moves: frozenset[tuple[str, str]]
    needs_reason: bool = False


def _pairs(sources: Iterable[str], targets: Iterable[str]) -> frozenset[tuple[str, str]]:
    return frozenset((a, b) for a in sources for b in targets if a != b)


MOVES: tuple[MoveRule, ...] = (
    MoveRule("advance", _("Advance one step"), frozenset({(S.SUSPECT, S.PROSPECT), (S.PROSPECT, S.TARGET)})),
    MoveRule("step_back", _("Step back"), frozenset({(S.PROSPECT, S.SUSPECT), (S.TARGET, S.PROSPECT)}), needs_reason=True),
    MoveRule("won", _("First purchase"), _pairs(PRE_CUSTOMER, [S.CUSTOMER])),
    MoveRule("repeat", _("Buys repeatedly"), frozenset({(S.CUSTOMER, S.REGULAR)})),
    MoveRule("less_often", _("Buys less often"), frozenset({(S.REGULAR, S.CUSTOMER)}), needs_reason=True),
    MoveRule("lapsed", _("Stopped buying"), _pairs([S.CUSTOMER, S.REGULAR], [S.DORMANT])),
    MoveRule("reactivated", _("Buying again"), _pairs([S.DORMANT], [S.CUSTOMER, S.REGULAR])),
    MoveRule("lose", _("Lost"), _pairs([s for s in S.values if s != S.LOST], [S.LOST]), needs_reason=True),
    MoveRule("reopen", _("Reopened"), _pairs([S.LOST], [S.SUSPECT, S.PROSPECT]), needs_reason=True),
)

# Why an illegal move is refused, checked in order: (rule key, matches(from, to), message).
REFUSALS: tuple[tuple[str, Any, Promise], ...] = (
    ("same_stage", lambda a, b: a == b, _("The card is already at this stage.")),
    ("lost_requires_reopen", lambda a, b: a == S.LOST,
     _("A lost card is first reopened as a suspect or a prospect, with a reason.")),
    ("target_from_prospect", lambda a, b: b == S.TARGET,
     _("Only a qualified prospect becomes a target.")),
    ("regular_requires_customer", lambda a, b: b == S.REGULAR,
     _("Only a customer (or a dormant customer buying again) becomes a regular customer.")),
    ("dormant_requires_customer", lambda a, b: b == S.DORMANT,
     _("Only a customer who has bought can fall dormant.")),
    ("no_unbuying", lambda a, b: a in BOUGHT and b in PRE_CUSTOMER,
     _("A card that has bought stays a customer; mark it dormant or lost instead.")),
    ("one_step_at_a_time", lambda a, b: True, _("This move skips a stage of the funnel.")),
)

AUTOMATIC_RULES: dict[str, Promise] = {
    "first_order": _("First order"),
    "regular_orders": _("Repeated orders"),
    "no_recent_order": _("No order for longer than usual"),
    "order_after_pause": _("Order after a pause"),
}


def rule_for(from_stage: str, to_stage: str) -> MoveRule | None:
    for rule in MOVES:
        if (from_stage, to_stage) in rule.moves:
            return rule
    return None


def refusal_for(from_stage: str, to_stage: str) -> tuple[str, str]:
    """The key and message of the rule an illegal move breaks."""
    for key, matches, message in REFUSALS:
        if matches(from_stage, to_stage):
            return key, str(message)
    raise AssertionError("the last refusal matches every move")


def rule_label(key: str) -> str:
    """The translated name of a move rule or an automatic rule ("" for none or unknown)."""
    for rule in MOVES:
        if rule.key == key:
            return str(rule.label)
    label = AUTOMATIC_RULES.get(key)
    return str(label) if label else ""


def legal_targets(from_stage: str) -> list[str]:
    """Stages a card at ``from_stage`` may be moved to by hand, in funnel order."""
    return [s for s in S.values if rule_for(from_stage, s) is not None]


# --- automatic moves from order evidence ------------------------------------------------------------


class OrderEvidence(Protocol):
    """What the funnel needs to know about orders; the orders app implements it.

    ``order_dates`` answers, for each of the given cards that has orders, the dates of its
    orders (any order). ``revenue`` answers the total value of each card's orders in the
    reporting currency, for the ABC tiers and the method and referral reports.
    """

    def order_dates(self, card_ids: list[int]) -> dict[int, list[dt.date]]: ...

    def revenue(self, card_ids: list[int]) -> dict[int, float]: ...


_providers: list[OrderEvidence] = []


def register_order_evidence(provider: OrderEvidence) -> None:
    """Called by the orders app once orders exist; tests register a fake one."""
    if provider not in _providers:
        _providers.append(provider)


def unregister_order_evidence(provider: OrderEvidence) -> None:
    if provider in _providers:
        _providers.remove(provider)


def order_evidence() -> OrderEvidence | None:
    return _providers[-1] if _providers else None


@dataclass(frozen=True)
class AutoMove:
    to_stage: str
    rule: str
    evidence: dict[str, Any] = field(default_factory=dict)


def regular_threshold() -> tuple[int, int]:
    """(N orders, M months): N orders within the last M months make a regular customer."""
    return int(getattr(settings, "RAPPORT_REGULAR_ORDERS", 3)), int(getattr(settings, "RAPPORT_REGULAR_MONTHS", 12))


def usual_interval(dates: list[dt.date]) -> int | None:
    """The customer's usual days between orders (median gap), or None with fewer than two orders."""
    ordered = sorted(set(dates))
    if len(ordered) < 2:
        return None
    return int(statistics.median((b - a).days for a, b in zip(ordered, ordered[1:])))


def automatic_move(stage: str, dates: list[dt.date], today: dt.date) -> AutoMove | None:
    """The move order evidence calls for, if any.

    - first order → customer (from suspect, prospect, target or lost: the order proves it);
    - N orders in the last M months → regular (from customer or dormant);
    - no order for longer than the usual interval (× ``RAPPORT_DORMANT_FACTOR``, at least
      ``RAPPORT_DORMANT_MIN_DAYS``) → dormant (from customer or regular);
    - an order after falling dormant → customer again.
    """
    past = sorted(d for d in dates if d <= today)
    if not past:
        return None
    last = past[-1]
    n, months = regular_threshold()
    window_start = today - dt.timedelta(days=round(months * 30.44))
    recent = [d for d in past if d >= window_start]
    factor = float(getattr(settings, "RAPPORT_DORMANT_FACTOR", 2.0))
    min_days = int(getattr(settings, "RAPPORT_DORMANT_MIN_DAYS", 60))
    interval = usual_interval(past)
    allowed_gap = max(min_days, round((interval or min_days) * factor))
    silent_days = (today - last).days
    evidence: dict[str, Any] = {"orders": len(past), "last_order": last.isoformat(), "first_order": past[0].isoformat()}
    if stage in PRE_CUSTOMER or stage == S.LOST:
        return AutoMove(S.CUSTOMER, "first_order", evidence)
    if stage in (S.CUSTOMER, S.REGULAR) and silent_days > allowed_gap:
        return AutoMove(S.DORMANT, "no_recent_order", {**evidence, "silent_days": silent_days, "usual_interval_days": interval, "allowed_days": allowed_gap})
    if stage in (S.CUSTOMER, S.DORMANT) and len(recent) >= n and silent_days <= allowed_gap:
        return AutoMove(S.REGULAR, "regular_orders", {**evidence, "orders_in_window": len(recent), "window_months": months})
    if stage == S.DORMANT and silent_days <= allowed_gap:
        return AutoMove(S.CUSTOMER, "order_after_pause", evidence)
    return None
