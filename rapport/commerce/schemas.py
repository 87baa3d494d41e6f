"""API schemas of the commercial record. Amounts travel as decimal strings ("1234.50"), never
floats, so no cent is lost; inputs also take numbers and are checked by the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from rapport.commerce import money
from rapport.commerce.models import Allocation, CollectionTask, CreditProfile, Invoice, Order, OrderLine, Payment, Price, Product

Number = int | float | str
Text = str


def _money(value: Decimal | None, currency: str = "") -> str | None:
    return money.text(value, currency)


class ProductIn(Schema):
    sku: Text = Field(..., max_length=64)
    name: Text = Field(..., max_length=200)
    names: dict[str, str] = Field(default_factory=dict, description='Names in "es", "zh-hans", "ro"')
    category: Text = Field("", max_length=120)
    brand: Text = Field("", max_length=120)
    unit: Text = Field("unit", max_length=20)
    unit_cost: Decimal | None = Field(None, description="What one unit costs us, in the reporting currency")
    is_ours: bool = True
    active: bool = True


class ProductPatch(Schema):
    sku: Text | None = Field(None, max_length=64)
    name: Text | None = Field(None, max_length=200)
    names: dict[str, str] | None = None
    category: Text | None = Field(None, max_length=120)
    brand: Text | None = Field(None, max_length=120)
    unit: Text | None = Field(None, max_length=20)
    unit_cost: Decimal | None = Field(None, description="What one unit costs us, in the reporting currency")
    is_ours: bool | None = None
    active: bool | None = None


class ProductOut(Schema):
    id: int
    sku: str
    name: str
    names: dict[str, str]
    category: str
    brand: str
    unit: str
    unit_cost: Decimal | None
    is_ours: bool
    active: bool
    version: int

    @staticmethod
    def of(p: Product) -> dict[str, Any]:
        return {k: getattr(p, k) for k in ("id", "sku", "name", "names", "category", "brand", "unit", "unit_cost", "is_ours",
                                           "active", "version")}


class PriceListIn(Schema):
    name: Text = Field(..., max_length=120)
    currency: Text = Field(..., max_length=3)
    valid_from: dt.date
    valid_until: dt.date | None = None


class PriceListOut(Schema):
    id: int
    name: str
    currency: str
    valid_from: dt.date
    valid_until: dt.date | None


class PriceIn(Schema):
    list_price: Number
    purchase_price: Number | None = None
    min_retail: Number | None = None
    max_retail: Number | None = None
    recommended_retail: Number | None = None


class PriceOut(Schema):
    price_list: int
    currency: str
    product: int
    sku: str
    list_price: str
    purchase_price: str | None
    min_retail: str | None
    max_retail: str | None
    recommended_retail: str | None

    @staticmethod
    def of(p: Price) -> dict[str, Any]:
        return {
            "price_list": p.price_list_id, "currency": p.price_list.currency, "product": p.product_id, "sku": p.product.sku,
            **{k: _money(getattr(p, k), p.price_list.currency) for k in ("list_price", "purchase_price", "min_retail", "max_retail", "recommended_retail")},
        }


class LineIn(Schema):
    product: int | Text | None = Field(None, description="Product id or SKU; optional")
    description: Text = Field("", max_length=300)
    quantity: Number = 1
    unit_price: Number | None = Field(None, description="Default: the product's list price in the order's currency")
    discount: Number = Field(0, description="Percent, 0–100")
    amount: Number | None = Field(None, description="Line total, when the unit price is not known")


class OrderIn(Schema):
    customer: int = Field(..., description="Id of the organisation or person card")
    currency: Text = Field(..., max_length=3)
    ordered_on: dt.date | None = None
    status: Literal["draft", "confirmed", "delivered", "cancelled"] = "confirmed"
    external_id: Text = Field("", max_length=100)
    delivered_on: dt.date | None = None
    accepted_on: dt.date | None = None
    note: Text = Field("", max_length=500)
    lines: list[LineIn] = Field(..., max_length=500)


class OrderPatch(Schema):
    status: Literal["draft", "confirmed", "delivered", "cancelled"] | None = None
    delivered_on: dt.date | None = None
    accepted_on: dt.date | None = None
    note: Text | None = Field(None, max_length=500)


class ApprovalIn(Schema):
    approve: bool
    note: Text = Field("", max_length=500)


class LineOut(Schema):
    product: int | None
    sku: str | None
    description: str
    quantity: str
    unit_price: str
    discount: str
    amount: str

    @staticmethod
    def of(line: OrderLine, currency: str = "") -> dict[str, Any]:
        return {
            "product": line.product_id, "sku": line.product.sku if line.product_id and line.product else None,
            "description": line.description, "quantity": str(line.quantity), "unit_price": str(line.unit_price),
            "discount": str(line.discount.normalize()), "amount": _money(line.amount, currency),
        }


class OrderOut(Schema):
    id: int
    customer: int
    external_id: str
    status: str
    currency: str
    ordered_on: dt.date
    delivered_on: dt.date | None
    accepted_on: dt.date | None
    total: str
    note: str
    approval: str = Field(..., description='"" (not needed), "pending", "approved" or "refused"')
    approval_reason: str
    version: int
    lines: list[LineOut] | None = None

    @staticmethod
    def of(o: Order, lines: list[OrderLine] | None = None) -> dict[str, Any]:
        return {
            "id": o.pk, "customer": o.card_id, "external_id": o.external_id, "status": o.status, "currency": o.currency,
            "ordered_on": o.ordered_on, "delivered_on": o.delivered_on, "accepted_on": o.accepted_on,
            "total": _money(o.total, o.currency), "note": o.note, "approval": o.approval, "approval_reason": o.approval_reason,
            "version": o.version, "lines": [LineOut.of(ln, o.currency) for ln in lines] if lines is not None else None,
        }


class InvoiceIn(Schema):
    customer: int
    kind: Literal["invoice", "credit_note"] = "invoice"
    order: int | None = None
    external_id: Text = Field("", max_length=100)
    currency: Text | None = Field(None, max_length=3, description="Default: the order's")
    issued_on: dt.date | None = None
    due_on: dt.date | None = None
    amount: Number | None = Field(None, description="Default: the order's total")
    note: Text = Field("", max_length=500)


class InvoiceOut(Schema):
    id: int
    customer: int
    kind: str
    order: int | None
    external_id: str
    currency: str
    issued_on: dt.date
    due_on: dt.date
    amount: str
    open_amount: str
    is_open: bool
    non_payment: str
    non_payment_note: str
    version: int

    @staticmethod
    def of(i: Invoice) -> dict[str, Any]:
        return {
            "id": i.pk, "customer": i.card_id, "kind": i.kind, "order": i.order_id, "external_id": i.external_id,
            "currency": i.currency, "issued_on": i.issued_on, "due_on": i.due_on, "amount": _money(i.amount, i.currency),
            "open_amount": _money(i.open_amount, i.currency), "is_open": i.is_open, "non_payment": i.non_payment,
            "non_payment_note": i.non_payment_note, "version": i.version,
        }


class NonPaymentIn(Schema):
    cause: Literal["", "fraud", "our_fault", "unwilling"]
    note: Text = Field("", max_length=500)


class CreditApplyIn(Schema):
    invoice: int
    amount: Number


class AllocationIn(Schema):
    invoice: int
    amount: Number


class PaymentIn(Schema):
    customer: int
    kind: Literal["payment", "advance", "deposit"] = "payment"
    external_id: Text = Field("", max_length=100)
    currency: Text = Field(..., max_length=3)
    received_on: dt.date | None = None
    amount: Number
    method: Text = Field("", max_length=40)
    note: Text = Field("", max_length=500)
    allocations: list[AllocationIn] = Field(default_factory=list, max_length=500)


class AllocationOut(Schema):
    invoice: int
    payment: int | None
    credit_note: int | None
    amount: str

    @staticmethod
    def of(a: Allocation) -> dict[str, Any]:
        return {"invoice": a.invoice_id, "payment": a.payment_id, "credit_note": a.credit_note_id, "amount": _money(a.amount, a.invoice.currency)}


class PaymentOut(Schema):
    id: int
    customer: int
    kind: str
    external_id: str
    currency: str
    received_on: dt.date
    amount: str
    unallocated: str
    method: str
    note: str

    @staticmethod
    def of(p: Payment) -> dict[str, Any]:
        return {
            "id": p.pk, "customer": p.card_id, "kind": p.kind, "external_id": p.external_id, "currency": p.currency,
            "received_on": p.received_on, "amount": _money(p.amount, p.currency), "unallocated": _money(p.unallocated, p.currency), "method": p.method,
            "note": p.note,
        }


class CreditIn(Schema):
    status: Literal["ok", "watch", "hold"] | None = None
    limit: Number | None = Field(None, description="Empty or null removes the limit")
    currency: Text | None = Field(None, max_length=3)
    reason: Text = Field("", max_length=500)


class CreditOut(Schema):
    status: str
    limit: str | None
    currency: str
    reason: str
    set_by: str | None
    set_at: dt.datetime | None
    exposure: str | None
    version: int

    @staticmethod
    def of(p: CreditProfile | None, exposure: Decimal | None) -> dict[str, Any]:
        if p is None:
            return {"status": "ok", "limit": None, "currency": "", "reason": "", "set_by": None, "set_at": None,
                    "exposure": None, "version": 0}
        return {
            "status": p.status, "limit": _money(p.limit, p.currency), "currency": p.currency, "reason": p.reason,
            "set_by": p.set_by.username if p.set_by_id and p.set_by else None, "set_at": p.set_at,
            "exposure": _money(exposure, p.currency), "version": p.version,
        }


class StatementLineOut(Schema):
    date: dt.date
    kind: str
    number: str
    due_on: dt.date | None
    debit: str
    credit: str
    balance: str
    open_amount: str | None
    overdue_days: int
    id: int


class AccountCheckOut(Schema):
    as_of: dt.date
    outstanding: str
    confirmed: bool
    confirmed_by: str
    difference: str


class StatementOut(Schema):
    customer: int
    currency: str
    currencies: list[str]
    date_from: dt.date | None
    date_to: dt.date
    opening_balance: str
    invoiced: str
    paid: str
    balance: str
    overdue: str
    advances: str
    deposits: str
    aging: dict[str, str]
    last_reconciled: AccountCheckOut | None
    lines: list[StatementLineOut]


class CellOut(Schema):
    cell: str
    action: str
    count: int
    amounts: dict[str, str]


class MatrixOut(Schema):
    as_of: dt.date
    cells: list[CellOut]
    aging: dict[str, dict[str, str]]
    aging_counts: dict[str, int]


class AgingRowOut(Schema):
    key: int | None
    currency: str
    current: str
    days_1_30: str
    days_31_60: str
    days_61_90: str
    over_90: str
    total: str


class TaskOut(Schema):
    id: int
    invoice: int
    customer: int
    cell: str
    action: str
    assigned_to: str | None
    letter: str
    language: str
    created_at: dt.datetime
    done_at: dt.datetime | None
    outcome: str

    @staticmethod
    def of(t: CollectionTask) -> dict[str, Any]:
        return {
            "id": t.pk, "invoice": t.invoice_id, "customer": t.invoice.card_id, "cell": t.cell, "action": t.get_cell_display(),
            "assigned_to": t.assigned_to.username if t.assigned_to_id and t.assigned_to else None, "letter": t.letter,
            "language": t.language, "created_at": t.created_at, "done_at": t.done_at, "outcome": t.outcome,
        }


class TaskDoneIn(Schema):
    outcome: Text = Field(..., max_length=500)


class InstalmentIn(Schema):
    due_on: dt.date
    amount: Number


class PaymentPlanIn(Schema):
    invoices: list[int] = Field(..., max_length=500)
    agreed_on: dt.date | None = None
    instalments: list[InstalmentIn] = Field(..., max_length=120)
    note: Text = Field("", max_length=500)


class InstalmentOut(Schema):
    due_on: dt.date
    amount: str
    paid_on: dt.date | None


class PaymentPlanOut(Schema):
    id: int
    customer: int
    currency: str
    total: str
    agreed_on: dt.date
    invoices: list[int]
    instalments: list[InstalmentOut]
    note: str


class AccountCheckIn(Schema):
    currency: Text = Field(..., max_length=3)
    as_of: dt.date | None = None
    customer_balance: Number | None = Field(None, description="The balance the customer's books show, if it differs")
    confirmed: bool = False
    confirmed_by: Text = Field("", max_length=200)
    note: Text = Field("", max_length=1000)


class AccountCheckFullOut(Schema):
    id: int
    customer: int
    as_of: dt.date
    currency: str
    outstanding: str
    advances: str
    deposits: str
    confirmed: bool
    confirmed_by: str
    difference: str
    note: str


class PolicyIn(Schema):
    team: int | None = None
    currency: Text = Field(..., max_length=3)
    long_after_days: int
    large_from: Number
