"""The search endpoint."""

from __future__ import annotations

from typing import Any, Literal

from ninja import Query, Router

from rapport.cards.schemas import CardList, CardOut
from rapport.core.http import AuthedHttpRequest
from rapport.search.selectors import search_cards

router = Router(tags=["search"])


@router.get("", response=CardList, summary="Search names (any script), e-mails and phone numbers")
def search(
    request: AuthedHttpRequest,
    q: str = Query(..., min_length=1, max_length=200),
    kind: Literal["organization", "person"] | None = None,
    limit: int = Query(20, ge=1, le=100),
) -> dict[str, Any]:
    cards = search_cards(request.user, q, kind=kind, limit=limit)
    return {"items": [CardOut.from_card(c) for c in cards], "count": len(cards)}
