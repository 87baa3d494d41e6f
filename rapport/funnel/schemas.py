"""API schemas of the funnel: explicit fields in, explicit fields out."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

from rapport.cards.models import StageChange
from rapport.funnel import rules
from rapport.funnel.models import Qualification


class StageMoveIn(Schema):
    to: str = Field(..., max_length=16, description="suspect, prospect, target, customer, regular, dormant or lost")
    reason: str | None = Field(None, max_length=500, description="Why; required to step back, lose or reopen")


class StageChangeOut(Schema):
    id: int
    from_stage: str
    to_stage: str
    changed_at: dt.datetime
    changed_by: str | None
    reason: str
    rule: str
    rule_label: str
    evidence: dict[str, Any]

    @staticmethod
    def from_change(c: StageChange) -> dict[str, Any]:
        return {
            "id": c.id, "from_stage": c.from_stage, "to_stage": c.to_stage, "changed_at": c.changed_at,
            "changed_by": c.changed_by.get_username() if c.changed_by else None, "reason": c.reason,
            "rule": c.rule, "rule_label": rules.rule_label(c.rule), "evidence": c.evidence or {},
        }


class StageHistoryOut(Schema):
    stage: str
    allowed_moves: list[str]
    items: list[StageChangeOut]
    count: int


class QualificationIn(Schema):
    intent: str | None = Field(None, max_length=8, description="none, unclear or clear")
    power: str | None = Field(None, max_length=8, description="weak or strong")
    timeframe: str | None = Field(None, max_length=8, description="now, quarter, year or later")
    budget: str | None = Field(None, max_length=8, description="none, planned or approved")
    authority: str | None = Field(None, max_length=3, description="yes (the contact decides) or no")
    check_back_on: dt.date | None = None
    note: str | None = Field(None, max_length=500)


class TreatmentOut(Schema):
    key: str
    label: str
    detail: str


class QualificationOut(Schema):
    intent: str
    power: str
    timeframe: str
    budget: str
    authority: str
    check_back_on: dt.date | None
    note: str
    version: int
    treatment: TreatmentOut
    target_missing: list[str]

    @staticmethod
    def build(q: Qualification | None, treatment: Any, gaps: list[str]) -> dict[str, Any]:
        fields = ("intent", "power", "timeframe", "budget", "authority", "note")
        data: dict[str, Any] = {f: getattr(q, f) if q else "" for f in fields}
        data["check_back_on"] = q.check_back_on if q else None
        data["version"] = q.version if q else 0
        data["treatment"] = treatment.__dict__
        data["target_missing"] = gaps
        return data


class ProspectingIn(Schema):
    found_by: str | None = Field(None, max_length=64, description="A prospecting method key of the sources catalogue")
    referred_by: int | None = Field(None, description="Id of the card that referred this one")


class CardRef(Schema):
    id: int
    name: str
    kind: str
    stage: str


class ProspectingOut(Schema):
    found_by: str | None
    found_by_label: str | None
    referred_by: CardRef | None
    referrals: list[CardRef]


class FunnelOut(Schema):
    as_of: dt.date
    counts: dict[str, int]
    total: int
    conversions: list[dict[str, Any]]
    time_in_stage: dict[str, dict[str, float | int | None]]
    lost_reasons: list[dict[str, Any]]


class MethodRow(Schema):
    key: str
    label: str
    found: int
    customers: int
    conversion_rate: float | None
    median_days_to_customer: float | None
    revenue: float | None


class MethodReportOut(Schema):
    by: str
    items: list[MethodRow]


class ReferrerRow(Schema):
    id: int
    name: str
    kind: str
    brought: int
    customers: int
    revenue: float | None


class ReferrerReportOut(Schema):
    items: list[ReferrerRow]
