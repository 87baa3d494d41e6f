"""REST endpoints of after-sales: service cases, satisfaction checks and referral requests.

Mounted at ``/aftersales``. Every record answers 404 to a user who may not see its customer,
exactly like a missing one; a customer named in a body that is unknown or out of reach is a 422.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from ninja import Query, Router, Status

from rapport.aftersales import selectors, services
from rapport.aftersales.schemas import (
    CaseFilterParams,
    CaseIn,
    CaseList,
    CaseOut,
    CasePatch,
    CheckFilterParams,
    CheckList,
    CheckOut,
    CheckResultIn,
    ReferralFilterParams,
    ReferralIn,
    ReferralList,
    ReferralOut,
    ReferralOutcomeIn,
    ResolveIn,
    StartOfUseIn,
)
from rapport.cards import selectors as cards
from rapport.cards.models import Card
from rapport.core.errors import NotFound, ValidationError
from rapport.core.http import AuthedHttpRequest, if_match_version, sent_fields
from rapport.core.pagination import PageParams

router = Router(tags=["after-sales"])


def _customer(request: AuthedHttpRequest, raw: Any) -> Card:
    """The customer named in a body: unknown and out of reach read the same."""
    try:
        return cards.get_card(request.user, services.parse_id("card", raw))
    except NotFound:
        raise ValidationError.single("card", "No such customer.") from None


def _page(qs: Any, page: PageParams, of: Any) -> dict[str, Any]:
    offset, limit = page.clamp()
    return {"items": [of(obj) for obj in qs[offset : offset + limit]], "count": qs.count()}


# --- service cases -----------------------------------------------------------------------------------


@router.get("/cases", response=CaseList, summary="Complaints and service cases (open ones by due day)")
def list_cases(request: AuthedHttpRequest, flt: Query[CaseFilterParams], page: Query[PageParams]) -> dict[str, Any]:
    qs = selectors.cases(request.user, selectors.AfterSalesFilter(
        status=flt.status, card=flt.card, team=flt.team, assigned_to=flt.assigned_to,
    ))
    return _page(qs, page, CaseOut.from_case)


@router.post("/cases", response={201: CaseOut}, summary="Open a complaint or service case")
def open_case(request: AuthedHttpRequest, response: HttpResponse, payload: CaseIn) -> Status[dict[str, Any]]:
    data = sent_fields(request, payload)
    card = _customer(request, data.pop("card", None))
    case = services.open_case(user=request.user, card=card, data=data)
    response["ETag"] = f'"{case.version}"'
    return Status(201, CaseOut.from_case(selectors.get_case(request.user, case.pk)))


@router.get("/cases/{case_id}", response=CaseOut, summary="One case (its ETag is the version)")
def get_case(request: AuthedHttpRequest, response: HttpResponse, case_id: int) -> dict[str, Any]:
    case = selectors.get_case(request.user, case_id)
    response["ETag"] = f'"{case.version}"'
    return CaseOut.from_case(case)


@router.patch("/cases/{case_id}", response=CaseOut, summary="Change an open case (If-Match: the version)")
def update_case(request: AuthedHttpRequest, response: HttpResponse, case_id: int, payload: CasePatch) -> dict[str, Any]:
    case = selectors.get_case(request.user, case_id)
    # Optimistic concurrency: 428 without If-Match, 412 when someone changed the case since.
    expected = if_match_version(request, required=True, what="case")
    case = services.update_case(user=request.user, case=case, data=sent_fields(request, payload), expected_version=expected)
    response["ETag"] = f'"{case.version}"'
    return CaseOut.from_case(selectors.get_case(request.user, case.pk))


@router.post("/cases/{case_id}/resolve", response=CaseOut, summary="Resolve a case, saying how (If-Match optional)")
def resolve_case(request: AuthedHttpRequest, response: HttpResponse, case_id: int, payload: ResolveIn) -> dict[str, Any]:
    case = selectors.get_case(request.user, case_id)
    case = services.resolve_case(
        user=request.user, case=case, resolution=payload.resolution, expected_version=if_match_version(request, required=False, what="case")
    )
    response["ETag"] = f'"{case.version}"'
    return CaseOut.from_case(selectors.get_case(request.user, case.pk))


# --- satisfaction checks -----------------------------------------------------------------------------


@router.get("/checks", response=CheckList, summary="Satisfaction checks (by default those due, oldest first)")
def list_checks(request: AuthedHttpRequest, flt: Query[CheckFilterParams], page: Query[PageParams]) -> dict[str, Any]:
    qs = selectors.checks(request.user, selectors.AfterSalesFilter(
        state=flt.state, card=flt.card, team=flt.team, today=flt.today or timezone.localdate(),
    ))
    return _page(qs, page, CheckOut.from_check)


@router.get("/checks/{check_id}", response=CheckOut, summary="One satisfaction check")
def get_check(request: AuthedHttpRequest, check_id: int) -> dict[str, Any]:
    return CheckOut.from_check(selectors.get_check(request.user, check_id))


@router.post("/checks/{check_id}/result", response=CheckOut, summary="Record the score (1–5) and comment, once")
def record_result(request: AuthedHttpRequest, check_id: int, payload: CheckResultIn) -> dict[str, Any]:
    check = selectors.get_check(request.user, check_id)
    services.record_check_result(user=request.user, check=check, data=sent_fields(request, payload))
    return CheckOut.from_check(selectors.get_check(request.user, check_id))


@router.post("/checks/{check_id}/start-of-use", response=CheckOut, summary="Record when the customer started using the delivery")
def start_of_use(request: AuthedHttpRequest, check_id: int, payload: StartOfUseIn) -> dict[str, Any]:
    check = selectors.get_check(request.user, check_id)
    services.set_start_of_use(user=request.user, check=check, in_use_on=payload.in_use_on)
    return CheckOut.from_check(selectors.get_check(request.user, check_id))


# --- referral requests -------------------------------------------------------------------------------


@router.get("/referrals", response=ReferralList, summary="Referral requests, newest first")
def list_referrals(request: AuthedHttpRequest, flt: Query[ReferralFilterParams], page: Query[PageParams]) -> dict[str, Any]:
    qs = selectors.referral_requests(request.user, card=flt.card, outcome=flt.outcome)
    return _page(qs, page, ReferralOut.from_request)


@router.post("/referrals", response={201: ReferralOut}, summary="Ask a satisfied customer for referrals")
def ask_for_referrals(request: AuthedHttpRequest, payload: ReferralIn) -> Status[dict[str, Any]]:
    data = sent_fields(request, payload)
    card = _customer(request, data.pop("card", None))
    asked = services.ask_for_referrals(user=request.user, card=card, data=data)
    return Status(201, ReferralOut.from_request(selectors.get_referral_request(request.user, asked.pk)))


@router.post("/referrals/{request_id}/outcome", response=ReferralOut, summary="Record the answer and the referred customers")
def record_outcome(request: AuthedHttpRequest, request_id: int, payload: ReferralOutcomeIn) -> dict[str, Any]:
    asked = selectors.get_referral_request(request.user, request_id)
    services.record_referral_outcome(user=request.user, request=asked, data=sent_fields(request, payload))
    return ReferralOut.from_request(selectors.get_referral_request(request.user, request_id))
