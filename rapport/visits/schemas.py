"""Request and response shapes of the visits API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field

from rapport.commerce.money import round_money
from rapport.visits import content
from rapport.visits.models import Objective, Promise, Visit

Id = int


def rounded(amount: Decimal | None, currency: str) -> Decimal | None:
    """An amount to its currency's minor units, as every API answer writes money."""
    if amount is None or not currency:
        return amount
    return round_money(amount, currency)



Number = Decimal | int | str


class ObjectiveIn(Schema):
    kind: str = Field(..., max_length=32, description="A key of the objectives catalog (GET /visits/catalog)")
    target_amount: Number | None = Field(None, description="The target, where the objective has an amount (an order value, an amount to collect)")
    currency: str | None = Field(None, max_length=3)
    note: str = Field("", max_length=500)


class VisitIn(Schema):
    organization: Id | None = Field(None, description="The customer: an organisation's card id (or give `person`)")
    person: Id | None = None
    date: dt.date
    window_start: str | None = Field(None, max_length=8, description="HH:MM")
    window_end: str | None = Field(None, max_length=8, description="HH:MM")
    duration_minutes: int | None = Field(None, ge=5, le=720)
    objectives: list[ObjectiveIn | str] | None = Field(None, max_length=20)
    tools: list[str] | None = Field(None, max_length=20, description="Keys of the sales tools catalog")
    people: list[Id] | None = Field(None, max_length=30, description="Person card ids we expect to meet")
    purpose: str = Field("", max_length=300)
    owner: Id | None = Field(None, description="Who goes; default: you")
    companions: list[Id] | None = Field(None, max_length=10)
    position: int | None = Field(None, ge=0, le=999, description="Order in the day as typed; default: last")
    team: Id | None = None


class VisitPatch(Schema):
    date: dt.date | None = None
    window_start: str | None = Field(None, max_length=8)
    window_end: str | None = Field(None, max_length=8)
    duration_minutes: int | None = Field(None, ge=5, le=720)
    objectives: list[ObjectiveIn | str] | None = Field(None, max_length=20, description="Replaces the visit's objectives")
    tools: list[str] | dict[str, bool] | None = None
    people: list[Id] | None = Field(None, max_length=30)
    purpose: str | None = Field(None, max_length=300)
    owner: Id | None = None
    companions: list[Id] | None = Field(None, max_length=10)
    position: int | None = Field(None, ge=0, le=999)
    team: Id | None = None
    status: str | None = Field(None, description='"cancelled" cancels; "planned" plans again a visit not checked in')


class ObjectiveOut(Schema):
    id: int
    kind: str
    label: str
    note: str
    target_amount: Decimal | None
    currency: str
    result: str
    result_note: str
    achieved_amount: Decimal | None

    @staticmethod
    def of(o: Objective) -> dict[str, Any]:
        return {"id": o.pk, "kind": o.kind, "label": content.objective_label(o.kind), "note": o.note,
                "target_amount": rounded(o.target_amount, o.currency), "currency": o.currency, "result": o.result,
                "result_note": o.result_note, "achieved_amount": rounded(o.achieved_amount, o.currency)}


class CustomerOut(Schema):
    id: int
    kind: str
    name: str


class VisitOut(Schema):
    id: int
    customer: CustomerOut
    date: dt.date
    window_start: str | None
    window_end: str | None
    duration_minutes: int
    position: int
    status: str
    owner: int
    team: int | None
    purpose: str
    checked_in_at: dt.datetime | None
    checked_out_at: dt.datetime | None
    reported_at: dt.datetime | None
    outcome: str
    version: int

    @staticmethod
    def of(v: Visit) -> dict[str, Any]:
        return {
            "id": v.pk, "customer": {"id": v.card_id, "kind": v.card.kind, "name": v.card.display_name},
            "date": v.planned_on, "window_start": v.window_start.strftime("%H:%M") if v.window_start else None,
            "window_end": v.window_end.strftime("%H:%M") if v.window_end else None, "duration_minutes": v.duration_minutes,
            "position": v.position, "status": v.status, "owner": v.owner_id, "team": v.team_id, "purpose": v.purpose,
            "checked_in_at": v.checked_in_at, "checked_out_at": v.checked_out_at, "reported_at": v.reported_at,
            "outcome": v.outcome, "version": v.version,
        }


class VisitDetailOut(VisitOut):
    objectives: list[ObjectiveOut]
    tools: dict[str, bool]
    people: list[int]
    companions: list[int]
    instructions: str
    instructions_result: str
    instructions_note: str
    outcome_note: str
    strengths: str
    improve: str
    summary: str

    @staticmethod
    def of(v: Visit) -> dict[str, Any]:
        return {
            **VisitOut.of(v),
            "objectives": [ObjectiveOut.of(o) for o in v.objectives.all()],
            "tools": v.tools, "people": [p.pk for p in v.people.all()], "companions": [u.pk for u in v.companions.all()],
            "instructions": v.instructions, "instructions_result": v.instructions_result, "instructions_note": v.instructions_note,
            "outcome_note": v.outcome_note, "strengths": v.strengths, "improve": v.improve, "summary": v.summary,
        }


class VisitList(Schema):
    items: list[VisitOut]
    count: int


class CheckInIn(Schema):
    latitude: Number | None = None
    longitude: Number | None = None


class InstructionsIn(Schema):
    instructions: str = Field(..., max_length=4000)


class PromiseIn(Schema):
    by: str = Field(..., description='"us" or "them"')
    text: str = Field(..., max_length=500)
    due_on: dt.date | None = None
    owner: Id | None = Field(None, description="Who follows it; default: the visit's rep")


class PromiseOut(Schema):
    id: int
    customer: int
    visit: int | None
    by: str
    text: str
    due_on: dt.date | None
    kept_on: dt.date | None
    kept_on_time: bool | None
    owner: int

    @staticmethod
    def of(p: Promise) -> dict[str, Any]:
        return {"id": p.pk, "customer": p.card_id, "visit": p.visit_id, "by": p.by, "text": p.text, "due_on": p.due_on,
                "kept_on": p.kept_on, "kept_on_time": p.kept_on_time, "owner": p.owner_id}


class PromiseList(Schema):
    items: list[PromiseOut]
    count: int


class KeepIn(Schema):
    kept: bool = True
    kept_on: dt.date | None = Field(None, description="Default: today")


class ResultIn(Schema):
    id: Id = Field(..., description="The objective's id")
    result: str = Field("", description='"met", "partly" or "not_met"')
    result_note: str = Field("", max_length=500, description="Why, when not met")
    achieved_amount: Number | None = Field(None, description="Collected, or the order value won")
    currency: str | None = Field(None, max_length=3)


class RetailCheckIn(Schema):
    item: str = Field(..., max_length=40)
    state: str = Field(..., description='"ok", "not_ok" or "na"')
    note: str = Field("", max_length=300)


class IntelligenceIn(Schema):
    kind: str = Field(..., description="competitor_channel, competitor_price, competitor_promotion, market_share, credit_change or new_prospect")
    text: str = Field(..., max_length=1000, description="What was learnt; for a new prospect, its name")
    competitor: str = Field("", max_length=200)


class ReportIn(Schema):
    objectives: list[ResultIn] | None = Field(None, max_length=20)
    outcome: str = Field(..., description='"met", "partly" or "not_met": was the visit\'s purpose reached')
    outcome_note: str = Field("", max_length=1000)
    strengths: str = Field("", max_length=4000)
    improve: str = Field("", max_length=4000)
    summary: str = Field("", max_length=10000)
    instructions_result: str = Field("", description="Whether the manager's instructions were carried out")
    instructions_note: str = Field("", max_length=500)
    promises: list[PromiseIn] | None = Field(None, max_length=50)
    retail_checks: list[RetailCheckIn] | None = Field(None, max_length=40)
    intelligence: list[IntelligenceIn] | None = Field(None, max_length=50)
    tools: dict[str, bool] | None = None
    report_token: str = Field("", max_length=64, description="Any unique string; a report sent again with it is recorded once")


class IntelligenceOut(Schema):
    id: int
    kind: str
    competitor: str
    text: str
    fact: int | None
    prospect: int | None


class RetailCheckOut(Schema):
    item: str
    state: str
    note: str


class ReportOut(Schema):
    visit: VisitDetailOut
    promises: list[PromiseOut]
    retail_checks: list[RetailCheckOut]
    intelligence: list[IntelligenceOut]


class SiteIn(Schema):
    latitude: Number | None = None
    longitude: Number | None = None
    opens_at: str | None = Field(None, max_length=8)
    closes_at: str | None = Field(None, max_length=8)
    closed_weekdays: list[int] | None = Field(None, max_length=7, description="0 = Monday … 6 = Sunday")


class SiteOut(Schema):
    customer: int
    latitude: Decimal | None
    longitude: Decimal | None
    located_by: str
    opens_at: str | None
    closes_at: str | None
    closed_weekdays: list[int]


class StartPointIn(Schema):
    label: str = Field("", max_length=120)
    latitude: Number
    longitude: Number
    leaves_at: str | None = Field(None, max_length=8)


class WeekIn(Schema):
    note: str = Field("", max_length=1000)


class DecisionIn(Schema):
    approve: bool
    note: str = Field("", max_length=1000)


class WeekPlanOut(Schema):
    id: int
    user: int
    week: dt.date
    status: str
    note: str
    decided_by: int | None


class CatalogEntryOut(Schema):
    key: str
    label: str
    group: str
    has_amount: bool


class CatalogOut(Schema):
    objectives: list[CatalogEntryOut]
    tools: list[CatalogEntryOut]
    retail_checks: list[CatalogEntryOut]


class RepFiguresOut(Schema):
    user: int
    name: str
    visits: int
    visits_per_day: float
    objectives: int
    objectives_met: int
    objectives_met_percent: int | None
    promises_due: int
    promises_kept_on_time: int
    promises_kept_on_time_percent: int | None
    collected: dict[str, Decimal]
    audits: int


class VisitReportOut(Schema):
    date_from: dt.date
    date_to: dt.date
    reps: list[RepFiguresOut]
