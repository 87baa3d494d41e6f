"""Reading activities: only those touching at least one card the user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from rapport.activities.models import Activity, Participant
from rapport.core.visibility import scope_for, visible_through


def activities_for(user: Any, *, card_id: int | None = None, kind: str | None = None) -> QuerySet[Activity]:
    # Each participant's card is checked where it is joined, not against a list of every card
    # the user may see (which a database reads in full before the first row).
    qs = visible_through(user, Activity.objects.all(), "participants__card")
    if getattr(user, "is_authenticated", False) and user.is_active and scope_for(user).sees_everything:
        qs = qs.filter(participants__isnull=False)
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
                queryset=visible_through(user, Participant.objects.all(), "card").select_related("card"),
                to_attr="visible_participants",
            )
        )
        .order_by("-occurred_at", "-id")
    )
