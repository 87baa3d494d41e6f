"""API schemas of deals: explicit fields, separate In / Out / Patch. Amounts travel as decimal
strings ("120000.00"), never floats; inputs also take numbers and are checked by the services,
which refuse what the schema lets through (a malformed amount, an unknown role) by field name.
The ``of`` functions are the one serialisation of a deal, used by the API and the command line.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.db.models import QuerySet
from ninja import Schema
from pydantic import AfterValidator, Field

from rapport.cards.schemas import Ref
from rapport.commerce import money
from rapport.deals import content
from rapport.deals.models import (
    Competitor,
    CompetitivePoint,
    Criterion,
    Deal,
    DealProduct,
    NegotiationEntry,
    NegotiationPlan,
    Need,
    OpportunityQuestion,
    Proposal,
    QuoteLine,
    StepMove,
)

MAX_ID = 2**62  # beyond every database's integer: refused with 422 instead of overflowing in the driver

Number = int | float | str
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def _huge_id_as_text(value: int | str) -> int | str:
    # The service looks a product up by id or SKU; an id past every database's integer would
    # overflow the driver, so it is looked up as a SKU instead (found nowhere: a 422 naming it).
    return str(value) if isinstance(value, int) and not -MAX_ID <= value <= MAX_ID else value


ProductRef = Annotated[int | str, AfterValidator(_huge_id_as_text)]

StepKey = Literal["analyse", "build_trust", "discover_needs", "present_value", "win_commitment", "follow_up"]
BuyingStageKey = Literal["", "need_discovered", "internal_decision", "procurement_design", "evaluation", "commitment", "installation"]
QuestionKeyIn = Literal["opportunity", "solution", "win", "worth"]
NeedKindIn = Literal["goal", "problem", "solution", "product"]
InterestKey = Literal["", "price", "configuration", "payment", "service_period", "delivery", "support", "compensation"]


def _money(value: Decimal | None, currency: str) -> str | None:
    return money.text(value, currency)


def _plain(value: Decimal) -> str:
    """A quantity or percentage without trailing zeros or exponent: "10", "2.5"."""
    return f"{value.normalize():f}"


def _price(value: Decimal | None, currency: str) -> str | None:
    """A unit price: the currency's minor units ("6.00"), more only where it has them ("0.0125")."""
    if value is None:
        return None
    rounded = money.round_money(value, currency)
    return str(rounded) if rounded == value else _plain(value)


def _ref(user_id: int | None, user: Any) -> dict[str, Any] | None:
    return {"id": user_id, "name": user.get_username()} if user_id and user is not None else None


# --- the deal ----------------------------------------------------------------------------------------


class DealProductIn(Schema):
    product: ProductRef = Field(..., description="Product id or SKU")
    quantity: Number = 1
    unit_price: Number | None = Field(None, description="In the deal's currency; empty: the price list's")


class DealIn(Schema):
    organization: Id | None = Field(None, description="The customer: an organisation's card id (or give `person`)")
    person: Id | None = Field(None, description="The customer: a person buying for themselves")
    name: str = Field(..., max_length=200)
    amount: Number | None = Field(None, description='Decimal string ("120000.50") or number, in `currency`; default 0')
    currency: str = Field(..., max_length=3, description="ISO 4217 code")
    expected_close: dt.date | None = None
    probability: int | None = Field(None, ge=0, le=100, description="Percent; empty: the step's default")
    buying_stage: BuyingStageKey = Field("", description="Where the customer is in its own purchase")
    description: str = Field("", max_length=5000)
    owner: Id | None = Field(None, description="User id of who works the deal; default: you")
    team: Id | None = Field(None, description="Team id; default: the owner's team that holds the customer")
    products: list[DealProductIn] | None = Field(None, max_length=200)


class DealPatch(Schema):
    name: str | None = Field(None, max_length=200)
    amount: Number | None = None
    currency: str | None = Field(None, max_length=3)
    expected_close: dt.date | None = None
    probability: int | None = Field(None, ge=0, le=100, description="null: back to the step's default")
    buying_stage: BuyingStageKey | None = None
    description: str | None = Field(None, max_length=5000)
    owner: Id | None = None
    team: Id | None = None
    products: list[DealProductIn] | None = Field(None, max_length=200, description="Replaces the deal's products")


class CustomerOut(Schema):
    id: int
    kind: str = Field(..., description='"organization" or "person"')
    name: str


class DealProductOut(Schema):
    product: int
    sku: str
    name: str
    quantity: str
    unit_price: str | None

    @staticmethod
    def of(line: DealProduct, currency: str) -> dict[str, Any]:
        return {"product": line.product_id, "sku": line.product.sku, "name": line.product.name,
                "quantity": _plain(line.quantity), "unit_price": _price(line.unit_price, currency)}


class DealOut(Schema):
    id: int
    name: str
    customer: CustomerOut
    step: str
    step_label: str
    step_entered_at: dt.datetime
    status: str = Field(..., description='"open", "won" or "lost"')
    amount: str
    currency: str
    probability: int | None = Field(..., description="The deal's own; null: the step's default")
    effective_probability: int
    weighted: str = Field(..., description="Amount × effective probability (0 once closed)")
    expected_close: dt.date | None
    buying_stage: str
    description: str
    owner: Ref
    team: Ref | None
    order: int | None
    closed_at: dt.datetime | None
    close_reason: str
    close_note: str
    followed_up_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int

    @staticmethod
    def of(deal: Deal) -> dict[str, Any]:
        """Needs the deal with ``card``, ``owner`` and ``team`` (``selectors.get_deal`` selects them)."""
        return {
            "id": deal.pk, "name": deal.name,
            "customer": {"id": deal.card_id, "kind": deal.card.kind, "name": deal.card.display_name},
            "step": deal.step, "step_label": content.step(deal.step).label, "step_entered_at": deal.step_entered_at,
            "status": deal.status, "amount": _money(deal.amount, deal.currency), "currency": deal.currency,
            "probability": deal.probability, "effective_probability": deal.effective_probability,
            "weighted": _money(deal.weighted, deal.currency), "expected_close": deal.expected_close,
            "buying_stage": deal.buying_stage, "description": deal.description,
            "owner": _ref(deal.owner_id, deal.owner),
            "team": {"id": deal.team_id, "name": deal.team.name} if deal.team_id and deal.team else None,
            "order": deal.order_id, "closed_at": deal.closed_at, "close_reason": deal.close_reason, "close_note": deal.close_note,
            "followed_up_at": deal.followed_up_at, "created_at": deal.created_at, "updated_at": deal.updated_at,
            "version": deal.version,
        }


class DealFilter(Schema):
    """The filters of a list of deals, for the API and the command line."""

    owner: int | None = Field(None, ge=1, le=MAX_ID, description="User id of who works the deal")
    team: int | None = Field(None, ge=1, le=MAX_ID)
    step: StepKey | None = None
    status: Literal["open", "won", "lost"] | None = None
    customer: int | None = Field(None, ge=1, le=MAX_ID, description="Card id of the customer")
    close_month: str | None = Field(None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="Expected close in this month (YYYY-MM)")

    def narrow(self, deals: QuerySet[Deal]) -> QuerySet[Deal]:
        """``deals`` (already the visible ones) narrowed to these filters."""
        if self.owner is not None:
            deals = deals.filter(owner_id=self.owner)
        if self.team is not None:
            deals = deals.filter(team_id=self.team)
        if self.step:
            deals = deals.filter(step=self.step)
        if self.status:
            deals = deals.filter(status=self.status)
        if self.customer is not None:
            deals = deals.filter(card_id=self.customer)
        if self.close_month:
            first = dt.date.fromisoformat(f"{self.close_month}-01")
            deals = deals.filter(expected_close__gte=first, expected_close__lt=(first + dt.timedelta(days=32)).replace(day=1))
        return deals


class DealList(Schema):
    items: list[DealOut]
    count: int


class ContactOut(Schema):
    id: int
    member: int = Field(..., description="The decision-unit member")
    person: Ref
    roles: list[str] = Field(..., description="Buying roles in this deal")
    role_labels: list[str]
    is_key: bool
    note: str
    stage: str = Field(..., description='Relationship stage; "" when unknown')
    style: str
    attitude: str
    influence: int

    @staticmethod
    def of(person: Any) -> dict[str, Any]:
        """From a ``selectors.Person``."""
        c = person.contact
        return {"id": c.pk, "member": c.member_id, "person": {"id": c.member.person_id, "name": person.name},
                "roles": person.roles, "role_labels": person.role_labels, "is_key": c.is_key, "note": c.note,
                "stage": person.stage, "style": person.style, "attitude": person.attitude, "influence": person.influence}


class ContactList(Schema):
    items: list[ContactOut]
    count: int


class WhoMattersOut(Schema):
    stage: str = Field(..., description="The customer's buying stage")
    role: str = Field(..., description="The buying role that matters at it")
    people: list[ContactOut] = Field(..., description="The deal's people holding that role")


class DealDetailOut(DealOut):
    products: list[DealProductOut]
    who_matters_now: WhoMattersOut | None = Field(..., description="null while the buying stage is unknown")
    warnings: list[str]


# --- steps -------------------------------------------------------------------------------------------


class StepIn(Schema):
    to: StepKey
    reason: str = Field("", max_length=1000)
    override_reason: str = Field("", max_length=1000, description="Moves forward although exit signals are missing")


class MissingItem(Schema):
    step: str
    key: str
    label: str


class ExitSignalsMissingOut(Schema):
    """Every 422 of a move, a close or a finish; ``missing`` only when exit signals are missing."""

    detail: list[dict[str, Any]]
    errors: dict[str, list[str]] | None = Field(None, description="Field → messages, when the refusal comes from the rules")
    missing: list[MissingItem] | None = Field(None, description="The exit signals not met, step by step")


class StepMoveOut(Schema):
    id: int
    from_step: str = Field(..., alias="from", description='"" for the deal\'s creation')
    to_step: str = Field(..., alias="to")
    who: Ref | None
    when: dt.datetime
    reason: str
    override_reason: str
    missing: list[str] = Field(..., description="Keys of the exit signals passed with the override reason")
    seconds_in_previous: int | None

    @staticmethod
    def of(move: StepMove) -> dict[str, Any]:
        return {"id": move.pk, "from": move.from_step, "to": move.to_step, "who": _ref(move.moved_by_id, move.moved_by),
                "when": move.moved_at, "reason": move.reason, "override_reason": move.override_reason,
                "missing": list(move.missing or []), "seconds_in_previous": move.seconds_in_previous}


class MoveResultOut(StepMoveOut):
    deal: DealOut


class StepHistoryOut(Schema):
    items: list[StepMoveOut]
    count: int
    seconds_in_steps: dict[str, int] = Field(..., description="Time spent in each step so far, the current one included")


class ExitItemOut(Schema):
    key: str
    label: str
    met: bool
    automatic: bool = Field(..., description="Read from the deal itself; only the others are ticked")

    @staticmethod
    def of(item: Any) -> dict[str, Any]:
        return {"key": item.key, "label": item.label, "met": item.met, "automatic": item.automatic}


class ChecklistOut(Schema):
    step: str
    label: str
    entry: str = Field(..., description="When a deal enters this step")
    exit: str = Field(..., description="When it may leave")
    actions: list[str]
    items: list[ExitItemOut]
    ready: bool = Field(..., description="Every exit signal is met")

    @staticmethod
    def of(step: str, items: list[Any]) -> dict[str, Any]:
        text = content.step(step)
        return {"step": step, "label": text.label, "entry": text.entry_label, "exit": text.exit_label,
                "actions": text.action_labels, "items": [ExitItemOut.of(i) for i in items], "ready": all(i.met for i in items)}


class SignalIn(Schema):
    checked: bool
    note: str = Field("", max_length=500)


class CloseIn(Schema):
    outcome: Literal["won", "lost"]
    reason: str = Field(..., max_length=40, description="A key of the reasons list of the outcome")
    note: str = Field("", max_length=1000)
    override_reason: str = Field("", max_length=1000, description="Wins although exit signals are missing")


class FinishIn(Schema):
    override_reason: str = Field("", max_length=1000, description="Finishes although not everything is paid")


class OrderCreatedOut(Schema):
    order: int
    deal: DealOut


# --- questions ---------------------------------------------------------------------------------------


class QuestionIn(Schema):
    key: QuestionKeyIn
    answer: Literal["", "yes", "no"] = Field(..., description='"" takes the answer back')
    justification: str = Field("", max_length=1000, description="Required with yes or no")


class QuestionOut(Schema):
    key: str
    label: str
    answer: str
    justification: str
    answered_by: Ref | None
    answered_at: dt.datetime | None

    @staticmethod
    def of(key: str, label: str, question: OpportunityQuestion | None) -> dict[str, Any]:
        if question is None:
            return {"key": key, "label": label, "answer": "", "justification": "", "answered_by": None, "answered_at": None}
        return {"key": key, "label": label, "answer": question.answer, "justification": question.justification,
                "answered_by": _ref(question.answered_by_id, question.answered_by), "answered_at": question.answered_at}


class QuestionList(Schema):
    items: list[QuestionOut]
    count: int
    all_yes: bool


# --- the deal's decision unit, needs, criteria, competitors ----------------------------------------------


class ContactIn(Schema):
    member: Id | None = Field(None, description="A member of the organisation's decision unit (or give `person`)")
    person: Id | None = Field(None, description="The person's card id, a member of the unit")
    roles: list[str] | None = Field(None, max_length=10, description="Buying roles in this deal")
    is_key: bool = True
    note: str = Field("", max_length=500)


class ContactPatch(Schema):
    roles: list[str] | None = Field(None, max_length=10)
    is_key: bool | None = None
    note: str | None = Field(None, max_length=500)


class NeedIn(Schema):
    kind: NeedKindIn
    text: str = Field(..., max_length=1000)


class NeedPatch(Schema):
    kind: NeedKindIn | None = None
    text: str | None = Field(None, max_length=1000)


class NeedOut(Schema):
    id: int
    kind: str
    text: str
    position: int
    created_at: dt.datetime

    @staticmethod
    def of(need: Need) -> dict[str, Any]:
        return {"id": need.pk, "kind": need.kind, "text": need.text, "position": need.position, "created_at": need.created_at}


class NeedList(Schema):
    items: list[NeedOut]
    count: int


class CriterionIn(Schema):
    name: str = Field(..., max_length=200)
    target: str = Field("", max_length=200, description='"≤ 48 h response", "≥ 5 years"')
    weight: int = Field(0, ge=0, le=100, description="Percent of the decision; all together at most 100")


class CriterionPatch(Schema):
    name: str | None = Field(None, max_length=200)
    target: str | None = Field(None, max_length=200)
    weight: int | None = Field(None, ge=0, le=100)


class CriterionOut(Schema):
    id: int
    name: str
    target: str
    weight: int
    position: int

    @staticmethod
    def of(c: Criterion) -> dict[str, Any]:
        return {"id": c.pk, "name": c.name, "target": c.target, "weight": c.weight, "position": c.position}


class CriterionList(Schema):
    items: list[CriterionOut]
    count: int
    total_weight: int


class CompetitorIn(Schema):
    name: str = Field(..., max_length=200)
    note: str = Field("", max_length=1000)


class CompetitorPatch(Schema):
    name: str | None = Field(None, max_length=200)
    note: str | None = Field(None, max_length=1000)


class PointIn(Schema):
    kind: Literal["strength", "weakness"]
    text: str = Field(..., max_length=500)
    need: Id | None = Field(None, description="A need of this deal it serves")
    contact: Id | None = Field(None, description="A person of this deal it affects")
    action: str = Field("", max_length=500, description="What we do about it with that person")


class PointOut(Schema):
    id: int
    kind: str
    text: str
    need: int | None
    contact: int | None
    action: str

    @staticmethod
    def of(p: CompetitivePoint) -> dict[str, Any]:
        return {"id": p.pk, "kind": p.kind, "text": p.text, "need": p.need_id, "contact": p.contact_id, "action": p.action}


class CompetitorOut(Schema):
    id: int
    name: str
    note: str
    points: list[PointOut]

    @staticmethod
    def of(c: Competitor, points: list[CompetitivePoint]) -> dict[str, Any]:
        return {"id": c.pk, "name": c.name, "note": c.note, "points": [PointOut.of(p) for p in points]}


class CompetitorList(Schema):
    items: list[CompetitorOut]
    count: int


# --- proposals ---------------------------------------------------------------------------------------


class QuoteLineIn(Schema):
    group: str = Field("", max_length=120, description="Hardware, installation, service…")
    product: ProductRef | None = Field(None, description="Product id or SKU; optional")
    description: str = Field("", max_length=300, description="Default: the product's name")
    quantity: Number = 1
    unit_price: Number | None = None
    discount: Number = Field(0, description="Percent, 0–100")


class ProposalIn(Schema):
    language: str | None = Field(None, max_length=10, description="Default: the latest version's, else the customer's")
    title: str | None = Field(None, max_length=200)
    background: str | None = Field(None, max_length=20000)
    problems: str | None = Field(None, max_length=20000)
    solution_overview: str | None = Field(None, max_length=20000)
    solution_products: str | None = Field(None, max_length=20000)
    implementation_plan: str | None = Field(None, max_length=20000)
    service: str | None = Field(None, max_length=20000)
    credentials: str | None = Field(None, max_length=20000)
    lines: list[QuoteLineIn] | None = Field(None, max_length=500, description="Default: the latest version's lines")


class QuoteLineOut(Schema):
    group: str
    position: int
    product: int | None
    description: str
    quantity: str
    unit_price: str
    discount: str
    amount: str

    @staticmethod
    def of(line: QuoteLine, currency: str) -> dict[str, Any]:
        return {"group": line.group, "position": line.position, "product": line.product_id, "description": line.description,
                "quantity": _plain(line.quantity), "unit_price": _price(line.unit_price, currency),
                "discount": _plain(line.discount), "amount": _money(line.amount, currency)}


class ProposalOut(Schema):
    id: int
    version: int
    language: str
    title: str
    background: str
    problems: str
    solution_overview: str
    solution_products: str
    implementation_plan: str
    service: str
    credentials: str
    currency: str
    total: str
    created_by: Ref | None
    created_at: dt.datetime
    lines: list[QuoteLineOut] | None = Field(None, description="With one version; left out of the list")

    @staticmethod
    def of(p: Proposal, lines: list[QuoteLine] | None = None) -> dict[str, Any]:
        texts = ("title", "background", "problems", "solution_overview", "solution_products", "implementation_plan", "service", "credentials")
        return {
            "id": p.pk, "version": p.version, "language": p.language, **{k: getattr(p, k) for k in texts},
            "currency": p.currency, "total": _money(p.total, p.currency), "created_by": _ref(p.created_by_id, p.created_by),
            "created_at": p.created_at, "lines": None if lines is None else [QuoteLineOut.of(ln, p.currency) for ln in lines],
        }


class ProposalList(Schema):
    items: list[ProposalOut]
    count: int


# --- negotiation -------------------------------------------------------------------------------------


class PlanIn(Schema):
    roles: str | None = Field(None, max_length=5000, description="Who does what on our side")
    bottom_line: Number | None = Field(None, description="In the deal's currency; null removes it")
    target: Number | None = None
    interests: list[str] | None = Field(None, max_length=10, description="The customer's interests, most important first")


class PlanOut(Schema):
    roles: str
    bottom_line: str | None
    target: str | None
    interests: list[str]
    updated_by: Ref | None
    updated_at: dt.datetime | None

    @staticmethod
    def of(plan: NegotiationPlan | None, currency: str) -> dict[str, Any]:
        if plan is None:
            return {"roles": "", "bottom_line": None, "target": None, "interests": [], "updated_by": None, "updated_at": None}
        return {"roles": plan.roles, "bottom_line": _money(plan.bottom_line, currency), "target": _money(plan.target, currency),
                "interests": list(plan.interests or []), "updated_by": _ref(plan.updated_by_id, plan.updated_by),
                "updated_at": plan.updated_at}


class EntryIn(Schema):
    kind: Literal["position", "trade", "concession", "agreed"]
    side: Literal["ours", "theirs"] = "ours"
    interest: InterestKey = Field("", description="The term it is about")
    text: str = Field(..., max_length=1000)
    value: Number | None = Field(None, description="A concession's worth, in the deal's currency")


class EntryOut(Schema):
    id: int
    kind: str
    side: str
    interest: str
    text: str
    value: str | None
    confirmed_at: dt.datetime | None
    confirmed_by: Ref | None
    created_by: Ref | None
    created_at: dt.datetime

    @staticmethod
    def of(e: NegotiationEntry, currency: str) -> dict[str, Any]:
        return {"id": e.pk, "kind": e.kind, "side": e.side, "interest": e.interest, "text": e.text,
                "value": _money(e.value, currency), "confirmed_at": e.confirmed_at,
                "confirmed_by": _ref(e.confirmed_by_id, e.confirmed_by), "created_by": _ref(e.created_by_id, e.created_by),
                "created_at": e.created_at}


class EntryCreatedOut(EntryOut):
    warnings: list[str] = Field(..., description="Concessions that do not shrink, or pass the bottom line")


class EntryList(Schema):
    items: list[EntryOut]
    count: int


# --- reports -----------------------------------------------------------------------------------------


class BucketOut(Schema):
    count: int
    amount: str
    weighted: str


class ForecastMonthOut(BucketOut):
    won_count: int
    won_amount: str


class ForecastSeriesOut(Schema):
    months: dict[str, ForecastMonthOut]
    overdue: BucketOut = Field(..., description="Open, expected to close before the first month")
    no_date: BucketOut
    later: BucketOut = Field(..., description="Open, expected to close after the last month")
    open: BucketOut = Field(..., description="Every open deal")
    won_count: int
    won_amount: str


class ForecastOut(Schema):
    start: str
    months: list[str]
    currencies: list[str]
    series: dict[str, ForecastSeriesOut] = Field(..., description="One series per currency; currencies are never added up")


class StepAmountOut(Schema):
    count: int
    amount: str


class PipelineStepOut(Schema):
    label: str
    count: int
    by_currency: dict[str, StepAmountOut]


class ConversionOut(Schema):
    from_step: str = Field(..., alias="from")
    to_step: str = Field(..., alias="to")
    entered: int
    converted: int
    rate: float | None


class TimeInStepOut(Schema):
    moves: int
    average_days: float | None


class LostReasonOut(Schema):
    reason: str
    label: str
    count: int


class PipelineOut(Schema):
    since: str | None
    until: str | None
    steps: dict[str, PipelineStepOut] = Field(..., description="Open deals per step now")
    conversion: list[ConversionOut]
    time_in_step: dict[str, TimeInStepOut]
    won: int
    lost: int
    win_rate: float | None
    lost_reasons: list[LostReasonOut]
