"""API schemas of duplicate handling: explicit fields, separate In and Out."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from rapport.dedup.matching import DEFAULT_THRESHOLD
from rapport.dedup.models import Candidate, Merge

KindIn = Literal["organization", "person"]


class CardRef(Schema):
    id: int
    display_name: str
    external_id: str


class CandidateOut(Schema):
    id: int
    kind: str
    left: CardRef
    right: CardRef
    score: float
    reasons: list[str]
    status: str
    found_at: dt.datetime
    decided_at: dt.datetime | None

    @staticmethod
    def from_candidate(c: Candidate) -> dict[str, Any]:
        return {
            "id": c.pk, "kind": c.kind, "score": c.score, "reasons": list(c.reasons), "status": c.status,
            "found_at": c.found_at, "decided_at": c.decided_at,
            "left": {"id": c.left_id, "display_name": c.left.display_name, "external_id": c.left.external_id},
            "right": {"id": c.right_id, "display_name": c.right.display_name, "external_id": c.right.external_id},
        }


class CandidateList(Schema):
    items: list[CandidateOut]
    count: int


class MergeOut(Schema):
    id: int
    survivor: int
    loser: int
    merged_at: dt.datetime
    merged_by: int
    undone_at: dt.datetime | None
    moved: dict[str, int] = Field(description="Rows moved to the survivor, per model and field")

    @staticmethod
    def from_merge(m: Merge) -> dict[str, Any]:
        moved = {f"{e['model']}.{e['field']}": len(e["ids"]) for e in (m.record or {}).get("moved", [])}
        return {
            "id": m.pk, "survivor": m.survivor_id, "loser": m.loser_id, "merged_at": m.merged_at,
            "merged_by": m.merged_by_id, "undone_at": m.undone_at, "moved": moved,
        }


class MergeIn(Schema):
    survivor: int = Field(description="The card that stays")
    loser: int = Field(description="The card folded into it (archived; undo restores it)")


class CandidateMergeIn(Schema):
    survivor: int | None = Field(None, description="Which of the pair stays; default the older card")


class CheckIn(Schema):
    """Card data as the create endpoints and the importer hold it."""

    kind: KindIn
    name: str = Field("", max_length=300)
    given_name: str = Field("", max_length=150)
    family_name: str = Field("", max_length=150)
    local_name: str = Field("", max_length=150)
    phones: list[str | dict[str, str]] = Field(default_factory=list, max_length=20)
    emails: list[str | dict[str, str]] = Field(default_factory=list, max_length=20)
    addresses: list[dict[str, str]] = Field(default_factory=list, max_length=20)
    birth_date: str = Field("", max_length=10)
    tax_id: str = Field("", max_length=60)
    website: str = Field("", max_length=500)
    external_id: str = Field("", max_length=200)
    region: str = Field("", max_length=2)
    threshold: float = Field(DEFAULT_THRESHOLD, ge=0, le=1)


class MatchOut(Schema):
    id: int
    display_name: str
    external_id: str
    score: float
    reasons: list[str]


class MatchList(Schema):
    items: list[MatchOut]


class ScanIn(Schema):
    kind: KindIn
    threshold: float = Field(DEFAULT_THRESHOLD, ge=0, le=1)


class ScanOut(Schema):
    records: int
    compared: int
    found: int
    created: int
    updated: int
