"""API schemas of the relationships app: explicit fields, separate In / Out / Patch."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field


class InSchema(Schema):
    """Input of a write; the API passes unknown fields on so the service names them in its 422."""


class NodeOut(Schema):
    person: int
    name: str
    organization: int | None
    organization_name: str
    member: int | None = Field(description="Member id; null for people linked from outside the unit")
    level: str
    function: str
    roles: list[str]
    influence: int
    attitude: str
    coach: bool
    cares_about: str
    has_left: bool
    version: int


class EdgeOut(Schema):
    id: int
    source: int
    target: int
    kind: str
    directed: bool
    strength: int
    note: str


class EdgeList(Schema):
    items: list[EdgeOut]
    count: int


class WarningOut(Schema):
    code: str
    message: str
    person: int | None


class DecisionUnitOut(Schema):
    organization: int
    nodes: list[NodeOut]
    edges: list[EdgeOut]
    warnings: list[WarningOut]
    influence_total: int


class _MemberFields(InSchema):
    """What a member of a decision unit is; every field may be left out."""

    level: Any = None
    function: Any = None
    roles: Any = None
    influence: Any = None
    attitude: Any = None
    coach: Any = None
    cares_about: Any = None


class MemberIn(_MemberFields):
    person: Any


class MemberPatch(_MemberFields):
    version: Any = None


class RelationshipPatch(InSchema):
    kind: Any = None
    directed: Any = None
    strength: Any = None
    note: Any = None


class RelationshipIn(RelationshipPatch):
    to_person: Any
    kind: Any


class CoachingOut(Schema):
    style: str
    language: str
    how_to_open: str
    emphasise: str
    avoid: str
    evidence: str
    question_words: str


class EvidenceOut(Schema):
    activity: int
    kind: str
    typical: str
    stage: str
    summary: str
    occurred_at: dt.datetime


class StageMoveOut(Schema):
    from_stage: str
    to_stage: str
    evidence: list[dict[str, Any]]
    note: str
    changed_at: dt.datetime
    changed_by: int | None


class ContactRelationshipOut(Schema):
    person: int
    stage: str
    style: str
    evidence_by_stage: dict[str, int]
    evidence: list[EvidenceOut]
    moves: list[StageMoveOut]
    coaching: CoachingOut | None
    next_step: str


class ContactRelationshipPatch(InSchema):
    stage: Any = None
    note: Any = None
    style: Any = None


class QuestionnaireIn(Schema):
    answers: dict[str, Any]
    save: bool = False


class QuestionnaireOut(Schema):
    style: str
    saved: bool


class GiftIn(InSchema):
    kind: Any
    description: Any
    value: Any
    currency: Any = None
    given_on: Any = None
    confirm_over_limit: Any = None
    justification: Any = None


class GiftOut(Schema):
    id: int
    kind: str
    description: str
    value: str
    currency: str
    given_on: dt.date
    over_limit: bool
    justification: str
    warnings: list[str] = []


class GiftList(Schema):
    items: list[GiftOut]
    count: int


class GiftPolicyIn(InSchema):
    currency: Any = None
    per_gift_limit: Any = None
    per_contact_year_limit: Any = None


class GiftPolicyOut(Schema):
    currency: str
    per_gift_limit: str | None
    per_contact_year_limit: str | None
