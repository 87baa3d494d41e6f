"""REST endpoints of the funnel: stage moves and history, qualification, prospecting, reports."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from rapport.cards import selectors as cards
from rapport.cards.models import Card, Kind
from rapport.core.http import AuthedHttpRequest, if_match_version
from rapport.funnel import rules, selectors, services
from rapport.funnel.schemas import (
    FunnelOut,
    MethodReportOut,
    ProspectingIn,
    ProspectingOut,
    QualificationIn,
    QualificationOut,
    ReferrerReportOut,
    StageChangeOut,
    StageHistoryOut,
    StageMoveIn,
)

router = Router(tags=["funnel"])
# Mounted at /reports before the cards router, whose /{kind}/{card_id} would otherwise take /reports/funnel.
reports_router = Router(tags=["reports"])

KindPath = Literal["organizations", "people"]
KIND_OF = {"organizations": Kind.ORGANIZATION, "people": Kind.PERSON}


@router.post("/{kind}/{card_id}/stage", response=StageChangeOut, summary="Move a card to another lifecycle stage")
def move_stage(request: AuthedHttpRequest, response: HttpResponse, kind: KindPath, card_id: int, payload: StageMoveIn) -> dict[str, Any]:
    """An illegal move answers 422 with ``errors.rule`` naming the rule it breaks."""
    card = cards.get_card(request.user, card_id, KIND_OF[kind])
    change = services.move_stage(
        user=request.user, card=card, to_stage=payload.to, reason=payload.reason or "", expected_version=if_match_version(request)
    )
    response["ETag"] = f'"{Card.objects.values_list("version", flat=True).get(pk=card.pk)}"'
    return StageChangeOut.from_change(change)


@router.get("/{kind}/{card_id}/stage-history", response=StageHistoryOut, summary="Every stage move of a card, newest first")
def stage_history(request: AuthedHttpRequest, kind: KindPath, card_id: int) -> dict[str, Any]:
    card = cards.get_card(request.user, card_id, KIND_OF[kind])
    history = selectors.stage_history(card)
    return {
        "stage": card.lifecycle_stage, "allowed_moves": rules.legal_targets(card.lifecycle_stage),
        "items": [StageChangeOut.from_change(c) for c in history], "count": len(history),
    }


def _qualification_out(card: Card) -> dict[str, Any]:
    q = selectors.qualification_of(card)
    return QualificationOut.build(q, selectors.treatment_for(q), services.target_gaps(q))


@router.get("/{kind}/{card_id}/qualification", response=QualificationOut, summary="Qualification and recommended treatment")
def get_qualification(request: AuthedHttpRequest, kind: KindPath, card_id: int) -> dict[str, Any]:
    card = cards.get_card(request.user, card_id, KIND_OF[kind])
    return _qualification_out(card)


@router.put("/{kind}/{card_id}/qualification", response=QualificationOut, summary="Record qualification of a prospect or target")
def put_qualification(request: AuthedHttpRequest, kind: KindPath, card_id: int, payload: QualificationIn) -> dict[str, Any]:
    card = cards.get_card(request.user, card_id, KIND_OF[kind])
    services.set_qualification(
        user=request.user, card=card, data=payload.dict(exclude_unset=True), expected_version=if_match_version(request)
    )
    return _qualification_out(card)


def _ref(c: Card) -> dict[str, Any]:
    return {"id": c.id, "name": c.display_name, "kind": c.kind, "stage": c.lifecycle_stage}


def _prospecting_out(request: AuthedHttpRequest, card: Card) -> dict[str, Any]:
    referrer = selectors.referrer_of(request.user, card)
    source = card.found_by if card.found_by_id else None
    return {
        "found_by": source.key if source else None, "found_by_label": source.label if source else None,
        "referred_by": _ref(referrer) if referrer else None,
        "referrals": [_ref(c) for c in selectors.referrals_of(request.user, card)],
    }


@router.get("/{kind}/{card_id}/prospecting", response=ProspectingOut, summary="How a card was found, its referrer and referrals")
def get_prospecting(request: AuthedHttpRequest, kind: KindPath, card_id: int) -> dict[str, Any]:
    card = cards.get_card(request.user, card_id, KIND_OF[kind])
    return _prospecting_out(request, card)


@router.put("/{kind}/{card_id}/prospecting", response=ProspectingOut, summary="Record the prospecting method and the referrer")
def put_prospecting(request: AuthedHttpRequest, kind: KindPath, card_id: int, payload: ProspectingIn) -> dict[str, Any]:
    card = cards.get_card(request.user, card_id, KIND_OF[kind])
    card = services.set_prospecting(user=request.user, card=card, data=payload.dict(exclude_unset=True))
    return _prospecting_out(request, card)


class ReportParams(Schema):
    kind: Literal["", "organization", "person"] = ""
    team: int | None = None
    rep: int | None = Field(None, description="Owner of the cards")
    method: str = Field("", max_length=64)
    segment: int | None = None
    as_of: dt.date | None = None

    def to_filter(self) -> selectors.ReportFilter:
        return selectors.ReportFilter(
            kind=self.kind, team=self.team, owner=self.rep, method=self.method, segment=self.segment, as_of=self.as_of
        )


@reports_router.get("/funnel", response=FunnelOut, summary="Cards per stage now or at a date, conversions, time in stage")
def funnel_report(request: AuthedHttpRequest, params: Query[ReportParams]) -> dict[str, Any]:
    report = selectors.funnel_report(request.user, params.to_filter())
    return {
        "as_of": report.as_of, "counts": report.counts, "total": report.total, "conversions": report.conversions,
        "time_in_stage": report.time_in_stage, "lost_reasons": report.reasons_lost,
    }


@reports_router.get("/methods", response=MethodReportOut, summary="Per prospecting method or fact source: found, customers, time, revenue")
def method_report(
    request: AuthedHttpRequest, params: Query[ReportParams], by: Literal["method", "source"] = "method"
) -> dict[str, Any]:
    return {"by": by, "items": selectors.method_report(request.user, params.to_filter(), by=by)}


@reports_router.get("/referrers", response=ReferrerReportOut, summary="Referrers ranked by the value of what they brought")
def referrer_report(request: AuthedHttpRequest, params: Query[ReportParams]) -> dict[str, Any]:
    return {"items": selectors.referrer_report(request.user, params.to_filter())}
