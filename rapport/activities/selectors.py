"""Reading activities: only those touching at least one card the user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from rapport.activities.models import Activity, Participant
from rapport.core.visibility import visible_to


def activities_for(user: Any, *, card_id: int | None = None, kind: str | None = None) -> QuerySet[Activity]:
    visible_ids = visible_to(user).values("id")
    qs = Activity.objects.filter(participants__card_id__in=visible_ids)
    if card_id is not None:
        qs = qs.filter(participants__card_id=card_id)
    if kind:
        qs = qs.filter(kind=kind)
    return (
        qs.distinct()
        .select_related("recorded_by")
        .prefetch_related(
            Prefetch(
                "participants",
                queryset=Participant.objects.filter(card_id__in=visible_ids).select_related("card"),
                to_attr="visible_participants",
            )
        )
        .order_by("-occurred_at", "-id")
    )
