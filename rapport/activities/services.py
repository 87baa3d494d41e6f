"""Logging activities against cards."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from rapport.accounts.models import User
from rapport.activities.models import Activity, ActivityKind, Participant
from rapport.audit.models import Action
from rapport.audit.services import record as audit
from rapport.cards.selectors import cards_by_ids
from rapport.cards.services import Errors
from rapport.cards.values import clean_text, parse_observed_at
from rapport.core.errors import PermissionDenied
from rapport.core.visibility import scope_for


def log_activity(*, user: User, data: dict[str, Any]) -> Activity:
    """Records a call, visit, meeting, message, note, gift or event with the cards that took part."""
    return record_activity(user=user, data=data)[0]


@transaction.atomic
def record_activity(*, user: User, data: dict[str, Any]) -> tuple[Activity, list[Participant]]:
    """``log_activity``, also answering the participants written, in card id order, each with its
    card: every one was checked visible to ``user`` before the write, so an answer built from them
    needs no read of the new activity back through the visibility filter."""
    errors = Errors()
    kind = data.get("kind")
    if kind not in ActivityKind.values:
        errors.add("kind", f"{kind!r} is not one of: {', '.join(ActivityKind.values)}.")
    summary = errors.run(clean_text, "summary", data.get("summary"), required=True, max_length=300) or ""
    details = errors.run(clean_text, "details", data.get("details")) or ""
    occurred_at = timezone.now()
    if data.get("occurred_at") not in (None, ""):
        occurred_at = errors.run(parse_observed_at, data["occurred_at"], "occurred_at") or occurred_at
    raw_ids = data.get("cards")
    card_ids: list[int] = []
    if not isinstance(raw_ids, list) or not raw_ids:
        errors.add("cards", "Name at least one card that took part.")
    elif len(raw_ids) > 100:
        errors.add("cards", "At most 100 cards per activity.")
    else:
        for raw in raw_ids:
            if isinstance(raw, bool) or not str(raw).isdigit() or int(raw) > 2**62:
                errors.add("cards", f"{raw!r} is not a card id.")
            else:
                card_ids.append(int(raw))
    cards = cards_by_ids(user, card_ids)
    if card_ids and len({c.pk for c in cards}) != len(set(card_ids)):
        errors.add("cards", "Unknown card.")
    if scope_for(user).role == "analyst":
        raise PermissionDenied("Your role may not log activities.")
    errors.raise_if_any()
    assert isinstance(kind, str)  # checked against ActivityKind.values above
    activity = Activity.objects.create(
        kind=kind, occurred_at=occurred_at, summary=summary, details=details, recorded_by=user
    )
    participants = Participant.objects.bulk_create([Participant(activity=activity, card=c) for c in cards])
    audit(action=Action.CREATE, record=activity, actor=user, detail={"kind": kind, "cards": sorted(c.pk for c in cards)})
    return activity, participants


