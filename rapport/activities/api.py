"""REST endpoints for activities."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Query, Router, Status, Schema
from pydantic import Field

from rapport.activities import selectors, services
from rapport.activities.models import Activity, Participant
from rapport.core.http import AuthedHttpRequest
from rapport.core.pagination import PageParams

router = Router(tags=["activities"])


class ActivityIn(Schema):
    kind: str
    summary: str
    details: str | None = None
    occurred_at: str | None = None
    cards: list[int] = Field(..., description="Ids of the organisations and people that took part")


class ParticipantOut(Schema):
    id: int
    kind: str
    name: str


class ActivityOut(Schema):
    id: int
    kind: str
    summary: str
    details: str
    occurred_at: dt.datetime
    recorded_by: str
    cards: list[ParticipantOut]


class ActivityList(Schema):
    items: list[ActivityOut]
    count: int


def _visible_participants(activity: Activity) -> list[Participant]:
    """The participants ``selectors.activities_for`` prefetched with ``to_attr="visible_participants"``.

    That attribute exists only on rows of that queryset, so the model does not declare it.
    """
    participants: list[Participant] = getattr(activity, "visible_participants")
    return participants


def _out(activity: Activity, participants: list[Participant]) -> dict[str, Any]:
    return {
        "id": activity.id,
        "kind": activity.kind,
        "summary": activity.summary,
        "details": activity.details,
        "occurred_at": activity.occurred_at,
        "recorded_by": activity.recorded_by.get_username(),
        "cards": [{"id": p.card.id, "kind": p.card.kind, "name": p.card.display_name} for p in participants],
    }


@router.get("", response=ActivityList, summary="Activities touching cards you can see, newest first")
def list_activities(
    request: AuthedHttpRequest, page: Query[PageParams], card: int | None = None, kind: str = ""
) -> dict[str, Any]:
    if card is not None:
        # The card filtered on must be one the user may see: else the list would tell which
        # visible customers met a card out of reach.
        from rapport.cards.selectors import get_card
        from rapport.core.errors import NotFound, ValidationError

        try:
            get_card(request.user, card)
        except NotFound:
            raise ValidationError.single("card", "Unknown card.") from None
    qs = selectors.activities_for(request.user, card_id=card, kind=kind or None)
    offset, limit = page.clamp()
    rows = list(qs[offset : offset + limit])
    return {"items": [_out(a, _visible_participants(a)) for a in rows], "count": qs.count()}


@router.post("", response={201: ActivityOut}, summary="Log an activity")
def log_activity(request: AuthedHttpRequest, payload: ActivityIn) -> Status[dict[str, Any]]:
    activity, participants = services.record_activity(user=request.user, data=payload.dict(exclude_none=True))
    # Answered from what was written, as a read through ``selectors.activities_for`` would
    # answer it: every participant's card was checked visible before the write, the author is
    # the caller, and the time is the one stored (the database keeps it in UTC).
    activity.recorded_by = request.user
    activity.occurred_at = activity.occurred_at.astimezone(dt.timezone.utc)
    return Status(201, _out(activity, participants))
