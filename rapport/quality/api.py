"""REST endpoints of information quality: conflicts per card and per team, completeness, what to collect next."""

from __future__ import annotations

from typing import Any

from ninja import Query, Router, Schema
from pydantic import Field

from rapport.cards import selectors as card_selectors
from rapport.core.http import AuthedHttpRequest
from rapport.quality import selectors, services
from rapport.quality.schemas import CompletenessOut, ConflictList, ConflictOut, IncompleteList, ResolveIn

router = Router(tags=["quality"])


class TeamParams(Schema):
    team: int | None = Field(None, description="Only this team's cards")
    limit: int = Field(50, ge=1, le=200)


@router.get("/cards/{card_id}/conflicts", response=ConflictList, summary="Unresolved conflicting facts of a card")
def card_conflicts(request: AuthedHttpRequest, card_id: int) -> dict[str, Any]:
    card = card_selectors.get_card(request.user, card_id)
    return {"items": [ConflictOut.from_conflict(c) for c in selectors.conflicts_of(request.user, card)]}


@router.post("/cards/{card_id}/conflicts/{item}/resolve", response=ConflictList, summary="Resolve a conflict by verifying one fact")
def resolve(request: AuthedHttpRequest, card_id: int, item: str, payload: ResolveIn) -> dict[str, Any]:
    card = card_selectors.get_card(request.user, card_id)
    services.resolve_conflict(user=request.user, card=card, item_key=item, fact_id=payload.fact)
    card = card_selectors.get_card(request.user, card_id)
    return {"items": [ConflictOut.from_conflict(c) for c in selectors.conflicts_of(request.user, card)]}


@router.get("/conflicts", response=ConflictList, summary="Unresolved conflicts on the cards you see (or one team's)")
def team_conflicts(request: AuthedHttpRequest, params: Query[TeamParams]) -> dict[str, Any]:
    found = selectors.team_conflicts(request.user, team=params.team, limit=params.limit)
    return {"items": [ConflictOut.from_conflict(t.conflict) for t in found]}


@router.get("/cards/{card_id}/completeness", response=CompletenessOut, summary="Weighted completeness and what to collect next")
def completeness(request: AuthedHttpRequest, card_id: int) -> dict[str, Any]:
    card = card_selectors.get_card(request.user, card_id)
    return CompletenessOut.build(
        card.pk, card.tier, selectors.completeness_of(request.user, card), selectors.collect_next(request.user, card, limit=10)
    )


@router.get("/least-complete", response=IncompleteList, summary="Valuable cards (tier A, B) that lack most of what their tier requires")
def least_complete(request: AuthedHttpRequest, params: Query[TeamParams]) -> dict[str, Any]:
    rows = selectors.least_complete(request.user, team=params.team, limit=params.limit)
    return {"items": [{"card_id": r.card.pk, "display_name": r.card.display_name, "tier": r.card.tier, "percent": r.percent, "missing": r.missing} for r in rows]}
