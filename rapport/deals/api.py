"""REST endpoints of deals: the deal, its six steps and exit checklist, the four questions,
its decision unit, needs, criteria, competitors, proposals and negotiation, closing and the
order a won deal becomes; and the pipeline and forecast reports (``reports_router``).

A deal out of reach answers 404 exactly like a missing one, and so does a sub-resource id
(a need, a contact, a proposal version…) of another deal. Writes go through
``rapport.deals.services``, which refuse unknown fields and bad values by name (422) and
analysts' writes (403).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from rapport.core.errors import NotFound
from rapport.core.http import AuthedHttpRequest, if_match_version, sent_fields
from rapport.core.pagination import PageParams
from rapport.deals import reports, selectors, services
from rapport.deals.models import Deal, NegotiationPlan, QuestionKey
from rapport.deals.schemas import (
    MAX_ID,
    ChecklistOut,
    CloseIn,
    CompetitorIn,
    CompetitorList,
    CompetitorOut,
    CompetitorPatch,
    ContactIn,
    ContactList,
    ContactOut,
    ContactPatch,
    CriterionIn,
    CriterionList,
    CriterionOut,
    CriterionPatch,
    DealDetailOut,
    DealFilter,
    DealIn,
    DealList,
    DealOut,
    DealPatch,
    DealProductOut,
    EntryCreatedOut,
    EntryIn,
    EntryList,
    EntryOut,
    ExitItemOut,
    ExitSignalsMissingOut,
    FinishIn,
    ForecastOut,
    MoveResultOut,
    NeedIn,
    NeedList,
    NeedOut,
    NeedPatch,
    OrderCreatedOut,
    PipelineOut,
    PlanIn,
    PlanOut,
    PointIn,
    PointOut,
    ProposalIn,
    ProposalList,
    ProposalOut,
    QuestionIn,
    QuestionList,
    QuestionOut,
    SignalIn,
    StepHistoryOut,
    StepIn,
    StepMoveOut,
)

router = Router(tags=["deals"])
# Mounted at /reports beside the funnel's reports router (both before the cards router).
reports_router = Router(tags=["reports"])

MAX_DATE = dt.date(2999, 12, 31)  # report periods: far enough, and month arithmetic cannot overflow
MIN_DATE = dt.date(1900, 1, 1)


# --- helpers -------------------------------------------------------------------------------------------


def _deal(request: AuthedHttpRequest, deal_id: int) -> Deal:
    return selectors.get_deal(request.user, deal_id)


def _with_etag(response: HttpResponse, deal: Deal) -> None:
    response["ETag"] = f'"{deal.version}"'


def _detail(deal: Deal) -> dict[str, Any]:
    people = selectors.deal_people(deal)
    now = selectors.who_matters_now(deal, people)
    data = DealOut.of(deal)
    data["products"] = [DealProductOut.of(p, deal.currency) for p in deal.products.select_related("product")]
    data["who_matters_now"] = None if now is None else {
        "stage": now.stage, "role": now.role, "people": [ContactOut.of(p) for p in now.people],
    }
    data["warnings"] = selectors.deal_warnings(deal, people)
    return data


def _missing(exc: services.ExitSignalsMissing) -> Status[dict[str, Any]]:
    """The 422 of a move without its exit signals: the usual error body plus what is missing."""
    detail = [{"loc": ["body", field], "msg": msg, "type": "value_error"} for field, msgs in exc.errors.items() for msg in msgs]
    missing = [{"step": i.signal.step, "key": i.key, "label": i.label} for i in exc.missing]
    return Status(422, {"detail": detail, "errors": exc.errors, "missing": missing})


# --- deals ---------------------------------------------------------------------------------------------


@router.get("/deals", response=DealList, summary="Deals of the customers you may see, most recently changed first")
def list_deals(request: AuthedHttpRequest, flt: Query[DealFilter], page: Query[PageParams]) -> dict[str, Any]:
    qs = flt.narrow(selectors.visible_deals(request.user))
    offset, limit = page.clamp()
    rows = qs.select_related("card", "owner", "team")[offset : offset + limit]
    return {"items": [DealOut.of(d) for d in rows], "count": qs.count()}


@router.post("/deals", response={201: DealDetailOut}, summary="Open a deal at step 1 (analyse the customer)")
def create_deal(request: AuthedHttpRequest, response: HttpResponse, payload: DealIn) -> Status[dict[str, Any]]:
    deal = services.create_deal(user=request.user, data=sent_fields(request, payload))
    deal = _deal(request, deal.pk)
    _with_etag(response, deal)
    return Status(201, _detail(deal))


@router.get("/deals/{deal_id}", response=DealDetailOut, summary="A deal with its products, who matters now and warnings (ETag: its version)")
def get_deal(request: AuthedHttpRequest, response: HttpResponse, deal_id: int) -> dict[str, Any]:
    deal = _deal(request, deal_id)
    _with_etag(response, deal)
    return _detail(deal)


@router.patch("/deals/{deal_id}", response=DealDetailOut, summary="Change a deal's own fields (If-Match: its ETag)")
def update_deal(request: AuthedHttpRequest, response: HttpResponse, deal_id: int, payload: DealPatch) -> dict[str, Any]:
    """``products``, when given, replace the deal's list. Without If-Match: 428; on a version
    someone else changed since: 412; an unknown field: 422 naming it."""
    deal = _deal(request, deal_id)
    expected = if_match_version(request, required=True, what="deal")
    services.update_deal(user=request.user, deal=deal, data=sent_fields(request, payload), expected_version=expected)
    deal = _deal(request, deal_id)
    _with_etag(response, deal)
    return _detail(deal)


# --- steps ---------------------------------------------------------------------------------------------


@router.post("/deals/{deal_id}/step", response={200: MoveResultOut, 422: ExitSignalsMissingOut}, by_alias=True,
             summary="Move a deal to another step (If-Match optional)")
def move_step(request: AuthedHttpRequest, response: HttpResponse, deal_id: int, payload: StepIn) -> Any:
    """Forward, every exit signal of the steps left must hold, or ``override_reason`` is given
    and recorded with what was missing; without either the answer is 422 with ``missing``.
    Back is always allowed. Entering follow-up service wins the deal."""
    deal = _deal(request, deal_id)
    try:
        move = services.move_step(user=request.user, deal=deal, to=payload.to, reason=payload.reason,
                                  override_reason=payload.override_reason,
                                  expected_version=if_match_version(request, what="deal"))
    except services.ExitSignalsMissing as exc:
        return _missing(exc)
    deal = _deal(request, deal_id)
    _with_etag(response, deal)
    return {**StepMoveOut.of(move), "deal": DealOut.of(deal)}


@router.get("/deals/{deal_id}/step-history", response=StepHistoryOut, by_alias=True, summary="Every step move, oldest first")
def step_history(request: AuthedHttpRequest, deal_id: int) -> dict[str, Any]:
    deal = _deal(request, deal_id)
    moves = selectors.step_history(deal)
    return {"items": [StepMoveOut.of(m) for m in moves], "count": len(moves), "seconds_in_steps": selectors.time_in_steps(deal)}


@router.get("/deals/{deal_id}/checklist", response=ChecklistOut, summary="The current step's exit checklist, entry and exit, and actions")
def checklist(request: AuthedHttpRequest, deal_id: int) -> dict[str, Any]:
    deal = _deal(request, deal_id)
    return ChecklistOut.of(deal.step, services.exit_checklist(deal))


@router.post("/deals/{deal_id}/signals/{key}", response=ExitItemOut, summary="Tick or untick a manual exit signal of the current step")
def set_signal(request: AuthedHttpRequest, deal_id: int, key: str, payload: SignalIn) -> dict[str, Any]:
    deal = _deal(request, deal_id)
    item = services.set_signal(user=request.user, deal=deal, signal_key=key[:40], checked=payload.checked, note=payload.note)
    return ExitItemOut.of(item)


@router.post("/deals/{deal_id}/close", response={200: DealOut, 422: ExitSignalsMissingOut},
             summary="Close a deal as won (it enters follow-up service) or lost, with a listed reason")
def close_deal(request: AuthedHttpRequest, response: HttpResponse, deal_id: int, payload: CloseIn) -> Any:
    deal = _deal(request, deal_id)
    try:
        services.close_deal(user=request.user, deal=deal, outcome=payload.outcome, reason=payload.reason, note=payload.note,
                            override_reason=payload.override_reason, expected_version=if_match_version(request, what="deal"))
    except services.ExitSignalsMissing as exc:
        return _missing(exc)
    deal = _deal(request, deal_id)
    _with_etag(response, deal)
    return DealOut.of(deal)


@router.post("/deals/{deal_id}/finish", response={200: DealOut, 422: ExitSignalsMissingOut},
             summary="End the follow-up of a won deal once everything is paid")
def finish_follow_up(request: AuthedHttpRequest, response: HttpResponse, deal_id: int, payload: FinishIn | None = None) -> Any:
    deal = _deal(request, deal_id)
    try:
        services.finish_follow_up(user=request.user, deal=deal, override_reason=payload.override_reason if payload else "")
    except services.ExitSignalsMissing as exc:
        return _missing(exc)
    deal = _deal(request, deal_id)
    _with_etag(response, deal)
    return DealOut.of(deal)


@router.post("/deals/{deal_id}/order", response={201: OrderCreatedOut}, summary="Turn a won deal into a draft order")
def create_order(request: AuthedHttpRequest, response: HttpResponse, deal_id: int) -> Status[dict[str, Any]]:
    deal = _deal(request, deal_id)
    order = services.create_order_from_deal(user=request.user, deal=deal)
    deal = _deal(request, deal_id)
    _with_etag(response, deal)
    return Status(201, {"order": order.pk, "deal": DealOut.of(deal)})


# --- the four questions --------------------------------------------------------------------------------


def _questions(deal: Deal) -> dict[str, Any]:
    answered = {q.key: q for q in deal.questions.select_related("answered_by")}
    items = [QuestionOut.of(key, str(label), answered.get(key)) for key, label in QuestionKey.choices]
    return {"items": items, "count": len(items), "all_yes": all(i["answer"] == "yes" for i in items)}


@router.get("/deals/{deal_id}/questions", response=QuestionList, summary="The four opportunity questions with answers and justifications")
def list_questions(request: AuthedHttpRequest, deal_id: int) -> dict[str, Any]:
    return _questions(_deal(request, deal_id))


@router.put("/deals/{deal_id}/questions", response=QuestionList, summary="Answer one question (yes, no, or \"\" for not yet)")
def answer_question(request: AuthedHttpRequest, deal_id: int, payload: QuestionIn) -> dict[str, Any]:
    deal = _deal(request, deal_id)
    services.answer_question(user=request.user, deal=deal, key=payload.key, answer=payload.answer, justification=payload.justification)
    return _questions(deal)


# --- the deal's decision unit --------------------------------------------------------------------------


def _person_out(deal: Deal, contact_id: int) -> dict[str, Any]:
    return next(ContactOut.of(p) for p in selectors.deal_people(deal) if p.contact.pk == contact_id)


@router.get("/deals/{deal_id}/contacts", response=ContactList, summary="The deal's decision unit: people and their roles in this deal")
def list_contacts(request: AuthedHttpRequest, deal_id: int) -> dict[str, Any]:
    people = selectors.deal_people(_deal(request, deal_id))
    return {"items": [ContactOut.of(p) for p in people], "count": len(people)}


@router.post("/deals/{deal_id}/contacts", response={201: ContactOut}, summary="Bring a member of the organisation's decision unit into the deal")
def add_contact(request: AuthedHttpRequest, deal_id: int, payload: ContactIn) -> Status[dict[str, Any]]:
    deal = _deal(request, deal_id)
    contact = services.add_contact(user=request.user, deal=deal, data=sent_fields(request, payload))
    return Status(201, _person_out(deal, contact.pk))


@router.patch("/deals/{deal_id}/contacts/{contact_id}", response=ContactOut, summary="Change a person's roles, key flag or note in the deal")
def update_contact(request: AuthedHttpRequest, deal_id: int, contact_id: int, payload: ContactPatch) -> dict[str, Any]:
    deal = _deal(request, deal_id)
    services.update_contact(user=request.user, contact=selectors.deal_part(deal, "contact", contact_id), data=sent_fields(request, payload))
    return _person_out(deal, contact_id)


@router.delete("/deals/{deal_id}/contacts/{contact_id}", response={204: None}, summary="Take a person out of the deal")
def remove_contact(request: AuthedHttpRequest, deal_id: int, contact_id: int) -> Status[None]:
    deal = _deal(request, deal_id)
    services.remove_contact(user=request.user, contact=selectors.deal_part(deal, "contact", contact_id))
    return Status(204, None)


# --- needs -------------------------------------------------------------------------------------------


@router.get("/deals/{deal_id}/needs", response=NeedList, summary="Goals, problems, imagined solutions and products the customer needs")
def list_needs(request: AuthedHttpRequest, deal_id: int) -> dict[str, Any]:
    needs = list(_deal(request, deal_id).needs.all())
    return {"items": [NeedOut.of(n) for n in needs], "count": len(needs)}


@router.post("/deals/{deal_id}/needs", response={201: NeedOut}, summary="Record a need")
def add_need(request: AuthedHttpRequest, deal_id: int, payload: NeedIn) -> Status[dict[str, Any]]:
    deal = _deal(request, deal_id)
    return Status(201, NeedOut.of(services.add_need(user=request.user, deal=deal, data=sent_fields(request, payload))))


@router.patch("/deals/{deal_id}/needs/{need_id}", response=NeedOut, summary="Change a need")
def update_need(request: AuthedHttpRequest, deal_id: int, need_id: int, payload: NeedPatch) -> dict[str, Any]:
    deal = _deal(request, deal_id)
    return NeedOut.of(services.update_need(user=request.user, need=selectors.deal_part(deal, "need", need_id), data=sent_fields(request, payload)))


@router.delete("/deals/{deal_id}/needs/{need_id}", response={204: None}, summary="Remove a need")
def remove_need(request: AuthedHttpRequest, deal_id: int, need_id: int) -> Status[None]:
    deal = _deal(request, deal_id)
    services.remove_need(user=request.user, need=selectors.deal_part(deal, "need", need_id))
    return Status(204, None)


# --- procurement criteria -------------------------------------------------------------------------------


@router.get("/deals/{deal_id}/criteria", response=CriterionList, summary="The customer's procurement criteria and their weights")
def list_criteria(request: AuthedHttpRequest, deal_id: int) -> dict[str, Any]:
    criteria = list(_deal(request, deal_id).criteria.all())
    return {"items": [CriterionOut.of(c) for c in criteria], "count": len(criteria), "total_weight": sum(c.weight for c in criteria)}


@router.post("/deals/{deal_id}/criteria", response={201: CriterionOut}, summary="Add a criterion (weights together at most 100%)")
def add_criterion(request: AuthedHttpRequest, deal_id: int, payload: CriterionIn) -> Status[dict[str, Any]]:
    deal = _deal(request, deal_id)
    return Status(201, CriterionOut.of(services.add_criterion(user=request.user, deal=deal, data=sent_fields(request, payload))))


@router.patch("/deals/{deal_id}/criteria/{criterion_id}", response=CriterionOut, summary="Change a criterion")
def update_criterion(request: AuthedHttpRequest, deal_id: int, criterion_id: int, payload: CriterionPatch) -> dict[str, Any]:
    deal = _deal(request, deal_id)
    criterion = services.update_criterion(user=request.user, criterion=selectors.deal_part(deal, "criterion", criterion_id), data=sent_fields(request, payload))
    return CriterionOut.of(criterion)


@router.delete("/deals/{deal_id}/criteria/{criterion_id}", response={204: None}, summary="Remove a criterion")
def remove_criterion(request: AuthedHttpRequest, deal_id: int, criterion_id: int) -> Status[None]:
    deal = _deal(request, deal_id)
    services.remove_criterion(user=request.user, criterion=selectors.deal_part(deal, "criterion", criterion_id))
    return Status(204, None)


# --- competitors -----------------------------------------------------------------------------------------


@router.get("/deals/{deal_id}/competitors", response=CompetitorList, summary="Competitors with our strengths and weaknesses against each")
def list_competitors(request: AuthedHttpRequest, deal_id: int) -> dict[str, Any]:
    competitors = list(_deal(request, deal_id).competitors.prefetch_related("points"))
    return {"items": [CompetitorOut.of(c, list(c.points.all())) for c in competitors], "count": len(competitors)}


@router.post("/deals/{deal_id}/competitors", response={201: CompetitorOut}, summary="Add a competitor")
def add_competitor(request: AuthedHttpRequest, deal_id: int, payload: CompetitorIn) -> Status[dict[str, Any]]:
    deal = _deal(request, deal_id)
    return Status(201, CompetitorOut.of(services.add_competitor(user=request.user, deal=deal, data=sent_fields(request, payload)), []))


@router.patch("/deals/{deal_id}/competitors/{competitor_id}", response=CompetitorOut, summary="Change a competitor")
def update_competitor(request: AuthedHttpRequest, deal_id: int, competitor_id: int, payload: CompetitorPatch) -> dict[str, Any]:
    deal = _deal(request, deal_id)
    competitor = services.update_competitor(user=request.user, competitor=selectors.deal_part(deal, "competitor", competitor_id), data=sent_fields(request, payload))
    return CompetitorOut.of(competitor, list(competitor.points.all()))


@router.delete("/deals/{deal_id}/competitors/{competitor_id}", response={204: None}, summary="Remove a competitor and its points")
def remove_competitor(request: AuthedHttpRequest, deal_id: int, competitor_id: int) -> Status[None]:
    deal = _deal(request, deal_id)
    services.remove_competitor(user=request.user, competitor=selectors.deal_part(deal, "competitor", competitor_id))
    return Status(204, None)


@router.post("/deals/{deal_id}/competitors/{competitor_id}/points", response={201: PointOut},
             summary="Add one of our strengths or weaknesses against a competitor")
def add_point(request: AuthedHttpRequest, deal_id: int, competitor_id: int, payload: PointIn) -> Status[dict[str, Any]]:
    deal = _deal(request, deal_id)
    point = services.add_point(user=request.user, competitor=selectors.deal_part(deal, "competitor", competitor_id), data=sent_fields(request, payload))
    return Status(201, PointOut.of(point))


@router.delete("/deals/{deal_id}/competitors/{competitor_id}/points/{point_id}", response={204: None}, summary="Remove a point")
def remove_point(request: AuthedHttpRequest, deal_id: int, competitor_id: int, point_id: int) -> Status[None]:
    deal = _deal(request, deal_id)
    point = selectors.deal_part(deal, "point", point_id)
    if point.competitor_id != competitor_id:
        raise NotFound("point")
    services.remove_point(user=request.user, point=point)
    return Status(204, None)


# --- proposals ---------------------------------------------------------------------------------------


@router.get("/deals/{deal_id}/proposals", response=ProposalList, summary="The proposal's versions, newest first (without lines)")
def list_proposals(request: AuthedHttpRequest, deal_id: int) -> dict[str, Any]:
    proposals = selectors.proposals_of(_deal(request, deal_id))
    return {"items": [ProposalOut.of(p) for p in proposals], "count": len(proposals)}


@router.post("/deals/{deal_id}/proposals", response={201: ProposalOut}, summary="Save a new version of the proposal")
def create_proposal(request: AuthedHttpRequest, deal_id: int, payload: ProposalIn) -> Status[dict[str, Any]]:
    """What is left out is carried over from the latest version; the first version's quotation
    starts from the deal's products."""
    deal = _deal(request, deal_id)
    proposal = services.create_proposal(user=request.user, deal=deal, data=sent_fields(request, payload))
    return Status(201, ProposalOut.of(proposal, list(proposal.lines.all())))


@router.get("/deals/{deal_id}/proposals/{version}", response=ProposalOut, summary="One version of the proposal with its quotation")
def get_proposal(request: AuthedHttpRequest, deal_id: int, version: int) -> dict[str, Any]:
    deal = _deal(request, deal_id)
    proposal = selectors.proposal_version(deal, version)
    return ProposalOut.of(proposal, list(proposal.lines.all()))


# --- negotiation ---------------------------------------------------------------------------------------


@router.get("/deals/{deal_id}/negotiation", response=PlanOut, summary="The negotiation plan: roles, bottom line, target, interests")
def get_plan(request: AuthedHttpRequest, deal_id: int) -> dict[str, Any]:
    deal = _deal(request, deal_id)
    return PlanOut.of(NegotiationPlan.objects.filter(deal=deal).select_related("updated_by").first(), deal.currency)


@router.put("/deals/{deal_id}/negotiation", response=PlanOut, summary="Set the negotiation plan (fields left out keep their value)")
def put_plan(request: AuthedHttpRequest, deal_id: int, payload: PlanIn) -> dict[str, Any]:
    deal = _deal(request, deal_id)
    plan = services.set_negotiation_plan(user=request.user, deal=deal, data=sent_fields(request, payload))
    return PlanOut.of(plan, deal.currency)


@router.get("/deals/{deal_id}/negotiation/entries", response=EntryList, summary="The negotiation log, oldest first")
def list_entries(request: AuthedHttpRequest, deal_id: int) -> dict[str, Any]:
    deal = _deal(request, deal_id)
    entries = list(deal.negotiation_entries.select_related("created_by", "confirmed_by"))
    return {"items": [EntryOut.of(e, deal.currency) for e in entries], "count": len(entries)}


@router.post("/deals/{deal_id}/negotiation/entries", response={201: EntryCreatedOut},
             summary="Log a position, trade, concession or agreed term (answers warnings)")
def add_entry(request: AuthedHttpRequest, deal_id: int, payload: EntryIn) -> Status[dict[str, Any]]:
    deal = _deal(request, deal_id)
    entry, warnings = services.add_negotiation_entry(user=request.user, deal=deal, data=sent_fields(request, payload))
    return Status(201, {**EntryOut.of(entry, deal.currency), "warnings": warnings})


@router.post("/deals/{deal_id}/negotiation/entries/{entry_id}/confirm", response=EntryOut,
             summary="Confirm an agreed term with the customer")
def confirm_entry(request: AuthedHttpRequest, deal_id: int, entry_id: int) -> dict[str, Any]:
    deal = _deal(request, deal_id)
    entry = selectors.deal_part(deal, "entry", entry_id)
    entry = services.confirm_entry(user=request.user, entry=entry)
    return EntryOut.of(entry, deal.currency)


# --- reports -------------------------------------------------------------------------------------------


class ReportScope(Schema):
    owner: int | None = Field(None, ge=1, le=MAX_ID, description="User id of who works the deals")
    team: int | None = Field(None, ge=1, le=MAX_ID, description="The deals' team")


class PipelineParams(ReportScope):
    since: dt.date | None = Field(None, ge=MIN_DATE, le=MAX_DATE, description="First day of the period (inclusive)")
    until: dt.date | None = Field(None, ge=MIN_DATE, le=MAX_DATE, description="Last day of the period (inclusive)")


class ForecastParams(ReportScope):
    start: dt.date | None = Field(None, ge=MIN_DATE, le=MAX_DATE, description="A day of the first month; default: this month")
    months: int = Field(12, description="How many months, 1–36")


@reports_router.get("/pipeline", response=PipelineOut, by_alias=True,
                    summary="Open deals per step, conversion between steps, time in step, win rate, lost reasons")
def pipeline_report(request: AuthedHttpRequest, params: Query[PipelineParams]) -> dict[str, Any]:
    return reports.pipeline(request.user, owner_id=params.owner, team_id=params.team, since=params.since, until=params.until)


@reports_router.get("/forecast", response=ForecastOut, summary="Weighted forecast of open deals by month of expected close, per currency")
def forecast_report(request: AuthedHttpRequest, params: Query[ForecastParams]) -> dict[str, Any]:
    return reports.forecast(request.user, owner_id=params.owner, team_id=params.team, start=params.start, months=params.months)
