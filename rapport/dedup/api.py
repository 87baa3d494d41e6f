"""REST endpoints of duplicate handling: the review queue, merges and their undo, look-ups."""

from __future__ import annotations

from typing import Any

from ninja import Query, Router, Schema, Status
from pydantic import Field

from rapport.cards import selectors as card_selectors
from rapport.core.http import AuthedHttpRequest
from rapport.core.pagination import PageParams
from rapport.dedup import selectors, services
from rapport.dedup.schemas import (
    CandidateList,
    CandidateMergeIn,
    CandidateOut,
    CheckIn,
    MatchList,
    MergeIn,
    MergeOut,
    ScanIn,
    ScanOut,
)

router = Router(tags=["duplicates"])


class QueueParams(Schema):
    kind: str = Field("", max_length=16, description="organization or person")
    status: str = Field("pending", max_length=16, description="pending, merged or not_duplicate")


@router.get("/candidates", response=CandidateList, summary="Likely duplicate pairs, best score first")
def list_candidates(request: AuthedHttpRequest, filters: Query[QueueParams], page: Query[PageParams]) -> dict[str, Any]:
    qs = selectors.candidates(request.user, kind=filters.kind, status=filters.status)
    offset, limit = page.clamp()
    return {"items": [CandidateOut.from_candidate(c) for c in qs[offset : offset + limit]], "count": qs.count()}


@router.get("/candidates/{candidate_id}", response=CandidateOut, summary="One pair")
def get_candidate(request: AuthedHttpRequest, candidate_id: int) -> dict[str, Any]:
    return CandidateOut.from_candidate(selectors.get_candidate(request.user, candidate_id))


@router.post("/candidates/{candidate_id}/merge", response={201: MergeOut}, summary="Merge a pair")
def merge_candidate(request: AuthedHttpRequest, candidate_id: int, payload: CandidateMergeIn) -> Status[dict[str, Any]]:
    candidate = selectors.get_candidate(request.user, candidate_id)
    merge = services.merge_candidate(user=request.user, candidate=candidate, survivor_id=payload.survivor)
    return Status(201, MergeOut.from_merge(merge))


@router.post("/candidates/{candidate_id}/not-duplicate", response=CandidateOut, summary="Mark a pair as two different customers")
def not_duplicate(request: AuthedHttpRequest, candidate_id: int) -> dict[str, Any]:
    candidate = selectors.get_candidate(request.user, candidate_id)
    return CandidateOut.from_candidate(selectors.get_candidate(request.user, services.mark_not_duplicate(user=request.user, candidate=candidate).pk))


@router.post("/merges", response={201: MergeOut}, summary="Merge any two cards of the same kind")
def merge_cards(request: AuthedHttpRequest, payload: MergeIn) -> Status[dict[str, Any]]:
    survivor = card_selectors.get_card(request.user, payload.survivor)
    loser = card_selectors.get_card(request.user, payload.loser)
    return Status(201, MergeOut.from_merge(services.merge_cards(user=request.user, survivor=survivor, loser=loser)))


@router.get("/merges/{merge_id}", response=MergeOut, summary="One merge")
def get_merge(request: AuthedHttpRequest, merge_id: int) -> dict[str, Any]:
    return MergeOut.from_merge(selectors.get_merge(request.user, merge_id))


@router.post("/merges/{merge_id}/undo", response=MergeOut, summary="Undo a merge: both cards as they were")
def undo_merge(request: AuthedHttpRequest, merge_id: int) -> dict[str, Any]:
    merge = selectors.get_merge(request.user, merge_id)
    return MergeOut.from_merge(services.undo_merge(user=request.user, merge=merge))


@router.post("/check", response=MatchList, summary="Existing cards that look like this card data (before creating or importing)")
def check(request: AuthedHttpRequest, payload: CheckIn) -> dict[str, Any]:
    data = payload.dict(exclude={"kind", "threshold"})
    found = services.find_duplicates(user=request.user, kind=payload.kind, data=data, threshold=payload.threshold)
    return {"items": [{"id": m.card_id, "display_name": m.display_name, "external_id": m.external_id, "score": m.score, "reasons": list(m.reasons)} for m in found]}


@router.post("/scan", response=ScanOut, summary="Look for duplicates among the cards you see and fill the queue")
def scan(request: AuthedHttpRequest, payload: ScanIn) -> dict[str, Any]:
    from rapport.cards.models import Card
    from rapport.core.errors import PermissionDenied
    from rapport.core.visibility import scope_for

    if not scope_for(request.user).may_write_card(Card()):
        raise PermissionDenied("Your role may not change cards.")
    result = services.scan(user=request.user, kind=payload.kind, threshold=payload.threshold)
    return {"records": result.stats.records, "compared": result.stats.compared, "found": len(result.pairs), "created": result.created, "updated": result.updated}
