"""Write use-cases of the funnel: stage moves, automatic moves from evidence, qualification, prospecting."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.accounts.models import User
from rapport.cards.models import Card, Stage, StageChange
from rapport.catalog import selectors as catalog
from rapport.catalog.models import SourceGroup
from rapport.cards.values import clean_text, parse_date
from rapport.core.errors import Conflict, PermissionDenied, ValidationError
from rapport.core.visibility import scope_for, visible_to
from rapport.funnel import rules
from rapport.funnel.models import NEAR_TERM, Authority, Budget, Intent, Power, Qualification, Timeframe

QUALIFIED_STAGES = (Stage.PROSPECT, Stage.TARGET)


def target_gaps(q: Qualification | None) -> list[str]:
    """What a card still lacks to be a target: clear intent, strong power, a near-term timeframe."""
    gaps = []
    if q is None or q.intent != Intent.CLEAR:
        gaps.append("intent")
    if q is None or q.power != Power.STRONG:
        gaps.append("power")
    if q is None or q.timeframe not in NEAR_TERM:
        gaps.append("timeframe")
    return gaps


def check_manual_move(card: Card, to_stage: Any, reason: str) -> rules.MoveRule:
    """The rule allowing this move, or a ValidationError naming the rule it breaks."""
    if not isinstance(to_stage, str) or to_stage not in Stage.values:
        raise ValidationError.single("to", f"{to_stage!r} is not one of: {', '.join(Stage.values)}.")
    rule = rules.rule_for(card.lifecycle_stage, to_stage)
    if rule is None:
        key, message = rules.refusal_for(card.lifecycle_stage, to_stage)
        # The rule's key is for programs ("rule"); the sentence is for the reader, in their language.
        text = _("%(from)s → %(to)s is not possible: %(why)s") % {
            "from": Stage(card.lifecycle_stage).label, "to": Stage(to_stage).label, "why": message,
        }
        raise ValidationError({"to": [text], "rule": [key]})
    if rule.needs_reason and not reason:
        raise ValidationError({"reason": [_("Give a reason for this move.")], "rule": [rule.key]})
    if to_stage == Stage.TARGET:
        gaps = target_gaps(Qualification.objects.filter(card=card).first())
        if gaps:
            raise ValidationError(
                {"to": [_("Not a target yet: %(missing)s") % {"missing": " ".join(describe_gap(g) for g in gaps)}],
                 "rule": ["target_requires_qualification"], "missing": gaps}
            )
    return rule


@transaction.atomic
def move_stage(
    *, user: User, card: Card, to_stage: Any, reason: Any = "", expected_version: int | None = None
) -> StageChange:
    """Moves a card to another lifecycle stage by hand, if a rule allows it, and records the move."""
    if not scope_for(user).may_write_card(card):
        raise PermissionDenied("Your role may not change cards.")
    reason_text = (clean_text("reason", reason, max_length=500) or "") if reason not in (None, "") else ""
    # Lock the card so two concurrent moves cannot both start from the same stage.
    locked = Card.objects.select_for_update().get(pk=card.pk)
    if expected_version is not None and locked.version != expected_version:
        raise Conflict("The card changed since you loaded it.")
    rule = check_manual_move(locked, to_stage, reason_text)
    evidence: dict[str, Any] = {}
    if to_stage == Stage.TARGET:
        q = Qualification.objects.get(card=locked)
        evidence = {"intent": q.intent, "power": q.power, "timeframe": q.timeframe}
    return _record(locked, to_stage, by=user, reason=reason_text, rule=rule.key, evidence=evidence)


def _record(
    card: Card, to_stage: str, *, by: User | None, reason: str, rule: str, evidence: dict[str, Any], at: dt.datetime | None = None
) -> StageChange:
    now = at or timezone.now()
    change = StageChange.objects.create(
        card=card, from_stage=card.lifecycle_stage, to_stage=to_stage, changed_at=now, changed_by=by,
        reason=reason, rule=rule, evidence=evidence,
    )
    Card.objects.filter(pk=card.pk).update(lifecycle_stage=to_stage, updated_at=now, version=F("version") + 1)
    card.lifecycle_stage = to_stage
    return change


def apply_order_evidence(*, card_ids: list[int] | None = None, today: dt.date | None = None, chunk: int = 2000) -> list[StageChange]:
    """Moves cards automatically from order evidence; each move names its rule and evidence.

    Runs after every order the orders app records (for that card) and nightly from
    ``rapport funnel auto`` (for all cards: dormancy needs no new order to happen). Does
    nothing until an orders app registers its ``OrderEvidence``.
    """
    provider = rules.order_evidence()
    if provider is None:
        return []
    today = today or timezone.localdate()
    qs = Card.objects.filter(archived_at__isnull=True)
    if card_ids is not None:
        qs = qs.filter(pk__in=card_ids)
    ids = list(qs.order_by("pk").values_list("pk", flat=True))
    moves: list[StageChange] = []
    for start in range(0, len(ids), chunk):
        batch = ids[start : start + chunk]
        dates = provider.order_dates(batch)
        if not dates:
            continue
        with transaction.atomic():
            for card in Card.objects.select_for_update().filter(pk__in=list(dates)).order_by("pk"):
                move = rules.automatic_move(card.lifecycle_stage, dates.get(card.pk, []), today)
                if move is not None and move.to_stage != card.lifecycle_stage:
                    moves.append(_record(card, move.to_stage, by=None, reason="", rule=move.rule, evidence=move.evidence))
    return moves


# --- qualification ---------------------------------------------------------------------------------

QUALIFICATION_FIELDS = {
    "intent": Intent, "power": Power, "timeframe": Timeframe, "budget": Budget, "authority": Authority,
}


@transaction.atomic
def set_qualification(
    *, user: User, card: Card, data: dict[str, Any], expected_version: int | None = None
) -> Qualification:
    """Records what the rep knows about a prospect's or target's readiness to buy.

    Refused (nothing saved) when a value is unknown, when the card is not a prospect or a
    target, or when the new answers contradict the stage (a target that no longer has clear
    intent, strong power and a near-term timeframe must first be moved back).
    """
    if not scope_for(user).may_write_card(card):
        raise PermissionDenied("Your role may not change cards.")
    unknown = set(data) - set(QUALIFICATION_FIELDS) - {"check_back_on", "note"}
    if unknown:
        raise ValidationError({k: ["Unknown field."] for k in sorted(unknown)})
    locked = Card.objects.select_for_update().get(pk=card.pk)
    current = Qualification.objects.select_for_update().filter(card=locked).first()
    if expected_version is not None and (current.version if current else 0) != expected_version:
        raise Conflict("The qualification changed since you loaded it.")
    errors: dict[str, list[str]] = {}
    q = current or Qualification(card=locked)
    for name, choices in QUALIFICATION_FIELDS.items():
        if name in data:
            value = data[name] if data[name] is not None else ""
            if not isinstance(value, str) or value not in choices.values:
                errors.setdefault(name, []).append(f"{value!r} is not one of: {', '.join(v for v in choices.values if v)}.")
            else:
                setattr(q, name, value)
    if "check_back_on" in data:
        if data["check_back_on"] in (None, ""):
            q.check_back_on = None
        else:
            try:
                q.check_back_on = parse_date("check_back_on", data["check_back_on"])
            except ValidationError as exc:
                errors.update(exc.errors)
    if "note" in data:
        try:
            q.note = clean_text("note", data["note"], max_length=500) or ""
        except ValidationError as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationError(errors)
    if locked.lifecycle_stage not in QUALIFIED_STAGES:
        raise ValidationError.single(
            "stage", _("Qualification applies to prospects and targets; this card is at the stage “%(stage)s”.")
            % {"stage": Stage(locked.lifecycle_stage).label}
        )
    if locked.lifecycle_stage == Stage.TARGET:
        gaps = target_gaps(q)
        if gaps:
            raise ValidationError(
                {g: [_("Contradicts the stage: %(gap)s Move the card back to prospect first.") % {"gap": describe_gap(g)}]
                 for g in gaps}
                | {"rule": ["target_requires_qualification"]}
            )
    q.updated_by = user
    q.updated_at = timezone.now()
    if current is not None:
        q.version = current.version + 1
    q.save()
    return q


# --- prospecting -----------------------------------------------------------------------------------


@transaction.atomic
def set_prospecting(*, user: User, card: Card, data: dict[str, Any]) -> Card:
    """Records how a card was found (a prospecting method) and who referred it.

    The referrer must be a card the user can see, not the card itself, and the chain must
    not loop back (A referred B referred A).
    """
    if not scope_for(user).may_write_card(card):
        raise PermissionDenied("Your role may not change cards.")
    unknown = set(data) - {"found_by", "referred_by"}
    if unknown:
        raise ValidationError({k: ["Unknown field."] for k in sorted(unknown)})
    locked = Card.objects.select_for_update().get(pk=card.pk)
    errors: dict[str, list[str]] = {}
    updates: dict[str, Any] = {}
    if "found_by" in data:
        key = data["found_by"]
        if key in (None, ""):
            updates["found_by"] = None
        else:
            source = catalog.sources().get(key) if isinstance(key, str) else None
            if source is None or source.group != SourceGroup.METHOD:
                errors["found_by"] = [f"Unknown prospecting method {key!r}."]
            else:
                updates["found_by"] = source
    if "referred_by" in data:
        ref = data["referred_by"]
        if ref in (None, ""):
            updates["referred_by"] = None
        elif isinstance(ref, bool) or not str(ref).isdigit() or int(ref) > 2**62:
            errors["referred_by"] = ["Expected a card id."]
        else:
            referrer = visible_to(user).filter(pk=int(ref)).first()
            if referrer is None:
                errors["referred_by"] = ["Unknown card."]
            elif referrer.pk == locked.pk:
                errors["referred_by"] = ["A card cannot refer itself."]
            elif _chain_reaches(referrer.pk, locked.pk):
                errors["referred_by"] = ["This referral would make the chain loop back to this card."]
            else:
                updates["referred_by"] = referrer
    if errors:
        raise ValidationError(errors)
    for name, value in updates.items():
        setattr(locked, name, value)
    locked.updated_at = timezone.now()
    locked.version = F("version") + 1
    locked.save(update_fields=[*updates, "updated_at", "version"])
    locked.refresh_from_db()
    return locked


def _chain_reaches(start_id: int, target_id: int, limit: int = 1000) -> bool:
    """Whether following "referred by" from ``start_id`` reaches ``target_id``."""
    seen: set[int] = set()
    current: int | None = start_id
    while current is not None and current not in seen and len(seen) < limit:
        if current == target_id:
            return True
        seen.add(current)
        current = Card.objects.filter(pk=current).values_list("referred_by_id", flat=True).first()
    return False


def describe_gap(gap: str) -> str:
    """The translated sentence the card shows for a missing target requirement."""
    return {
        "intent": _("Purchase intent is not clear yet."),
        "power": _("Purchasing power is not known to be strong."),
        "timeframe": _("No near-term timeframe (this month or within three months)."),
    }[gap]
