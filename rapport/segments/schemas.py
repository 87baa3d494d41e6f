"""API schemas of segments."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

from rapport.core.pagination import PageParams
from rapport.segments.models import Segment


class Condition(Schema):
    field: str = Field(..., max_length=40)
    value: Any = None


class SegmentIn(Schema):
    name: str = Field(..., max_length=200)
    description: str | None = Field(None, max_length=500)
    kind: str = Field("", max_length=16, description="organization, person or empty for both")
    conditions: list[Condition] = Field(default_factory=list, max_length=20)
    team: int | None = Field(None, description="Share with this team; empty keeps it private")


class SegmentPatch(Schema):
    name: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=500)
    kind: str | None = Field(None, max_length=16)
    conditions: list[Condition] | None = Field(None, max_length=20)
    team: int | None = None


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    kind: str
    conditions: list[dict[str, Any]]
    owner: str
    team: int | None
    shared: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int
    count: int | None = None
    count_exact: bool | None = None

    @staticmethod
    def from_segment(s: Segment, count: tuple[int, bool] | None = None) -> dict[str, Any]:
        return {
            "id": s.id, "name": s.name, "description": s.description, "kind": s.kind, "conditions": s.conditions,
            "owner": s.owner.get_username(), "team": s.team_id, "shared": s.team_id is not None,
            "created_at": s.created_at, "updated_at": s.updated_at, "version": s.version,
            "count": count[0] if count else None, "count_exact": count[1] if count else None,
        }


class SegmentList(Schema):
    items: list[SegmentOut]
    count: int


class MemberOut(Schema):
    id: int
    kind: str
    name: str
    stage: str
    tier: str
    owner: str
    team: int | None


class MemberList(Schema):
    items: list[MemberOut]
    count: int
    count_exact: bool
    next_after: int | None = Field(None, description="Pass as `after` for the next page; empty on the last page")
    prev_before: int | None = Field(None, description="Pass as `before` for the previous page; empty on the first page")


class MemberPageParams(PageParams):
    after: int | None = Field(None, ge=1, le=2**62, description="The page after this card (an id from `next_after`)")
    before: int | None = Field(None, ge=1, le=2**62, description="The page before this card (an id from `prev_before`)")
