"""REST endpoints of field visits: the visit and its plan, check-in and check-out, the manager's
instructions, promises, the visit report, market intelligence, where customers are and where a
rep's day starts, the week plan and its approval, the catalogs and the visit report per rep.
The day's route (``api_routes``) and the price and inventory audits (``api_audits``) are
mounted with them.

A visit out of reach answers 404 exactly like a missing one. Writes go through
``rapport.visits.services``, which refuse unknown fields and bad values by name (422) and
analysts' writes (403).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from rapport.cards.selectors import get_card
from rapport.core.errors import NotFound
from rapport.core.http import AuthedHttpRequest, if_match_version, sent_fields
from rapport.core.pagination import PageParams
from rapport.core.visibility import get_visible
from rapport.visits import content, selectors, services
from rapport.visits.models import Visit, WeekPlan
from rapport.visits.schemas import (
    CatalogOut,
    CheckInIn,
    DecisionIn,
    InstructionsIn,
    IntelligenceIn,
    IntelligenceOut,
    KeepIn,
    PromiseIn,
    PromiseList,
    PromiseOut,
    ReportIn,
    ReportOut,
    SiteIn,
    SiteOut,
    StartPointIn,
    VisitDetailOut,
    VisitIn,
    VisitList,
    VisitOut,
    VisitPatch,
    VisitReportOut,
    rounded,
    WeekIn,
    WeekPlanOut,
)

router = Router(tags=["visits"])


class VisitFilter(Schema):
    owner: int | None = Field(None, ge=1, le=2**62, description="User id of who goes")
    customer: int | None = Field(None, ge=1, le=2**62, description="Card id of the customer")
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    status: str | None = Field(None, max_length=12)


def _visit(request: AuthedHttpRequest, visit_id: int) -> Visit:
    visit = selectors.get_visit(request.user, visit_id)
    assert isinstance(visit, Visit)
    return visit


def _etag(response: HttpResponse, visit: Visit) -> None:
    response["ETag"] = f'"{visit.version}"'


def _detail(request: AuthedHttpRequest, response: HttpResponse, visit_id: int) -> dict[str, Any]:
    visit = _visit(request, visit_id)
    _etag(response, visit)
    return VisitDetailOut.of(visit)


@router.get("/visits/catalog", response=CatalogOut, summary="Visit objectives, sales tools and the shop checklist, in your language")
def catalog(request: AuthedHttpRequest) -> dict[str, Any]:
    def rows(entries: Any) -> list[dict[str, Any]]:
        return [{"key": e.key, "label": e.label, "group": e.group, "has_amount": e.has_amount} for e in entries.values()]

    return {"objectives": rows(content.objectives()), "tools": rows(content.tools()), "retail_checks": rows(content.retail_checks())}


@router.get("/visits", response=VisitList, summary="Visits to the customers you may see, by date")
def list_visits(request: AuthedHttpRequest, flt: Query[VisitFilter], page: Query[PageParams]) -> dict[str, Any]:
    qs = selectors.visible_visits(request.user)
    if flt.owner:
        qs = qs.filter(owner_id=flt.owner)
    if flt.customer:
        qs = qs.filter(card_id=flt.customer)
    if flt.date_from:
        qs = qs.filter(planned_on__gte=flt.date_from)
    if flt.date_to:
        qs = qs.filter(planned_on__lte=flt.date_to)
    if flt.status:
        qs = qs.filter(status=flt.status)
    offset, limit = page.clamp()
    rows = qs.select_related("card").order_by("planned_on", "position", "id")[offset : offset + limit]
    return {"items": [VisitOut.of(v) for v in rows], "count": qs.count()}


@router.post("/visits", response={201: VisitDetailOut}, summary="Plan a visit")
def create_visit(request: AuthedHttpRequest, response: HttpResponse, payload: VisitIn) -> Status[dict[str, Any]]:
    visit = services.create_visit(user=request.user, data=sent_fields(request, payload))
    return Status(201, _detail(request, response, visit.pk))


@router.get("/visits/{visit_id}", response=VisitDetailOut, summary="A visit with its objectives and review (ETag: its version)")
def get_visit(request: AuthedHttpRequest, response: HttpResponse, visit_id: int) -> dict[str, Any]:
    return _detail(request, response, visit_id)


@router.patch("/visits/{visit_id}", response=VisitDetailOut, summary="Change the plan of a visit not yet reported (If-Match optional)")
def update_visit(request: AuthedHttpRequest, response: HttpResponse, visit_id: int, payload: VisitPatch) -> dict[str, Any]:
    visit = _visit(request, visit_id)
    services.update_visit(user=request.user, visit=visit, data=sent_fields(request, payload),
                          expected_version=if_match_version(request, what="visit"))
    return _detail(request, response, visit_id)


@router.post("/visits/{visit_id}/check-in", response=VisitDetailOut, summary="Arrive: the time, and where, when the phone tells")
def check_in(request: AuthedHttpRequest, response: HttpResponse, visit_id: int, payload: CheckInIn) -> dict[str, Any]:
    visit = _visit(request, visit_id)
    services.check_in(user=request.user, visit=visit, latitude=payload.latitude, longitude=payload.longitude)
    return _detail(request, response, visit_id)


@router.post("/visits/{visit_id}/check-out", response=VisitDetailOut, summary="Leave")
def check_out(request: AuthedHttpRequest, response: HttpResponse, visit_id: int) -> dict[str, Any]:
    services.check_out(user=request.user, visit=_visit(request, visit_id))
    return _detail(request, response, visit_id)


@router.put("/visits/{visit_id}/instructions", response=VisitDetailOut, summary="The manager's instructions for the visit")
def instructions(request: AuthedHttpRequest, response: HttpResponse, visit_id: int, payload: InstructionsIn) -> dict[str, Any]:
    services.set_instructions(user=request.user, visit=_visit(request, visit_id), text=payload.instructions,
                              expected_version=if_match_version(request, what="visit"))
    return _detail(request, response, visit_id)


def _report(request: AuthedHttpRequest, visit: Visit) -> dict[str, Any]:
    return {
        "visit": VisitDetailOut.of(visit),
        "promises": [PromiseOut.of(p) for p in visit.promises.all()],
        "retail_checks": [{"item": c.item, "state": c.state, "note": c.note} for c in visit.retail_checks.all()],
        "intelligence": [{"id": i.pk, "kind": i.kind, "competitor": i.competitor, "text": i.text, "fact": i.fact_id,
                          "prospect": i.prospect_id} for i in visit.intelligence.all()],
    }


@router.get("/visits/{visit_id}/report", response=ReportOut, summary="The visit report: results, review, promises, checklist, intelligence")
def get_report(request: AuthedHttpRequest, visit_id: int) -> dict[str, Any]:
    return _report(request, _visit(request, visit_id))


@router.post("/visits/{visit_id}/report", response=ReportOut, summary="Send the visit report; it closes the visit (sent once per report_token)")
def send_report(request: AuthedHttpRequest, visit_id: int, payload: ReportIn) -> dict[str, Any]:
    visit = _visit(request, visit_id)
    services.report_visit(user=request.user, visit=visit, data=sent_fields(request, payload),
                          expected_version=if_match_version(request, what="visit"))
    return _report(request, _visit(request, visit_id))


@router.post("/visits/{visit_id}/intelligence", response={201: IntelligenceOut}, summary="Market intelligence learnt on the visit (kept as a fact, source: visit)")
def add_intelligence(request: AuthedHttpRequest, visit_id: int, payload: IntelligenceIn) -> Status[dict[str, Any]]:
    note = services.add_intelligence(user=request.user, visit=_visit(request, visit_id), data=sent_fields(request, payload))
    return Status(201, {"id": note.pk, "kind": note.kind, "competitor": note.competitor, "text": note.text,
                        "fact": note.fact_id, "prospect": note.prospect_id})


# --- promises ----------------------------------------------------------------------------------------


@router.get("/visits/{visit_id}/promises", response=PromiseList, summary="The customer's promises, open first")
def visit_promises(request: AuthedHttpRequest, visit_id: int) -> dict[str, Any]:
    visit = _visit(request, visit_id)
    qs = selectors.visible_promises(request.user).filter(card=visit.card).order_by("kept_on", "due_on", "id")
    rows = list(qs[:500])
    return {"items": [PromiseOut.of(p) for p in rows], "count": qs.count()}


@router.post("/visits/{visit_id}/promises", response={201: PromiseOut}, summary="A promise made by us or by them on this visit")
def add_promise(request: AuthedHttpRequest, visit_id: int, payload: PromiseIn) -> Status[dict[str, Any]]:
    visit = _visit(request, visit_id)
    promise = services.add_promise(user=request.user, card=visit.card, visit=visit, data=sent_fields(request, payload))
    return Status(201, PromiseOut.of(promise))


@router.get("/promises", response=PromiseList, summary="Open promises you follow, due first")
def my_promises(request: AuthedHttpRequest, page: Query[PageParams]) -> dict[str, Any]:
    qs = selectors.visible_promises(request.user).filter(owner=request.user, kept_on__isnull=True).order_by("due_on", "id")
    offset, limit = page.clamp()
    return {"items": [PromiseOut.of(p) for p in qs[offset : offset + limit]], "count": qs.count()}


@router.post("/promises/{promise_id}/keep", response=PromiseOut, summary="Mark a promise kept (or open again)")
def keep_promise(request: AuthedHttpRequest, promise_id: int, payload: KeepIn) -> dict[str, Any]:
    promise = get_visible(selectors.visible_promises(request.user).select_related("card"), promise_id, "promise")
    kept = services.keep_promise(user=request.user, promise=promise, kept=payload.kept,
                                 kept_on=payload.kept_on.isoformat() if payload.kept_on else None)
    return PromiseOut.of(kept)


# --- where customers are and where the day starts -------------------------------------------------------


def _site_out(card_id: int, site: Any) -> dict[str, Any]:
    return {"customer": card_id, "latitude": site.latitude, "longitude": site.longitude, "located_by": site.located_by,
            "opens_at": site.opens_at.strftime("%H:%M") if site.opens_at else None,
            "closes_at": site.closes_at.strftime("%H:%M") if site.closes_at else None, "closed_weekdays": site.closed_weekdays}


@router.put("/sites/{card_id}", response=SiteOut, summary="Where a customer is and when it opens")
def set_site(request: AuthedHttpRequest, card_id: int, payload: SiteIn) -> dict[str, Any]:
    card = get_card(request.user, card_id)
    site = services.set_site(user=request.user, card=card, data=sent_fields(request, payload))
    return _site_out(card.pk, site)


@router.get("/sites/{card_id}", response=SiteOut, summary="Where a customer is and when it opens")
def get_site(request: AuthedHttpRequest, card_id: int) -> dict[str, Any]:
    card = get_card(request.user, card_id)
    site = selectors.site_of(card)
    if site is None:
        raise NotFound("site")
    return _site_out(card.pk, site)


@router.put("/start-point", response={204: None}, summary="Where your day starts and when you leave")
def start_point(request: AuthedHttpRequest, payload: StartPointIn) -> Status[None]:
    services.set_start_point(user=request.user, data=sent_fields(request, payload))
    return Status(204, None)


# --- the week plan -----------------------------------------------------------------------------------------


def _plan_out(plan: WeekPlan) -> dict[str, Any]:
    return {"id": plan.pk, "user": plan.user_id, "week": plan.week, "status": plan.status, "note": plan.note,
            "decided_by": plan.decided_by_id}


@router.post("/visits/weeks/{week}/submit", response=WeekPlanOut, summary="Send your week's visits to your manager (any day of the week)")
def submit_week(request: AuthedHttpRequest, week: str, payload: WeekIn) -> dict[str, Any]:
    return _plan_out(services.submit_week(user=request.user, week=week, note=payload.note))


@router.post("/visits/week-plans/{plan_id}/decision", response=WeekPlanOut, summary="Approve a rep's week, or return it with a note")
def decide_week(request: AuthedHttpRequest, plan_id: int, payload: DecisionIn) -> dict[str, Any]:
    plan = WeekPlan.objects.filter(pk=plan_id).first() if plan_id < 2**62 else None
    if plan is None or not services.may_instruct(request.user, plan.user_id):
        raise NotFound("week plan")
    return _plan_out(services.decide_week(user=request.user, plan=plan, approve=payload.approve, note=payload.note))


# --- the visit report per rep -----------------------------------------------------------------------------


class ReportParams(Schema):
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    team: int | None = Field(None, ge=1, le=2**62)


@router.get("/reports/visits", response=VisitReportOut, summary="Per rep: visits per day, objectives met, promises kept on time, collected, audits")
def visit_report(request: AuthedHttpRequest, params: Query[ReportParams]) -> dict[str, Any]:
    from django.utils import timezone

    date_to = params.date_to or timezone.localdate()
    date_from = params.date_from or date_to - dt.timedelta(days=29)
    if date_from > date_to or (date_to - date_from).days > 3660:
        from rapport.core.errors import ValidationError

        raise ValidationError.single("date_from", "The period runs forwards and is at most ten years long.")
    rows = selectors.visit_report(request.user, date_from, date_to, team=params.team)
    return {"date_from": date_from, "date_to": date_to, "reps": [
        {"user": r.user_id, "name": r.name, "visits": r.visits, "visits_per_day": r.per_day, "objectives": r.objectives,
         "objectives_met": r.objectives_met, "objectives_met_percent": r.met_percent, "promises_due": r.promises_due,
         "promises_kept_on_time": r.promises_on_time, "promises_kept_on_time_percent": r.on_time_percent,
         "collected": {c: rounded(v, c) for c, v in r.collected.items()}, "audits": r.audits} for r in rows]}


def _mount_parts() -> None:
    from rapport.visits.api_audits import router as audits_router
    from rapport.visits.api_routes import router as routes_router

    router.add_router("", routes_router)
    router.add_router("", audits_router)


_mount_parts()
