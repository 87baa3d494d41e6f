"""REST endpoints of segments: list, create, change, delete, members with live counts."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from ninja import Query, Router, Status

from rapport.core.errors import ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.segments import selectors, services
from rapport.segments.schemas import MemberList, MemberPageParams, SegmentIn, SegmentList, SegmentOut, SegmentPatch

router = Router(tags=["segments"])


def _payload(data: dict[str, Any]) -> dict[str, Any]:
    if "conditions" in data and data["conditions"] is not None:
        data["conditions"] = [{"field": c["field"], "value": c.get("value")} for c in data["conditions"]]
    return data


@router.get("", response=SegmentList, summary="Segments I own or that are shared with my teams")
def list_segments(request: AuthedHttpRequest, counts: bool = False) -> dict[str, Any]:
    """With ``counts=true`` each segment carries its live member count (a segment the user may
    no longer use answers ``count: null``)."""
    items = []
    for s in selectors.segments_for(request.user)[:500]:
        counted = None
        if counts:
            try:
                counted = selectors.count(request.user, s.kind, s.conditions)
            except ValidationError:
                counted = None
        items.append(SegmentOut.from_segment(s, counted))
    return {"items": items, "count": len(items)}


@router.post("", response={201: SegmentOut}, summary="Save a segment")
def create_segment(request: AuthedHttpRequest, payload: SegmentIn) -> Status[dict[str, Any]]:
    segment = services.create_segment(user=request.user, data=_payload(payload.dict(exclude_none=True)))
    return Status(201, SegmentOut.from_segment(selectors.get_segment(request.user, segment.pk)))


@router.get("/{segment_id}", response=SegmentOut, summary="A segment with its live member count")
def get_segment(request: AuthedHttpRequest, response: HttpResponse, segment_id: int) -> dict[str, Any]:
    segment = selectors.get_segment(request.user, segment_id)
    response["ETag"] = f'"{segment.version}"'
    return SegmentOut.from_segment(segment, selectors.count(request.user, segment.kind, segment.conditions))


@router.patch("/{segment_id}", response=SegmentOut, summary="Change a segment (owner only)")
def update_segment(request: AuthedHttpRequest, response: HttpResponse, segment_id: int, payload: SegmentPatch) -> dict[str, Any]:
    segment = selectors.get_segment(request.user, segment_id)
    raw = request.headers.get("If-Match", "").strip().strip('"').removeprefix("W/").strip('"')
    if raw and not raw.isdigit():
        raise ValidationError.single("If-Match", "Expected the segment's version as ETag.")
    segment = services.update_segment(
        user=request.user, segment=segment, data=_payload(payload.dict(exclude_unset=True)),
        expected_version=int(raw) if raw else None,
    )
    response["ETag"] = f'"{segment.version}"'
    return SegmentOut.from_segment(selectors.get_segment(request.user, segment.pk))


@router.delete("/{segment_id}", response={204: None}, summary="Delete a segment (owner only)")
def delete_segment(request: AuthedHttpRequest, segment_id: int) -> Status[None]:
    segment = selectors.get_segment(request.user, segment_id)
    services.delete_segment(user=request.user, segment=segment)
    return Status(204, None)


@router.get("/{segment_id}/members", response=MemberList, summary="Cards in a segment, in name order")
def members(request: AuthedHttpRequest, segment_id: int, page: Query[MemberPageParams]) -> dict[str, Any]:
    """Page with the cursors: ``after=<next_after>`` for the next page, ``before=<prev_before>``
    for the previous one; each page costs the same however deep it is. ``offset`` still works,
    but a deep offset reads every member before it."""
    segment = selectors.get_segment(request.user, segment_id)
    offset, limit = page.clamp()
    if offset and (page.after is not None or page.before is not None):
        raise ValidationError.single("offset", "Give an offset or a cursor (after, before), not both.")
    total, exact = selectors.count(request.user, segment.kind, segment.conditions)
    if offset:
        cards = selectors.members(request.user, segment, offset=offset, limit=limit, known_count=(total, exact))
        more = offset + len(cards) < total or not exact
        next_after = cards[-1].pk if cards and len(cards) == limit and more else None
        prev_before = cards[0].pk if cards else None
    else:
        result = selectors.member_page(
            request.user, segment, after=page.after, before=page.before, limit=limit, known_count=(total, exact)
        )
        cards, next_after, prev_before = result.cards, result.next_after, result.prev_before
    return {
        "items": [
            {"id": c.id, "kind": c.kind, "name": c.display_name, "stage": c.lifecycle_stage, "tier": c.tier,
             "owner": c.owner.get_username(), "team": c.team_id}
            for c in cards
        ],
        "count": total, "count_exact": exact, "next_after": next_after, "prev_before": prev_before,
    }
