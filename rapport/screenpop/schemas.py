"""Request and response shapes of the screen pop API (``POST /api/v1/screen-pop``).

Every name starts with ``Pop``: the OpenAPI components of all apps share one namespace.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field

from rapport.screenpop.selectors import Customer360, Lookup


class ScreenPopIn(Schema):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is refused, not ignored

    phone: str | None = Field(None, max_length=60, description="The caller's number in any format: +34 612 34 56 78, 0034…, 612345678")
    name: str | None = Field(None, max_length=200, description="A name, when there is no number")
    card: int | None = Field(None, ge=1, le=2**62, description="One card of a previous answer's candidates")
    region: str | None = Field(None, min_length=2, max_length=2, description="Country of a number without a country code; default: yours")


class PopPhoneOut(Schema):
    e164: str
    kind: str


class PopCandidateOut(Schema):
    id: int
    kind: str
    name: str
    owner: str
    tier: str
    stage: str
    phones: list[PopPhoneOut]
    works_at: list[str]

    @staticmethod
    def of(card: Any, companies: list[Any]) -> dict[str, Any]:
        return {"id": card.pk, "kind": card.kind, "name": card.display_name, "owner": card.owner.get_username(),
                "tier": card.tier, "stage": card.lifecycle_stage,
                "phones": [{"e164": p.e164, "kind": p.kind} for p in card.phones.all()],
                "works_at": [c.name for c in companies]}


class PopCompanyOut(Schema):
    id: int
    name: str
    title: str


class PopPersonOut(Schema):
    id: int
    name: str
    title: str
    level: str
    function: str


class PopRelationshipOut(Schema):
    stage: str = Field(..., description="acquainted, engaged, trusted, ally; empty when not set")
    stage_label: str
    style: str = Field(..., description="analytical, amiable, expressive, driver; empty when not known")
    style_label: str
    how_to_open: str
    emphasise: str
    avoid: str
    next_step: str


class PopContactOut(Schema):
    id: int
    kind: str
    occurred_at: dt.datetime
    summary: str
    recorded_by: str


class PopDealOut(Schema):
    id: int
    name: str
    customer: int
    step: str
    amount: Decimal
    currency: str
    expected_close: dt.date | None
    owner: str


class PopOrderOut(Schema):
    id: int
    customer: int
    ordered_on: dt.date
    status: str
    total: Decimal
    currency: str


class PopProductOut(Schema):
    id: int
    name: str
    orders: int
    quantity: Decimal
    last_on: dt.date


class PopInvoiceOut(Schema):
    id: int
    customer: int
    number: str
    due_on: dt.date
    open_amount: Decimal
    currency: str
    days_overdue: int
    cell: str = Field(..., description="Collection-matrix cell of an overdue invoice: short_small, short_large, long_small, long_large; empty when not due")
    cell_label: str


class PopOverdueOut(Schema):
    currency: str
    amount: Decimal


class PopCreditOut(Schema):
    status: str
    limit: Decimal | None
    currency: str


class PopPromiseOut(Schema):
    id: int
    customer: int
    by: str = Field(..., description="us or them")
    text: str
    due_on: dt.date | None


class PopComplaintOut(Schema):
    id: int
    customer: int
    kind: str
    subject: str
    opened_at: dt.datetime
    due_on: dt.date | None


class PopWarningOut(Schema):
    organization: int
    organization_name: str
    code: str
    message: str


class PopTaskOut(Schema):
    id: int
    title: str
    due_on: dt.date


class PopCustomerOut(Schema):
    id: int
    kind: str
    name: str
    local_name: str
    owner: str
    team: str
    tier: str
    stage: str
    phones: list[PopPhoneOut]
    emails: list[str]
    best_time: str
    works_at: list[PopCompanyOut]
    people: list[PopPersonOut]
    relationship: PopRelationshipOut | None
    last_contacts: list[PopContactOut]
    open_deals: list[PopDealOut]
    orders: list[PopOrderOut]
    products: list[PopProductOut]
    receivables: list[PopInvoiceOut]
    overdue: list[PopOverdueOut]
    credit: PopCreditOut | None
    promises: list[PopPromiseOut]
    complaints: list[PopComplaintOut]
    warnings: list[PopWarningOut]
    follow_ups: list[PopTaskOut]

    @staticmethod
    def of(c: Customer360) -> dict[str, Any]:
        card = c.card
        rel = c.relationship
        return {
            "id": card.pk, "kind": card.kind, "name": card.display_name, "local_name": card.local_name,
            "owner": card.owner.get_username(), "team": card.team.name if card.team else "", "tier": card.tier,
            "stage": card.lifecycle_stage,
            "phones": [{"e164": p.e164, "kind": p.kind} for p in card.phones.all()],
            "emails": [e.address for e in card.emails.all()],
            "best_time": c.best_time,
            "works_at": [{"id": co.id, "name": co.name, "title": co.title} for co in c.companies],
            "people": [{"id": j.person_id, "name": j.person.display_name, "title": j.title, "level": j.level, "function": j.function}
                       for j in c.people],
            "relationship": None if rel is None else {
                "stage": rel.stage, "stage_label": rel.stage_label, "style": rel.style, "style_label": rel.style_label,
                "how_to_open": rel.how_to_open, "emphasise": rel.emphasise, "avoid": rel.avoid, "next_step": rel.next_step},
            "last_contacts": [{"id": a.pk, "kind": a.kind, "occurred_at": a.occurred_at, "summary": a.summary,
                               "recorded_by": a.recorded_by.get_username()} for a in c.contacts],
            "open_deals": [{"id": d.pk, "name": d.name, "customer": d.card_id, "step": d.step, "amount": d.amount,
                            "currency": d.currency, "expected_close": d.expected_close, "owner": d.owner.get_username()}
                           for d in c.deals],
            "orders": [{"id": o.pk, "customer": o.card_id, "ordered_on": o.ordered_on, "status": o.status, "total": o.total,
                        "currency": o.currency} for o in c.orders],
            "products": [{"id": p.product_id, "name": p.name, "orders": p.orders, "quantity": p.quantity, "last_on": p.last_on}
                         for p in c.products],
            "receivables": [{"id": r.invoice.pk, "customer": r.invoice.card_id, "number": r.invoice.external_id,
                             "due_on": r.invoice.due_on, "open_amount": r.invoice.open_amount, "currency": r.invoice.currency,
                             "days_overdue": r.days_overdue, "cell": r.cell, "cell_label": r.cell_label} for r in c.receivables],
            "overdue": [{"currency": cur, "amount": amount} for cur, amount in c.overdue],
            "credit": None if c.credit is None else {"status": c.credit.status, "limit": c.credit.limit, "currency": c.credit.currency},
            "promises": [{"id": p.pk, "customer": p.card_id, "by": p.by, "text": p.text, "due_on": p.due_on} for p in c.promises],
            "complaints": [{"id": s.pk, "customer": s.card_id, "kind": s.kind, "subject": s.subject, "opened_at": s.opened_at,
                            "due_on": s.due_on} for s in c.complaints],
            "warnings": [{"organization": w.organization_id, "organization_name": w.organization, "code": w.code,
                          "message": w.message} for w in c.warnings],
            "follow_ups": [{"id": t.pk, "title": t.title, "due_on": t.due_on} for t in c.tasks],
        }


class ScreenPopOut(Schema):
    by: str = Field(..., description="phone, name or card")
    number: str | None = Field(None, description="The number as read, in E.164 (look-ups by phone)")
    region: str
    matches: int = Field(..., description="0: unknown caller; 1: the customer is filled in; more: pick one of the candidates")
    candidates: list[PopCandidateOut]
    customer: PopCustomerOut | None

    @staticmethod
    def of(lookup: Lookup, customer: Customer360 | None) -> dict[str, Any]:
        return {
            "by": lookup.by, "number": lookup.query if lookup.by == "phone" else None, "region": lookup.region,
            "matches": len(lookup.cards),
            "candidates": [PopCandidateOut.of(card, lookup.companies.get(card.pk, [])) for card in lookup.cards],
            "customer": PopCustomerOut.of(customer) if customer is not None else None,
        }
