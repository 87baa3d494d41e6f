"""API schemas of after-sales: explicit fields, separate In / Out / Patch."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

from rapport.aftersales.models import ReferralRequest, SatisfactionCheck, ServiceCase


class InSchema(Schema):
    """Input of a write; the API passes unknown fields on so the service names them in its 422."""


class CaseIn(InSchema):
    card: Any
    kind: Any = None
    subject: Any = None
    details: Any = None
    order: Any = None
    assigned_to: Any = Field(None, description="User id; the customer's owner when left out")
    due_on: Any = None


class CasePatch(InSchema):
    kind: Any = None
    subject: Any = None
    details: Any = None
    order: Any = None
    assigned_to: Any = None
    due_on: Any = None


class ResolveIn(InSchema):
    resolution: Any = Field(None, description="How the case was resolved")


class CaseOut(Schema):
    id: int
    card: int
    card_name: str
    order: int | None
    kind: str
    subject: str
    details: str
    opened_at: dt.datetime
    opened_by: int | None
    assigned_to: int | None
    due_on: dt.date | None
    resolved_at: dt.datetime | None
    resolved_by: int | None
    resolution: str
    version: int

    @staticmethod
    def from_case(case: ServiceCase) -> dict[str, Any]:
        return {
            "id": case.pk, "card": case.card_id, "card_name": case.card.display_name, "order": case.order_id,
            "kind": case.kind, "subject": case.subject, "details": case.details, "opened_at": case.opened_at,
            "opened_by": case.opened_by_id, "assigned_to": case.assigned_to_id, "due_on": case.due_on,
            "resolved_at": case.resolved_at, "resolved_by": case.resolved_by_id, "resolution": case.resolution,
            "version": case.version,
        }


class CaseList(Schema):
    items: list[CaseOut]
    count: int


class CheckResultIn(InSchema):
    score: Any = Field(None, description="1 (very unhappy) to 5 (delighted)")
    comment: Any = None
    in_use_on: Any = Field(None, description="The day the customer started using the delivery")


class StartOfUseIn(InSchema):
    in_use_on: Any = None


class CheckOut(Schema):
    id: int
    card: int
    card_name: str
    order: int
    order_number: str
    delivered_on: dt.date | None
    accepted_on: dt.date | None
    in_use_on: dt.date | None
    due_on: dt.date
    score: int | None
    comment: str
    done_at: dt.datetime | None
    done_by: int | None
    ask_for_referrals: bool = Field(description="Scored 4 or 5: worth asking for referrals")

    @staticmethod
    def from_check(check: SatisfactionCheck) -> dict[str, Any]:
        return {
            "id": check.pk, "card": check.card_id, "card_name": check.card.display_name, "order": check.order_id,
            "order_number": str(check.order), "delivered_on": check.order.delivered_on, "accepted_on": check.order.accepted_on,
            "in_use_on": check.in_use_on, "due_on": check.due_on, "score": check.score, "comment": check.comment,
            "done_at": check.done_at, "done_by": check.done_by_id, "ask_for_referrals": check.is_satisfied,
        }


class CheckList(Schema):
    items: list[CheckOut]
    count: int


class ReferralIn(InSchema):
    card: Any
    satisfaction_check: Any = Field(None, description="The check showing satisfaction; the latest recorded when left out")
    asked_on: Any = None
    benefit: Any = Field(None, description="What the customer gets for referrals (a discount, a gift…)")
    note: Any = None


class ReferralOutcomeIn(InSchema):
    outcome: Any = Field(None, description="given or declined")
    referred: Any = Field(None, description="Card ids of the referred customers (with given)")
    outcome_on: Any = None
    benefit: Any = None
    note: Any = None


class ReferralOut(Schema):
    id: int
    card: int
    card_name: str
    satisfaction_check: int | None
    asked_on: dt.date
    asked_by: int | None
    outcome: str
    outcome_on: dt.date | None
    referred: list[int] = Field(description="Referred cards you may see")
    benefit: str
    note: str

    @staticmethod
    def from_request(request: ReferralRequest) -> dict[str, Any]:
        return {
            "id": request.pk, "card": request.card_id, "card_name": request.card.display_name,
            "satisfaction_check": request.satisfaction_check_id, "asked_on": request.asked_on, "asked_by": request.asked_by_id,
            "outcome": request.outcome, "outcome_on": request.outcome_on, "referred": [c.pk for c in request.referred.all()],
            "benefit": request.benefit, "note": request.note,
        }


class ReferralList(Schema):
    items: list[ReferralOut]
    count: int


class CaseFilterParams(Schema):
    status: str = Field("open", max_length=10, description="open, resolved or all")
    card: int | None = Field(None, ge=1, le=2**62)
    team: int | None = Field(None, ge=1, le=2**62)
    assigned_to: int | None = Field(None, ge=1, le=2**62)


class CheckFilterParams(Schema):
    state: str = Field("due", max_length=10, description="due, pending, done or all")
    card: int | None = Field(None, ge=1, le=2**62)
    team: int | None = Field(None, ge=1, le=2**62)
    today: dt.date | None = Field(None, description="The day that decides what is due (default: today)")


class ReferralFilterParams(Schema):
    card: int | None = Field(None, ge=1, le=2**62)
    outcome: str = Field("", max_length=10, description="asked, given or declined")
