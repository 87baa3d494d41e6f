"""REST endpoints of the commercial record: products and prices, orders, invoices, payments,
account statements, credit, receivables and collection work.

Every record answers 404 to a user who may not see its customer, exactly like a missing one.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from django.core.serializers.json import DjangoJSONEncoder
from django.http import FileResponse, HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from rapport.cards import selectors as cards
from rapport.cards.models import Kind
from rapport.commerce import collection, money, selectors, services
from rapport.commerce.models import Cell, PriceList
from rapport.commerce.schemas import (
    AccountCheckFullOut,
    AccountCheckIn,
    AgingRowOut,
    ApprovalIn,
    CreditApplyIn,
    CreditIn,
    CreditOut,
    InvoiceIn,
    InvoiceOut,
    MatrixOut,
    NonPaymentIn,
    OrderIn,
    OrderOut,
    OrderPatch,
    PaymentIn,
    PaymentOut,
    PaymentPlanIn,
    PaymentPlanOut,
    PolicyIn,
    PriceIn,
    PriceListIn,
    PriceListOut,
    PriceOut,
    ProductIn,
    ProductOut,
    ProductPatch,
    StatementOut,
    AllocationIn,
    AllocationOut,
    TaskDoneIn,
    TaskOut,
)
from rapport.core.errors import NotFound, PermissionDenied, ValidationError
from rapport.core.http import AuthedHttpRequest, if_match_version
from rapport.core.pagination import PageParams

router = Router(tags=["commerce"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

KindPath = Literal["organizations", "people"]
KIND_OF = {"organizations": Kind.ORGANIZATION, "people": Kind.PERSON}


def _customer(request: AuthedHttpRequest, card_id: int, field: str = "customer") -> Any:
    """A customer named in a request body: unknown and invisible read the same."""
    try:
        return cards.get_card(request.user, card_id)
    except NotFound:
        raise ValidationError.single(field, "No such customer.") from None


def _page(qs: Any, page: PageParams, of: Any) -> dict[str, Any]:
    offset, limit = page.clamp()
    return {"items": [of(obj) for obj in qs[offset : offset + limit]], "count": qs.count()}


# --- products and prices -----------------------------------------------------------------------------


class ProductList(Schema):
    items: list[ProductOut]
    count: int


class ProductFilter(Schema):
    ours: bool | None = None
    active: bool | None = True
    q: str = Field("", max_length=100)


@router.get("/products", response=ProductList, summary="Products, ours and competitors'")
def list_products(request: AuthedHttpRequest, flt: Query[ProductFilter], page: Query[PageParams]) -> dict[str, Any]:
    return _page(selectors.products(ours=flt.ours, active=flt.active, q=flt.q), page, ProductOut.of)


@router.post("/products", response={201: ProductOut}, summary="Create a product (managers and admins)")
def create_product(request: AuthedHttpRequest, payload: ProductIn) -> Status:
    return Status(201, ProductOut.of(services.create_product(user=request.user, data=payload.dict())))


@router.get("/products/export", summary="Download the products as CSV or XLSX (re-importable with --kind products)")
def export_products(request: AuthedHttpRequest, format: Literal["csv", "xlsx"] = "csv") -> FileResponse:
    import tempfile

    from rapport.imports import services as imports

    # Before "/products/{product_id}", which would otherwise take "export" for an id.
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    try:
        imports.export_records(user=request.user, kind="products", fmt=format, stream=spool, channel="api")
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    content_type = "text/csv; charset=utf-8" if format == "csv" else XLSX
    return FileResponse(spool, content_type=content_type, as_attachment=True, filename=f"rapport-products.{format}")


@router.get("/products/{product_id}", response=ProductOut, summary="One product")
def get_product(request: AuthedHttpRequest, product_id: int) -> dict[str, Any]:
    return ProductOut.of(selectors.get_product(product_id))


@router.patch("/products/{product_id}", response=ProductOut, summary="Change a product (If-Match: its version)")
def patch_product(request: AuthedHttpRequest, response: HttpResponse, product_id: int, payload: ProductPatch) -> dict[str, Any]:
    product = services.update_product(user=request.user, product=selectors.get_product(product_id),
                                      data=payload.dict(exclude_unset=True), expected_version=if_match_version(request))
    response["ETag"] = f'"{product.version}"'
    return ProductOut.of(product)


class PriceListList(Schema):
    items: list[PriceListOut]
    count: int


@router.get("/price-lists", response=PriceListList, summary="Price lists")
def list_price_lists(request: AuthedHttpRequest, page: Query[PageParams]) -> dict[str, Any]:
    return _page(PriceList.objects.order_by("currency", "-valid_from", "id"), page, lambda p: p)


@router.post("/price-lists", response={201: PriceListOut}, summary="Create a price list (managers and admins)")
def create_price_list(request: AuthedHttpRequest, payload: PriceListIn) -> Status:
    return Status(201, services.create_price_list(user=request.user, data=payload.dict()))


@router.put("/price-lists/{list_id}/prices/{product_id}", response=PriceOut, summary="Set a product's price and resale policy")
def put_price(request: AuthedHttpRequest, list_id: int, product_id: int, payload: PriceIn) -> dict[str, Any]:
    price_list = PriceList.objects.filter(pk=list_id).first()
    if price_list is None:
        raise NotFound("price list")
    price = services.set_price(user=request.user, price_list=price_list, product=selectors.get_product(product_id),
                               data=payload.dict())
    return PriceOut.of(price)


# --- orders ------------------------------------------------------------------------------------------


class OrderList(Schema):
    items: list[OrderOut]
    count: int


class RecordFilter(Schema):
    customer: int | None = None
    currency: str = Field("", max_length=3)
    date_from: dt.date | None = None
    date_to: dt.date | None = None


class OrderFilter(RecordFilter):
    status: Literal["", "draft", "confirmed", "delivered", "cancelled"] = ""
    approval: Literal["", "pending", "approved", "refused"] = ""


def _narrow(qs: Any, flt: RecordFilter, date_field: str) -> Any:
    if flt.customer is not None:
        qs = qs.filter(card_id=flt.customer)
    if flt.currency:
        qs = qs.filter(currency=flt.currency.upper())
    if flt.date_from:
        qs = qs.filter(**{f"{date_field}__gte": flt.date_from})
    if flt.date_to:
        qs = qs.filter(**{f"{date_field}__lte": flt.date_to})
    return qs


@router.get("/orders", response=OrderList, summary="Orders of the customers you may see, newest first")
def list_orders(request: AuthedHttpRequest, flt: Query[OrderFilter], page: Query[PageParams]) -> dict[str, Any]:
    qs = _narrow(selectors.visible_orders(request.user), flt, "ordered_on")
    if flt.status:
        qs = qs.filter(status=flt.status)
    if flt.approval:
        qs = qs.filter(approval=flt.approval)
    return _page(qs.order_by("-ordered_on", "-id"), page, OrderOut.of)


@router.post("/orders", response={201: OrderOut}, summary="Record an order with its lines")
def create_order(request: AuthedHttpRequest, response: HttpResponse, payload: OrderIn) -> Status:
    """An order over the customer's credit limit, or for a customer on hold, is kept with
    ``approval: "pending"`` and counts only once a manager approves it."""
    card = _customer(request, payload.customer)
    data = payload.dict()
    data["lines"] = [line.dict() for line in payload.lines]
    order = services.create_order(user=request.user, card=card, data=data)
    response["ETag"] = f'"{order.version}"'
    return Status(201, OrderOut.of(order, selectors.order_lines(order)))


@router.get("/orders/{order_id}", response=OrderOut, summary="One order with its lines")
def get_order(request: AuthedHttpRequest, response: HttpResponse, order_id: int) -> dict[str, Any]:
    order = selectors.get_order(request.user, order_id)
    response["ETag"] = f'"{order.version}"'
    return OrderOut.of(order, selectors.order_lines(order))


@router.patch("/orders/{order_id}", response=OrderOut, summary="Change status, delivery and acceptance dates (If-Match)")
def patch_order(request: AuthedHttpRequest, response: HttpResponse, order_id: int, payload: OrderPatch) -> dict[str, Any]:
    order = services.change_order(user=request.user, order=selectors.get_order(request.user, order_id),
                                  data=payload.dict(exclude_unset=True), expected_version=if_match_version(request))
    response["ETag"] = f'"{order.version}"'
    return OrderOut.of(order, selectors.order_lines(order))


@router.post("/orders/{order_id}/approval", response=OrderOut, summary="A manager approves or refuses an order held for credit")
def decide_order(request: AuthedHttpRequest, order_id: int, payload: ApprovalIn) -> dict[str, Any]:
    order = services.decide_order(user=request.user, order=selectors.get_order(request.user, order_id),
                                  approve=payload.approve, note=payload.note)
    return OrderOut.of(order)


# --- invoices and payments ---------------------------------------------------------------------------


class InvoiceList(Schema):
    items: list[InvoiceOut]
    count: int


class InvoiceFilter(RecordFilter):
    kind: Literal["", "invoice", "credit_note"] = ""
    open: bool | None = None
    overdue: bool | None = Field(None, description="Open and past due today")


@router.get("/invoices", response=InvoiceList, summary="Invoices and credit notes of the customers you may see")
def list_invoices(request: AuthedHttpRequest, flt: Query[InvoiceFilter], page: Query[PageParams]) -> dict[str, Any]:
    qs = _narrow(selectors.visible_invoices(request.user), flt, "issued_on")
    if flt.kind:
        qs = qs.filter(kind=flt.kind)
    if flt.open is not None:
        qs = qs.filter(is_open=flt.open)
    if flt.overdue:
        qs = qs.filter(is_open=True, due_on__lt=dt.date.today())
    return _page(qs.order_by("-issued_on", "-id"), page, InvoiceOut.of)


@router.post("/invoices", response={201: InvoiceOut}, summary="Record an invoice or a credit note")
def create_invoice(request: AuthedHttpRequest, payload: InvoiceIn) -> Status:
    card = _customer(request, payload.customer)
    order = None
    if payload.order is not None:
        try:
            order = selectors.get_order(request.user, payload.order)
        except NotFound:
            raise ValidationError.single("order", "No such order.") from None
    invoice = services.create_invoice(user=request.user, card=card, order=order, data=payload.dict(exclude={"customer", "order"}))
    return Status(201, InvoiceOut.of(invoice))


@router.get("/invoices/{invoice_id}", response=InvoiceOut, summary="One invoice or credit note")
def get_invoice(request: AuthedHttpRequest, invoice_id: int) -> dict[str, Any]:
    return InvoiceOut.of(selectors.get_invoice(request.user, invoice_id))


class AllocationList(Schema):
    items: list[AllocationOut]
    count: int


@router.get("/invoices/{invoice_id}/allocations", response=AllocationList, summary="Payments and credit notes set against an invoice")
def invoice_allocations(request: AuthedHttpRequest, invoice_id: int) -> dict[str, Any]:
    found = selectors.allocations_of_invoice(selectors.get_invoice(request.user, invoice_id))
    return {"items": [AllocationOut.of(a) for a in found], "count": len(found)}


@router.put("/invoices/{invoice_id}/non-payment", response=InvoiceOut, summary="Record why an overdue invoice is not paid")
def put_non_payment(request: AuthedHttpRequest, invoice_id: int, payload: NonPaymentIn) -> dict[str, Any]:
    invoice = services.set_non_payment(user=request.user, invoice=selectors.get_invoice(request.user, invoice_id),
                                       cause=payload.cause, note=payload.note)
    return InvoiceOut.of(invoice)


def _invoice_in_body(request: AuthedHttpRequest, invoice_id: int) -> Any:
    try:
        return selectors.get_invoice(request.user, invoice_id)
    except NotFound:
        raise ValidationError.single("invoice", "No such invoice.") from None


@router.post("/invoices/{credit_note_id}/apply", response=AllocationOut, summary="Use a credit note against an invoice")
def apply_credit_note(request: AuthedHttpRequest, credit_note_id: int, payload: CreditApplyIn) -> dict[str, Any]:
    allocation = services.apply_credit_note(
        user=request.user, credit_note=selectors.get_invoice(request.user, credit_note_id),
        invoice=_invoice_in_body(request, payload.invoice), amount=payload.amount,
    )
    return AllocationOut.of(allocation)


class PaymentList(Schema):
    items: list[PaymentOut]
    count: int


class PaymentFilter(RecordFilter):
    kind: Literal["", "payment", "advance", "deposit"] = ""
    unallocated: bool | None = Field(None, description="Only payments with money not yet allocated")


@router.get("/payments", response=PaymentList, summary="Payments, advances and deposits of the customers you may see")
def list_payments(request: AuthedHttpRequest, flt: Query[PaymentFilter], page: Query[PageParams]) -> dict[str, Any]:
    qs = _narrow(selectors.visible_payments(request.user), flt, "received_on")
    if flt.kind:
        qs = qs.filter(kind=flt.kind)
    if flt.unallocated:
        qs = qs.filter(unallocated__gt=0)
    return _page(qs.order_by("-received_on", "-id"), page, PaymentOut.of)


@router.post("/payments", response={201: PaymentOut}, summary="Record a payment, an advance or a deposit, with allocations")
def create_payment(request: AuthedHttpRequest, payload: PaymentIn) -> Status:
    card = _customer(request, payload.customer)
    data = payload.dict(exclude={"customer"})
    data["allocations"] = [a.dict() for a in payload.allocations]
    return Status(201, PaymentOut.of(services.record_payment(user=request.user, card=card, data=data)))


@router.get("/payments/{payment_id}", response=PaymentOut, summary="One payment")
def get_payment(request: AuthedHttpRequest, payment_id: int) -> dict[str, Any]:
    return PaymentOut.of(selectors.get_payment(request.user, payment_id))


@router.post("/payments/{payment_id}/allocations", response={201: AllocationOut}, summary="Set part of a payment against an invoice")
def allocate(request: AuthedHttpRequest, payment_id: int, payload: AllocationIn) -> Status:
    allocation = services.allocate_payment(user=request.user, payment=selectors.get_payment(request.user, payment_id),
                                           invoice=_invoice_in_body(request, payload.invoice), amount=payload.amount)
    return Status(201, AllocationOut.of(allocation))


# --- a customer's account and credit -----------------------------------------------------------------


class StatementParams(Schema):
    currency: str = Field("", max_length=3)
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    format: Literal["json", "pdf", "xlsx"] = "json"


def statement_out(statement: selectors.Statement) -> dict[str, Any]:
    check = statement.last_check
    cur = statement.currency

    def m(value: Any) -> str:
        return money.text(value, cur) or "0"

    return {
        "customer": statement.card.pk, "currency": statement.currency, "currencies": statement.currencies,
        "date_from": statement.date_from, "date_to": statement.date_to, "opening_balance": m(statement.opening_balance),
        "invoiced": m(statement.invoiced), "paid": m(statement.paid), "balance": m(statement.balance),
        "overdue": m(statement.overdue), "advances": m(statement.advances), "deposits": m(statement.deposits),
        "aging": {k: m(v) for k, v in statement.aging.items()},
        "last_reconciled": None if check is None else {
            "as_of": check.as_of, "outstanding": m(check.outstanding), "confirmed": check.confirmed,
            "confirmed_by": check.confirmed_by, "difference": m(check.difference),
        },
        "lines": [
            {"date": ln.date, "kind": ln.kind, "number": ln.number, "due_on": ln.due_on, "debit": m(ln.debit),
             "credit": m(ln.credit), "balance": m(ln.balance),
             "open_amount": None if ln.open_amount is None else m(ln.open_amount), "overdue_days": ln.overdue_days,
             "id": ln.record_id}
            for ln in statement.lines
        ],
    }


@router.get("/{kind}/{card_id}/account", response=StatementOut, summary="The account statement (JSON, PDF or XLSX)")
def account(request: AuthedHttpRequest, kind: KindPath, card_id: int, params: Query[StatementParams]) -> Any:
    """Opening balance, invoices, credit notes, payments, advances and deposits with the running
    balance, and what is overdue. ``format=pdf`` or ``xlsx`` answers the printable document."""
    card = cards.get_card(request.user, card_id, KIND_OF[kind])
    if params.date_from and params.date_to and params.date_from > params.date_to:
        raise ValidationError.single("date_from", "The period starts after it ends.")
    statement = selectors.account_statement(card, currency=params.currency.upper() or None, date_from=params.date_from,
                                            date_to=params.date_to)
    if params.format == "json":
        # Written straight out: a long account (thousands of lines) spent three times as long
        # in re-validating the answer against its own schema as in reading it.
        return HttpResponse(json.dumps(statement_out(statement), cls=DjangoJSONEncoder), content_type="application/json")
    from rapport.commerce import documents
    from rapport.audit.services import record

    language = getattr(request, "LANGUAGE_CODE", "en")
    if params.format == "pdf":
        body, content_type, suffix = documents.statement_pdf(statement, language), "application/pdf", "pdf"
    else:
        body = documents.statement_xlsx(statement, language)
        content_type, suffix = XLSX, "xlsx"
    record(action="export", record=card, actor=request.user, detail={"document": "statement", "format": suffix})
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="statement-{card.pk}-{statement.currency or "none"}.{suffix}"'
    return response


def _credit_out(card: Any) -> dict[str, Any]:
    profile = selectors.credit_of(card)
    currency = profile.currency if profile and profile.currency else None
    return CreditOut.of(profile, services.exposure(card, currency) if currency else None)


@router.get("/{kind}/{card_id}/credit", response=CreditOut, summary="Credit limit, status and current exposure")
def get_credit(request: AuthedHttpRequest, kind: KindPath, card_id: int) -> dict[str, Any]:
    return _credit_out(cards.get_card(request.user, card_id, KIND_OF[kind]))


@router.put("/{kind}/{card_id}/credit", response=CreditOut, summary="Set credit limit and status (managers, admins)")
def put_credit(request: AuthedHttpRequest, kind: KindPath, card_id: int, payload: CreditIn) -> dict[str, Any]:
    card = cards.get_card(request.user, card_id, KIND_OF[kind])
    services.set_credit(user=request.user, card=card, data=payload.dict(exclude_unset=True), expected_version=if_match_version(request))
    return _credit_out(card)


class PlanList(Schema):
    items: list[PaymentPlanOut]
    count: int


def _plan_out(plan: Any) -> dict[str, Any]:
    return {
        "id": plan.pk, "customer": plan.card_id, "currency": plan.currency, "total": money.text(plan.total, plan.currency), "agreed_on": plan.agreed_on,
        "invoices": sorted(i.pk for i in plan.invoices.all()), "note": plan.note,
        "instalments": [{"due_on": i.due_on, "amount": money.text(i.amount, plan.currency), "paid_on": i.paid_on} for i in plan.instalments.all()],
    }


@router.get("/{kind}/{card_id}/payment-plans", response=PlanList, summary="The customer's payment plans")
def list_plans(request: AuthedHttpRequest, kind: KindPath, card_id: int) -> dict[str, Any]:
    plans = collection.plans_of(request.user, cards.get_card(request.user, card_id, KIND_OF[kind]))
    return {"items": [_plan_out(p) for p in plans], "count": len(plans)}


@router.post("/{kind}/{card_id}/payment-plans", response={201: PaymentPlanOut}, summary="Agree a payment plan (managers, admins)")
def create_plan(request: AuthedHttpRequest, kind: KindPath, card_id: int, payload: PaymentPlanIn) -> Status:
    card = cards.get_card(request.user, card_id, KIND_OF[kind])
    data = payload.dict()
    data["instalments"] = [i.dict() for i in payload.instalments]
    return Status(201, _plan_out(collection.create_payment_plan(user=request.user, card=card, data=data)))


class CheckList(Schema):
    items: list[AccountCheckFullOut]
    count: int


def _check_out(c: Any) -> dict[str, Any]:
    return {
        "id": c.pk, "customer": c.card_id, "as_of": c.as_of, "currency": c.currency, "outstanding": money.text(c.outstanding, c.currency),
        "advances": money.text(c.advances, c.currency), "deposits": money.text(c.deposits, c.currency), "confirmed": c.confirmed, "confirmed_by": c.confirmed_by,
        "difference": money.text(c.difference, c.currency), "note": c.note,
    }


@router.get("/{kind}/{card_id}/account-checks", response=CheckList, summary="Reconciliations with the customer")
def list_checks(request: AuthedHttpRequest, kind: KindPath, card_id: int) -> dict[str, Any]:
    checks = collection.checks_of(request.user, cards.get_card(request.user, card_id, KIND_OF[kind]))
    return {"items": [_check_out(c) for c in checks], "count": len(checks)}


@router.post("/{kind}/{card_id}/account-checks", response={201: AccountCheckFullOut}, summary="Record an account check")
def create_check(request: AuthedHttpRequest, kind: KindPath, card_id: int, payload: AccountCheckIn) -> Status:
    card = cards.get_card(request.user, card_id, KIND_OF[kind])
    return Status(201, _check_out(collection.record_account_check(user=request.user, card=card, data=payload.dict())))


# --- receivables and collection ----------------------------------------------------------------------


class ReceivablesParams(Schema):
    as_of: dt.date | None = None
    team: int | None = None
    rep: int | None = None
    segment: int | None = None


@router.get("/reports/receivables", response=MatrixOut, summary="The collection matrix and the aging of open invoices")
def receivables(request: AuthedHttpRequest, params: Query[ReceivablesParams]) -> dict[str, Any]:
    """Every overdue invoice sits in exactly one cell (days overdue × amount, with the thresholds
    of its customer's team and currency); amounts are per currency."""
    matrix = selectors.receivables_matrix(request.user, as_of=params.as_of, team=params.team, rep=params.rep, segment=params.segment)
    return {
        "as_of": matrix.as_of,
        "cells": [
            {"cell": key, "action": str(Cell(key).label), "count": total.count,
             "amounts": {cur: money.text(v, cur) for cur, v in sorted(total.amounts.items())}}
            for key, total in matrix.cells.items()
        ],
        "aging": {b: {cur: money.text(v, cur) for cur, v in sorted(row.items())} for b, row in matrix.aging.items()},
        "aging_counts": matrix.aging_counts,
    }


class AgingList(Schema):
    items: list[AgingRowOut]
    count: int


@router.get("/reports/aging", response=AgingList, summary="Open receivables per customer, team or rep in aging buckets")
def aging(request: AuthedHttpRequest, by: Literal["customer", "team", "rep"] = "customer", as_of: dt.date | None = None) -> dict[str, Any]:
    rows = selectors.aging_by(request.user, by=by, as_of=as_of)
    items = [
        {"key": r["key"], "currency": r["currency"], "current": money.text(r["current"], r["currency"]), "days_1_30": money.text(r["1_30"], r["currency"]),
         "days_31_60": money.text(r["31_60"], r["currency"]), "days_61_90": money.text(r["61_90"], r["currency"]), "over_90": money.text(r["over_90"], r["currency"]), "total": money.text(r["total"], r["currency"])}
        for r in rows
    ]
    return {"items": items, "count": len(items)}


class TaskList(Schema):
    items: list[TaskOut]
    count: int


@router.get("/collection/tasks", response=TaskList, summary="Open collection work on customers you may see")
def list_tasks(request: AuthedHttpRequest, page: Query[PageParams], mine: bool = False) -> dict[str, Any]:
    return _page(collection.tasks_for(request.user, assigned_only=mine), page, TaskOut.of)


@router.post("/collection/tasks/{task_id}/done", response=TaskOut, summary="Mark a collection task done, with its outcome")
def task_done(request: AuthedHttpRequest, task_id: int, payload: TaskDoneIn) -> dict[str, Any]:
    task = collection.complete_task(user=request.user, task=collection.get_task(request.user, task_id), outcome=payload.outcome)
    return TaskOut.of(task)


class RunOut(Schema):
    created: int
    closed: int


@router.post("/collection/run", response=RunOut, summary="Turn the matrix's cells into tasks (administrators)")
def run_collection(request: AuthedHttpRequest, as_of: dt.date | None = None) -> dict[str, int]:
    if request.user.role != "admin" and not request.user.is_superuser:
        raise PermissionDenied("Only administrators run collection for everyone.")
    return collection.generate_tasks(as_of=as_of)


class PolicyOut(Schema):
    team: int | None
    currency: str
    long_after_days: int
    large_from: str


@router.put("/collection/policies", response=PolicyOut, summary="Set the matrix thresholds for a team (or all) and a currency")
def put_policy(request: AuthedHttpRequest, payload: PolicyIn) -> dict[str, Any]:
    team = None
    if payload.team is not None:
        from rapport.accounts.models import Team

        team = Team.objects.filter(pk=payload.team).first()
        if team is None:
            raise ValidationError.single("team", "No such team.")
    policy = services.set_collection_policy(user=request.user, team=team, currency=payload.currency,
                                            long_after_days=payload.long_after_days, large_from=payload.large_from)
    return {"team": policy.team_id, "currency": policy.currency, "long_after_days": policy.long_after_days,
            "large_from": money.text(policy.large_from, policy.currency)}
