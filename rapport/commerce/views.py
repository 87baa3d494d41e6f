"""Commerce pages: order, invoice and payment entry, the account statement and its documents,
receivables and collection work, credit decisions, and the product catalogue.

Views parse with the forms, act through ``services`` and ``collection``, read through
``selectors``; amounts are formatted here with ``money.format_money`` so templates only print.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Case, F, Sum, Value, When
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapport.accounts.models import Team, User
from rapport.cards import selectors as cards
from rapport.cards.forms import add_service_errors
from rapport.cards.models import Card
from rapport.commerce import collection, documents, selectors, services
from rapport.commerce.forms import (
    AccountCheckForm,
    ApplyCreditForm,
    CreditForm,
    DecisionForm,
    InvoiceForm,
    NonPaymentForm,
    OrderForm,
    OrderStatusForm,
    PaymentForm,
    PaymentPlanForm,
    PriceForm,
    PriceListForm,
    ProductFilterForm,
    ProductForm,
    ReceivablesFilterForm,
    StatementFilterForm,
    TaskDoneForm,
    allocation_rows,
    as_text,
    instalment_rows,
    is_blank_line,
    order_lines,
)
from rapport.commerce.models import (
    Approval,
    Cell,
    InvoiceKind,
    Order,
    OrderStatus,
    PaymentKind,
    PriceList,
    Product,
)
from rapport.commerce.money import format_money, reporting_currency
from rapport.core.errors import Conflict, PermissionDenied, ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.visibility import scope_for
from rapport.core.web import web_view

BLANK_LINES = 4  # empty line rows on a new order; more are added with the "Add a line" button
AGING_LABELS = {
    "current": gettext_lazy("Not yet due"),
    "1_30": gettext_lazy("1–30 days"),
    "31_60": gettext_lazy("31–60 days"),
    "61_90": gettext_lazy("61–90 days"),
    "over_90": gettext_lazy("Over 90 days"),
}
# The matrix as the seeds draw it: rows by how long overdue, columns by how much.
MATRIX_ROWS = (
    (gettext_lazy("Short overdue"), (Cell.SHORT_SMALL, Cell.SHORT_LARGE)),
    (gettext_lazy("Long overdue"), (Cell.LONG_SMALL, Cell.LONG_LARGE)),
)
CELL_HINTS = {
    Cell.SHORT_SMALL: gettext_lazy("Finance sends the reminder letter."),
    Cell.SHORT_LARGE: gettext_lazy("The rep visits to collect."),
    Cell.LONG_SMALL: gettext_lazy("The manager takes over collection."),
    Cell.LONG_LARGE: gettext_lazy("Rep and management agree a payment plan."),
}
KIND_LABELS = {**dict(InvoiceKind.choices), **dict(PaymentKind.choices)}


def doc_name(record: Any) -> str:
    """How a document is named to people: its own number, else its kind and date (never a row id)."""
    if record.external_id:
        return str(record.external_id)
    if isinstance(record, Order):
        return _("Order of %(date)s") % {"date": record.ordered_on.isoformat()}
    return _("%(kind)s of %(date)s") % {"kind": record.get_kind_display(), "date": record.issued_on.isoformat()}


def _today() -> dt.date:
    return timezone.localdate()


def _require_write(user: User, card: Card) -> None:
    if not services.may_write(user, card):
        raise PermissionDenied(_("Your role may read the commercial record but not change it."))


def _amounts(amounts: dict[str, Decimal]) -> list[str]:
    return [format_money(value, currency) for currency, value in sorted(amounts.items())]


def _open_invoice_choices(user: User, card: Card, currency: str | None = None) -> list[tuple[int, str]]:
    qs = selectors.open_invoices(user, card=card.pk).order_by("due_on", "id")
    if currency:
        qs = qs.filter(currency=currency)
    return [
        (inv.pk, _("%(number)s · due %(due)s · %(open)s open") % {
            "number": doc_name(inv), "due": inv.due_on.isoformat(), "open": format_money(inv.open_amount, inv.currency)})
        for inv in qs[:200]
    ]


# --- orders --------------------------------------------------------------------------------------


@dataclass
class LineRow:
    """One line of the order form as the rep typed it, with what the page says about it."""

    product: str = ""
    quantity: str = "1"
    unit_price: str = ""
    discount: str = ""
    product_name: str = ""
    price_note: str = ""
    errors: list[str] | None = None


def _resolve_product(text: str) -> str:
    """A SKU for what was typed: the SKU itself, or the one active product whose name matches it.
    Anything else is passed on unchanged for the service to refuse with its own message."""
    if not text or selectors.products(active=None).filter(sku=text).exists():
        return text
    found = list(selectors.products(ours=True, active=True, q=text)[:2])
    return found[0].sku if len(found) == 1 else text


def _unknown_product(text: str) -> str:
    return _("No product matches “%(text)s”: type its SKU or pick it from the list.") % {"text": text[:64]}


def _product_options() -> list[Product]:
    return list(selectors.products(active=True, ours=True)[:1000])


def _order_form_context(card: Card, form: OrderForm, rows: list[LineRow]) -> dict[str, Any]:
    return {"card": card, "form": form, "rows": rows, "products": _product_options()}


@require_http_methods(["GET", "POST"])
@web_view
def order_new(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    card = cards.get_card(request.user, card_id)
    _require_write(request.user, card)
    if request.method == "GET":
        currencies = selectors.statement_currencies(card)
        form = OrderForm(initial={"currency": currencies[0] if currencies else reporting_currency(), "ordered_on": _today()})
        return render(request, "commerce/order_form.html", _order_form_context(card, form, [LineRow() for _i in range(BLANK_LINES)]))
    form = OrderForm(request.POST)
    raw = order_lines(request.POST)
    rows = [LineRow(product=r["product"], quantity=r["quantity"] or "1", unit_price=r["unit_price"], discount=r["discount"])
            for r in raw]
    used = [i for i, r in enumerate(raw) if not is_blank_line(r)]
    if form.is_valid():
        data: dict[str, Any] = {k: as_text(v) for k, v in form.cleaned_data.items()}
        data["lines"] = [{"product": _resolve_product(raw[i]["product"]), "quantity": raw[i]["quantity"] or "1",
                          "unit_price": raw[i]["unit_price"], "discount": raw[i]["discount"]} for i in used]
        try:
            order = services.create_order(user=request.user, card=card, data=data)
        except ValidationError as exc:
            _line_errors(form, exc, rows, used)
        else:
            if order.approval == Approval.PENDING:
                messages.warning(request, _("Order saved. It waits for a manager's credit approval: %(reason)s") % {"reason": order.approval_reason})
            else:
                messages.success(request, _("Order saved."))
            return redirect("commerce-order", order.pk)
    return render(request, "commerce/order_form.html", _order_form_context(card, form, rows), status=422)


def _line_errors(form: OrderForm, exc: ValidationError, rows: list[LineRow], used: list[int]) -> None:
    """Puts ``lines[2].quantity`` on the third row that was filled in, the rest on the form."""
    rest: dict[str, list[str]] = {}
    for key, msgs in exc.errors.items():
        match = re.match(r"lines\[(\d+)\]", key)
        if match and int(match.group(1)) < len(used):
            row = rows[used[int(match.group(1))]]
            if key.endswith(".product"):
                msgs = [_unknown_product(row.product)]
            row.errors = (row.errors or []) + msgs
        else:
            rest[key] = msgs
    if "lines" in rest:
        rest["__all__"] = rest.pop("lines")
    add_service_errors(form, rest)
    if any(r.errors for r in rows) and not form.errors:
        form.add_error(None, _("Check the marked lines."))


@require_GET
@web_view
def order_line(request: AuthedHttpRequest) -> HttpResponse:
    """One line row: empty (the "Add a line" button), or with the product's list price filled in."""
    row = LineRow(product=request.GET.get("line_product", "").strip()[:64],
                  quantity=request.GET.get("line_quantity", "1").strip()[:20] or "1",
                  unit_price=request.GET.get("line_unit_price", "").strip()[:30],
                  discount=request.GET.get("line_discount", "").strip()[:10])
    if row.product:
        try:
            product = services.find_product(_resolve_product(row.product))
        except ValidationError:
            row.errors = [_unknown_product(row.product)]
        else:
            row.product, row.product_name = product.sku, product.name
            currency = request.GET.get("currency", "").strip().upper()[:3]
            try:
                on = dt.date.fromisoformat(request.GET.get("ordered_on", "")[:10])
            except ValueError:
                on = _today()
            price = services.price_for(product, currency, on) if currency else None
            if price is not None:
                row.unit_price = format(price.list_price.normalize(), "f")
                row.price_note = _("from %(list)s") % {"list": price.price_list.name}
            else:
                row.price_note = _("No list price in %(currency)s: enter the unit price.") % {"currency": currency or "—"}
    return render(request, "commerce/_order_line.html", {"row": row})


def _order_context(request: AuthedHttpRequest, order: Order, **forms: Any) -> dict[str, Any]:
    user = request.user
    lines = [
        {"line": ln, "unit_price": format_money(ln.unit_price, order.currency), "amount": format_money(ln.amount, order.currency)}
        for ln in selectors.order_lines(order)
    ]
    invoices = [
        {"invoice": inv, "amount": format_money(inv.amount, inv.currency), "open": format_money(inv.open_amount, inv.currency)}
        for inv in selectors.visible_invoices(user).filter(order=order).order_by("issued_on", "id")
    ]
    can_write = services.may_write(user, order.card)
    pending = order.approval == Approval.PENDING
    return {
        "owed": _owed(user, [order.card_id]).get((order.card_id, order.currency)) if pending else None,
        "credit": _credit_view(selectors.credit_of(order.card)) if pending else None,
        "order": order,
        "card": order.card,
        "lines": lines,
        "total": format_money(order.total, order.currency),
        "invoices": invoices,
        "can_write": can_write,
        "can_change": can_write and bool(services.ALLOWED_STATUS[OrderStatus(order.status)]),
        "can_decide": pending and services.may_approve(user, order.card),
        "pending": pending,
        "status_form": forms.get("status_form") or OrderStatusForm(initial={
            "status": order.status, "delivered_on": order.delivered_on, "accepted_on": order.accepted_on, "version": order.version}),
        "status_choices": [(order.status, order.get_status_display())] + [
            (s, OrderStatus(s).label) for s in services.ALLOWED_STATUS[OrderStatus(order.status)]],
        "decision_form": forms.get("decision_form") or DecisionForm(),
    }


@require_GET
@web_view
def order_detail(request: AuthedHttpRequest, order_id: int) -> HttpResponse:
    order = selectors.get_order(request.user, order_id)
    return render(request, "commerce/order_detail.html", _order_context(request, order))


@require_POST
@web_view
def order_status(request: AuthedHttpRequest, order_id: int) -> HttpResponse:
    order = selectors.get_order(request.user, order_id)
    _require_write(request.user, order.card)
    form = OrderStatusForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        data = {"status": d["status"], "delivered_on": as_text(d["delivered_on"]), "accepted_on": as_text(d["accepted_on"])}
        try:
            services.change_order(user=request.user, order=order, data=data, expected_version=d.get("version"))
        except ValidationError as exc:
            add_service_errors(form, exc.errors)
        except Conflict as exc:
            form.add_error(None, str(exc))
    if form.errors:
        return render(request, "commerce/order_detail.html", _order_context(request, order, status_form=form), status=422)
    messages.success(request, _("Order updated."))
    return redirect("commerce-order", order.pk)


@require_POST
@web_view
def order_decide(request: AuthedHttpRequest, order_id: int) -> HttpResponse:
    order = selectors.get_order(request.user, order_id)
    form = DecisionForm(request.POST)
    back_to_list = request.POST.get("back") == "approvals"
    if form.is_valid():
        try:
            services.decide_order(user=request.user, order=order, approve=form.cleaned_data["decision"] == "approve",
                                  note=form.cleaned_data["note"])
        except ValidationError as exc:
            add_service_errors(form, exc.errors)
    if form.errors:
        if back_to_list:
            for msgs in form.errors.values():
                for message in msgs:
                    messages.error(request, f"{doc_name(order)}: {message}")
            return redirect("commerce-approvals")
        return render(request, "commerce/order_detail.html", _order_context(request, order, decision_form=form), status=422)
    messages.success(request, _("Order approved.") if form.cleaned_data["decision"] == "approve" else _("Order refused."))
    return redirect("commerce-approvals") if back_to_list else redirect("commerce-order", order.pk)


def _owed(user: User, card_ids: list[int]) -> dict[tuple[int, str], dict[str, Any]]:
    """What each customer owes and how much of it is overdue, per currency, in one query:
    what a manager weighs before approving an order on credit."""
    today = _today()
    rows = (
        selectors.open_invoices(user).filter(card_id__in=card_ids).values("card_id", "currency")
        .annotate(owed=Sum("open_amount"), late=Sum(Case(When(due_on__lt=today, then=F("open_amount")), default=Value(Decimal(0)))))
        .order_by()
    )
    return {(r["card_id"], r["currency"]): {"owed": format_money(r["owed"], r["currency"]), "late": format_money(r["late"], r["currency"]),
                                             "has_late": bool(r["late"])}
            for r in rows}


def _credit_view(credit: Any) -> dict[str, str] | None:
    if credit is None:
        return None
    return {"status": str(credit.get_status_display()), "reason": credit.reason,
            "limit": format_money(credit.limit, credit.currency) if credit.limit is not None else ""}


@require_GET
@web_view
def approvals(request: AuthedHttpRequest) -> HttpResponse:
    orders = list(selectors.pending_approvals(request.user).select_related("card__credit")[:200])
    owed = _owed(request.user, [o.card_id for o in orders])
    rows = [
        {"order": o, "total": format_money(o.total, o.currency), "can_decide": services.may_approve(request.user, o.card),
         "owed": owed.get((o.card_id, o.currency)), "credit": _credit_view(getattr(o.card, "credit", None))}
        for o in orders
    ]
    return render(request, "commerce/approvals.html", {"rows": rows, "tab": "approvals"})


# --- invoices, credit notes and payments ---------------------------------------------------------


def _order_choices(user: User, card: Card) -> list[tuple[int, str]]:
    orders = selectors.visible_orders(user).filter(card=card).exclude(status=OrderStatus.CANCELLED).order_by("-ordered_on", "-id")
    return [(o.pk, f"{doc_name(o)} · {format_money(o.total, o.currency)}") for o in orders[:100]]


@require_http_methods(["GET", "POST"])
@web_view
def invoice_new(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    user = request.user
    card = cards.get_card(user, card_id)
    _require_write(user, card)
    kind = request.POST.get("kind") or request.GET.get("kind") or InvoiceKind.INVOICE
    if kind not in InvoiceKind.values:
        kind = InvoiceKind.INVOICE
    orders = _order_choices(user, card)
    if request.method == "GET":
        currencies = selectors.statement_currencies(card)
        order_id = request.GET.get("order", "")
        initial: dict[str, Any] = {"kind": kind, "issued_on": _today(), "due_on": _today() + dt.timedelta(days=30),
                                   "currency": currencies[0] if currencies else reporting_currency()}
        if order_id.isdigit() and int(order_id) in dict(orders):
            order = selectors.get_order(user, order_id)
            initial.update({"order": order.pk, "currency": order.currency, "amount": order.total})
        form = InvoiceForm(initial=initial, orders=orders)
        return render(request, "commerce/invoice_form.html", {"card": card, "form": form, "kind": kind})
    form = InvoiceForm(request.POST, orders=orders)
    if form.is_valid():
        d = form.cleaned_data
        for_order: Order | None = selectors.get_order(user, d["order"]) if d["order"] else None
        data = {k: as_text(v) for k, v in d.items() if k != "order"}
        try:
            invoice = services.create_invoice(user=user, card=card, data=data, order=for_order)
        except ValidationError as exc:
            add_service_errors(form, exc.errors)
        else:
            messages.success(request, _("Credit note saved.") if invoice.is_credit_note else _("Invoice saved."))
            return redirect("commerce-invoice", invoice.pk)
    return render(request, "commerce/invoice_form.html", {"card": card, "form": form, "kind": kind}, status=422)


def _invoice_context(request: AuthedHttpRequest, invoice: Any, **forms: Any) -> dict[str, Any]:
    user = request.user
    cur = invoice.currency
    today = _today()
    can_write = services.may_write(user, invoice.card)
    overdue_days = (today - invoice.due_on).days if invoice.is_open and not invoice.is_credit_note else 0
    # A credit note's own allocations point at the invoices it reduced; an invoice's at what paid it.
    found = (list(invoice.credit_allocations.select_related("invoice").order_by("created_at", "id"))
             if invoice.is_credit_note else selectors.allocations_of_invoice(invoice))
    allocations = [{"allocation": a, "amount": format_money(a.amount, cur)} for a in found]
    context: dict[str, Any] = {
        "invoice": invoice,
        "card": invoice.card,
        "amount": format_money(invoice.amount, cur),
        "open": format_money(invoice.open_amount, cur),
        "overdue_days": max(overdue_days, 0),
        "allocations": allocations,
        "can_write": can_write,
    }
    if can_write and invoice.is_credit_note and invoice.is_open:
        context["apply_form"] = forms.get("apply_form") or ApplyCreditForm(
            invoices=_open_invoice_choices(user, invoice.card, cur))
    if can_write and overdue_days > 0:
        context["cause_form"] = forms.get("cause_form") or NonPaymentForm(
            initial={"cause": invoice.non_payment, "note": invoice.non_payment_note})
    return context


@require_GET
@web_view
def invoice_detail(request: AuthedHttpRequest, invoice_id: int) -> HttpResponse:
    invoice = selectors.get_invoice(request.user, invoice_id)
    return render(request, "commerce/invoice_detail.html", _invoice_context(request, invoice))


@require_POST
@web_view
def invoice_apply(request: AuthedHttpRequest, invoice_id: int) -> HttpResponse:
    """Uses part of a credit note against one of the customer's open invoices."""
    user = request.user
    note = selectors.get_invoice(user, invoice_id)
    _require_write(user, note.card)
    form = ApplyCreditForm(request.POST, invoices=_open_invoice_choices(user, note.card, note.currency))
    if form.is_valid():
        try:
            target = selectors.get_invoice(user, form.cleaned_data["invoice"])
            services.apply_credit_note(user=user, credit_note=note, invoice=target, amount=as_text(form.cleaned_data["amount"]))
        except ValidationError as exc:
            add_service_errors(form, exc.errors)
    if form.errors:
        return render(request, "commerce/invoice_detail.html", _invoice_context(request, note, apply_form=form), status=422)
    messages.success(request, _("Credit note applied."))
    return redirect("commerce-invoice", note.pk)


@require_POST
@web_view
def invoice_cause(request: AuthedHttpRequest, invoice_id: int) -> HttpResponse:
    invoice = selectors.get_invoice(request.user, invoice_id)
    _require_write(request.user, invoice.card)
    form = NonPaymentForm(request.POST)
    if form.is_valid():
        try:
            services.set_non_payment(user=request.user, invoice=invoice, cause=form.cleaned_data["cause"], note=form.cleaned_data["note"])
        except ValidationError as exc:
            add_service_errors(form, exc.errors)
    if form.errors:
        return render(request, "commerce/invoice_detail.html", _invoice_context(request, invoice, cause_form=form), status=422)
    messages.success(request, _("Cause of non-payment saved."))
    return redirect("commerce-invoice", invoice.pk)


def _payment_context(user: User, card: Card, form: PaymentForm, entered: dict[str, str]) -> dict[str, Any]:
    rows = [
        {"invoice": inv, "open": format_money(inv.open_amount, inv.currency), "late": inv.due_on < _today(),
         "value": entered.get(str(inv.pk), "")}
        for inv in selectors.open_invoices(user, card=card.pk).order_by("due_on", "id")[:200]
    ]
    return {"card": card, "form": form, "rows": rows}


@require_http_methods(["GET", "POST"])
@web_view
def payment_new(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    user = request.user
    card = cards.get_card(user, card_id)
    _require_write(user, card)
    if request.method == "GET":
        currencies = selectors.statement_currencies(card)
        form = PaymentForm(initial={"kind": PaymentKind.PAYMENT, "received_on": _today(),
                                    "currency": currencies[0] if currencies else reporting_currency()})
        return render(request, "commerce/payment_form.html", _payment_context(user, card, form, {}))
    form = PaymentForm(request.POST)
    pairs = allocation_rows(request.POST)
    if form.is_valid():
        data: dict[str, Any] = {k: as_text(v) for k, v in form.cleaned_data.items()}
        data["allocations"] = [{"invoice": invoice, "amount": amount} for invoice, amount in pairs]
        try:
            services.record_payment(user=user, card=card, data=data)
        except ValidationError as exc:
            add_service_errors(form, exc.errors, aliases={"allocations": "__all__"})
        else:
            messages.success(request, _("Payment recorded."))
            return redirect("commerce-statement", card.pk)
    return render(request, "commerce/payment_form.html", _payment_context(user, card, form, dict(pairs)), status=422)


@require_http_methods(["GET", "POST"])
@web_view
def credit_edit(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    """A customer's credit limit and status, set by a manager of its team or an administrator."""
    user = request.user
    card = cards.get_card(user, card_id)
    if not services.may_approve(user, card):
        raise PermissionDenied(_("Only a manager of this customer's team or an administrator sets credit."))
    profile = selectors.credit_of(card)
    if request.method == "GET":
        initial: dict[str, Any] = {"status": "ok", "currency": reporting_currency()}
        if profile is not None:
            initial = {"status": profile.status, "limit": profile.limit, "currency": profile.currency or reporting_currency(),
                       "reason": profile.reason, "version": profile.version}
        return render(request, "commerce/credit_form.html", {"card": card, "form": CreditForm(initial=initial), "profile": profile})
    form = CreditForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        data = {"status": d["status"], "limit": as_text(d["limit"]), "currency": d["currency"], "reason": d["reason"]}
        try:
            services.set_credit(user=user, card=card, data=data, expected_version=d.get("version") if profile else None)
        except ValidationError as exc:
            add_service_errors(form, exc.errors)
        except Conflict as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Credit saved."))
            return redirect(reverse("card-detail", args=[card.pk]) + "#account")
    return render(request, "commerce/credit_form.html", {"card": card, "form": form, "profile": profile}, status=422)


# --- the account statement -----------------------------------------------------------------------


def _statement(request: AuthedHttpRequest, card: Card) -> tuple[StatementFilterForm, Any]:
    """The statement the GET parameters ask for, or ``None`` with the form's errors."""
    currencies = selectors.statement_currencies(card)
    form = StatementFilterForm(request.GET or None, currencies=currencies)
    if form.is_bound and not form.is_valid():
        return form, None
    d = form.cleaned_data if form.is_bound else {}
    statement = selectors.account_statement(card, currency=d.get("currency") or None, date_from=d.get("date_from"),
                                            date_to=d.get("date_to"))
    return form, statement


def statement_rows(statement: Any, language: str | None = None) -> list[dict[str, Any]]:
    """The statement's lines as printed: labels translated, amounts formatted."""
    cur = statement.currency
    return [
        {
            "line": ln,
            "kind": KIND_LABELS.get(ln.kind, ln.kind),
            "is_invoice": ln.kind in InvoiceKind.values,
            # A document without a number of its own has only its row id, which means nothing to a customer.
            "number": "" if ln.number.startswith("#") else ln.number,
            "partly_open": ln.open_amount is not None and 0 < ln.open_amount < (ln.debit or ln.credit),
            "debit": format_money(ln.debit, cur, language) if ln.debit else "",
            "credit": format_money(ln.credit, cur, language) if ln.credit else "",
            "balance": format_money(ln.balance, cur, language),
            "open": format_money(ln.open_amount, cur, language) if ln.open_amount else "",
        }
        for ln in statement.lines
    ]


def statement_summary(statement: Any, language: str | None = None) -> dict[str, str]:
    cur = statement.currency
    return {key: format_money(getattr(statement, key), cur, language)
            for key in ("opening_balance", "invoiced", "paid", "balance", "overdue", "advances", "deposits")}


def aging_rows(statement: Any, language: str | None = None) -> list[dict[str, str]]:
    return [{"label": str(AGING_LABELS[b]), "amount": format_money(v, statement.currency, language), "key": b}
            for b, v in statement.aging.items()]


@require_GET
@web_view
def statement_page(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    user = request.user
    card = cards.get_card(user, card_id)
    form, statement = _statement(request, card)
    context: dict[str, Any] = {"card": card, "form": form, "statement": statement,
                               "can_write": services.may_write(user, card)}
    if statement is None:
        return render(request, "commerce/statement.html", context, status=422)
    query = urlencode({k: v for k, v in request.GET.items() if k in ("currency", "date_from", "date_to")})
    context.update({
        "rows": statement_rows(statement),
        "summary": statement_summary(statement),
        "aging": aging_rows(statement),
        "query": query,
        "last_check": statement.last_check,
    })
    context.update(_collection_context(request, card, statement))
    return render(request, "commerce/statement.html", context)


def _collection_context(request: AuthedHttpRequest, card: Card, statement: Any, **forms: Any) -> dict[str, Any]:
    """Payment plans and account checks shown under the statement, with their forms."""
    user = request.user
    context: dict[str, Any] = {}
    plans = collection.plans_of(user, card)
    context["plans"] = [
        {"plan": p, "total": format_money(p.total, p.currency),
         "instalments": [{"i": i, "amount": format_money(i.amount, p.currency)} for i in p.instalments.all()]}
        for p in plans
    ]
    context["checks"] = [
        {"check": c, "outstanding": format_money(c.outstanding, c.currency), "difference": format_money(c.difference, c.currency)}
        for c in collection.checks_of(user, card)
    ]
    if services.may_approve(user, card):
        invoices = _open_invoice_choices(user, card, statement.currency if statement else None)
        if invoices:
            context["plan_form"] = forms.get("plan_form") or PaymentPlanForm(invoices=invoices, initial={"agreed_on": _today()})
            context["plan_rows"] = forms.get("plan_rows") or [{"due_on": "", "amount": ""} for _i in range(4)]
    if services.may_write(user, card) and statement is not None and statement.currencies:
        context["check_form"] = forms.get("check_form") or AccountCheckForm(
            currencies=statement.currencies, initial={"as_of": _today(), "currency": statement.currency})
    return context


def _statement_after_error(request: AuthedHttpRequest, card: Card, **forms: Any) -> HttpResponse:
    statement = selectors.account_statement(card)
    context: dict[str, Any] = {
        "card": card, "form": StatementFilterForm(currencies=statement.currencies), "statement": statement,
        "can_write": services.may_write(request.user, card), "rows": statement_rows(statement),
        "summary": statement_summary(statement), "aging": aging_rows(statement), "query": "", "last_check": statement.last_check,
    }
    context.update(_collection_context(request, card, statement, **forms))
    return render(request, "commerce/statement.html", context, status=422)


def _attachment(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _filename(card: Card, statement: Any, ext: str) -> str:
    return f"statement-{card.pk}-{statement.currency or 'none'}-{statement.date_to.isoformat()}.{ext}"


@require_GET
@web_view
def statement_pdf(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    card = cards.get_card(request.user, card_id)
    form, statement = _statement(request, card)
    if statement is None:
        return render(request, "commerce/statement.html", {"card": card, "form": form, "statement": None}, status=422)
    pdf = documents.statement_pdf(statement, translation.get_language() or "en")
    return _attachment(pdf, "application/pdf", _filename(card, statement, "pdf"))


@require_GET
@web_view
def statement_xlsx(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    card = cards.get_card(request.user, card_id)
    form, statement = _statement(request, card)
    if statement is None:
        return render(request, "commerce/statement.html", {"card": card, "form": form, "statement": None}, status=422)
    content = documents.statement_xlsx(statement, translation.get_language() or "en")
    return _attachment(content, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       _filename(card, statement, "xlsx"))


# --- collection work: plans, account checks, tasks -----------------------------------------------


@require_POST
@web_view
def plan_new(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    user = request.user
    card = cards.get_card(user, card_id)
    if not services.may_approve(user, card):
        raise PermissionDenied(_("Payment plans are agreed by a manager of this customer's team or an administrator."))
    form = PaymentPlanForm(request.POST, invoices=_open_invoice_choices(user, card))
    rows = instalment_rows(request.POST)
    if form.is_valid():
        data = {"invoices": form.cleaned_data["invoices"], "agreed_on": as_text(form.cleaned_data["agreed_on"]),
                "note": form.cleaned_data["note"], "instalments": rows}
        try:
            collection.create_payment_plan(user=user, card=card, data=data)
        except ValidationError as exc:
            add_service_errors(form, exc.errors, aliases={"instalments": "__all__"})
    if form.errors:
        padded = rows + [{"due_on": "", "amount": ""} for _i in range(max(0, 4 - len(rows)))]
        return _statement_after_error(request, card, plan_form=form, plan_rows=padded)
    messages.success(request, _("Payment plan saved."))
    return redirect(reverse("commerce-statement", args=[card.pk]) + "#plans")


@require_POST
@web_view
def check_new(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    user = request.user
    card = cards.get_card(user, card_id)
    _require_write(user, card)
    form = AccountCheckForm(request.POST, currencies=selectors.statement_currencies(card))
    if form.is_valid():
        data = {k: as_text(v) if not isinstance(v, bool) else v for k, v in form.cleaned_data.items()}
        try:
            collection.record_account_check(user=user, card=card, data=data)
        except ValidationError as exc:
            add_service_errors(form, exc.errors)
    if form.errors:
        return _statement_after_error(request, card, check_form=form)
    messages.success(request, _("Account check recorded."))
    return redirect(reverse("commerce-statement", args=[card.pk]) + "#checks")


@require_GET
@web_view
def check_pdf(request: AuthedHttpRequest, card_id: int, check_id: int) -> HttpResponse:
    card = cards.get_card(request.user, card_id)
    check = next((c for c in collection.checks_of(request.user, card) if c.pk == check_id), None)
    if check is None:
        raise Http404("account check")
    pdf = documents.account_check_pdf(check, card, translation.get_language() or "en")
    return _attachment(pdf, "application/pdf", f"account-check-{card.pk}-{check.as_of.isoformat()}.pdf")


@require_GET
@web_view
def tasks_page(request: AuthedHttpRequest) -> HttpResponse:
    """Open collection tasks, grouped by who acts (finance's routine reminders under their own heading)."""
    user = request.user
    mine = request.GET.get("mine") == "1"
    today = _today()
    groups: dict[str, list[dict[str, Any]]] = {}
    for task in collection.tasks_for(user, open_only=True, assigned_only=mine)[:500]:
        inv = task.invoice
        who = (task.assigned_to.get_full_name() or task.assigned_to.get_username()) if task.assigned_to else _("Finance (reminder letters)")
        groups.setdefault(who, []).append({
            "task": task, "invoice": inv, "cell": Cell(task.cell).label, "open": format_money(inv.open_amount, inv.currency),
            "days": max((today - inv.due_on).days, 0), "can_write": services.may_write(user, inv.card),
        })
    ordered = sorted(groups.items(), key=lambda g: (g[0] != (user.get_full_name() or user.get_username()), g[0].casefold()))
    return render(request, "commerce/tasks.html", {
        "groups": ordered, "mine": mine, "tab": "tasks", "done_form": TaskDoneForm(),
        "may_generate": services.may_manage_catalog(user),
    })


@require_POST
@web_view
def tasks_generate(request: AuthedHttpRequest) -> HttpResponse:
    if not services.may_manage_catalog(request.user):
        raise PermissionDenied(_("Managers and administrators create collection tasks."))
    counts = collection.generate_tasks(as_of=_today())
    messages.success(request, _("%(created)s new tasks, %(closed)s closed.") % counts)
    return redirect("commerce-tasks")


@require_POST
@web_view
def task_done(request: AuthedHttpRequest, task_id: int) -> HttpResponse:
    task = collection.get_task(request.user, task_id)
    form = TaskDoneForm(request.POST)
    if form.is_valid():
        try:
            collection.complete_task(user=request.user, task=task, outcome=form.cleaned_data["outcome"])
        except ValidationError as exc:
            add_service_errors(form, exc.errors)
    if form.errors:
        for msgs in form.errors.values():
            for message in msgs:
                messages.error(request, f"{doc_name(task.invoice)}: {message}")
    else:
        messages.success(request, _("Task done."))
    return redirect("commerce-tasks")


@require_GET
@web_view
def task_letter(request: AuthedHttpRequest, task_id: int) -> HttpResponse:
    """The reminder letter of a routine task, ready to print or copy."""
    task = collection.get_task(request.user, task_id)
    letter = task.letter or collection.reminder_letter(task.invoice, task.language or None)
    return render(request, "commerce/letter.html", {"task": task, "invoice": task.invoice, "paragraphs": reflow(letter)})


def reflow(letter: str) -> list[list[str]]:
    """The letter's paragraphs, each a list of lines to keep. The stored text is wrapped for a
    fixed width; a phone or a printer wraps again, so wrapped lines are joined back, while short
    lines (a greeting, a signature) stay on their own."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", letter.strip()):
        lines: list[str] = []
        for line in (ln.strip() for ln in block.splitlines()):
            if lines and len(lines[-1]) >= 40 and not lines[-1].endswith((",", ":", ";", "，", "：")):
                lines[-1] += line if documents.has_cjk(lines[-1][-1:]) else " " + line
            else:
                lines.append(line)
        paragraphs.append(lines)
    return paragraphs


# --- receivables ---------------------------------------------------------------------------------


def _filter_choices(user: User) -> dict[str, list[tuple[int, str]]]:
    scope = scope_for(user)
    if scope.sees_everything:
        teams = list(Team.objects.order_by("name").values_list("id", "name"))
        reps = User.objects.filter(is_active=True)
    else:
        team_ids = set(scope.team_ids) | set(scope.managed_team_ids)
        teams = list(Team.objects.filter(pk__in=team_ids).order_by("name").values_list("id", "name"))
        reps = User.objects.filter(is_active=True, teams__in=team_ids).distinct()
    rep_list = [(u.pk, u.get_full_name() or u.get_username()) for u in reps.order_by("username")[:500]] or [
        (user.pk, user.get_full_name() or user.get_username())]
    from rapport.segments.selectors import segments_for

    return {"teams": teams, "reps": rep_list, "segments": [(s.id, s.name) for s in segments_for(user)[:200]]}


@dataclass(frozen=True)
class AgingBar:
    label: str
    amount: str
    count: int
    y: int
    width: int
    text_x: int


def aging_chart(buckets: dict[str, Decimal], currency: str, counts: dict[str, int] | None = None, *,
                width: int = 640, label_width: int = 120, value_width: int = 150, row_height: int = 30) -> dict[str, Any]:
    """Horizontal bars, one per aging bucket, scaled to the largest amount (drawn by the template)."""
    top = max(buckets.values(), default=Decimal(0)) or Decimal(1)
    span = width - label_width - value_width
    bars = []
    for i, (key, value) in enumerate(buckets.items()):
        w = int(span * value / top) if value else 0
        bars.append(AgingBar(str(AGING_LABELS[key]), format_money(value, currency), (counts or {}).get(key, 0),
                             i * row_height, max(w, 1 if value else 0), label_width + w + 6))
    return {"bars": bars, "width": width, "height": row_height * len(bars), "label_width": label_width,
            "row_height": row_height, "currency": currency}


def _receivables_filter(request: AuthedHttpRequest,
                        choices: dict[str, list[tuple[int, str]]] | None = None) -> tuple[ReceivablesFilterForm, dict[str, Any] | None]:
    form = ReceivablesFilterForm(request.GET or None, **(choices or _filter_choices(request.user)))
    if form.is_bound and not form.is_valid():
        return form, None
    d = form.cleaned_data if form.is_bound else {}
    return form, {"as_of": d.get("as_of"), "team": d.get("team"), "rep": d.get("rep"), "segment": d.get("segment")}


def _query(request: AuthedHttpRequest) -> str:
    return urlencode({k: v for k, v in request.GET.items() if k in ("team", "rep", "segment", "as_of") and v})


@require_GET
@web_view
def receivables(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    choices = _filter_choices(user)
    form, flt = _receivables_filter(request, choices)
    context: dict[str, Any] = {"form": form, "tab": "receivables"}
    if flt is None:
        return render(request, "commerce/receivables.html", context, status=422)
    try:
        matrix = selectors.receivables_matrix(user, **flt)
    except ValidationError as exc:
        add_service_errors(form, exc.errors)
        return render(request, "commerce/receivables.html", context, status=422)
    query = _query(request)
    context["matrix_rows"] = [
        {"label": label, "cells": [
            {"key": cell, "label": Cell(cell).label, "hint": CELL_HINTS[cell], "count": matrix.cells[cell].count,
             "amounts": _amounts(matrix.cells[cell].amounts), "url": reverse("commerce-cell", args=[cell]) + (f"?{query}" if query else "")}
            for cell in cells
        ]}
        for label, cells in MATRIX_ROWS
    ]
    currencies = sorted({c for by_currency in matrix.aging.values() for c in by_currency})
    # Two drawings of each chart: an SVG scales its text with its width, so a phone gets its own.
    context["charts"] = [
        {"currency": c, "wide": aging_chart(amounts, c), "narrow": aging_chart(amounts, c, width=360, label_width=92, value_width=96)}
        for c in currencies
        for amounts in [{b: matrix.aging[b].get(c, Decimal(0)) for b in matrix.aging}]
    ]
    context["aging_counts"] = [{"label": AGING_LABELS[b], "count": n} for b, n in matrix.aging_counts.items()]
    by = "team" if request.GET.get("by") == "team" else "rep"
    names = dict(choices["teams" if by == "team" else "reps"])
    context["by"] = by
    context["aging_table"] = [
        {"name": names.get(row["key"], _("No team") if by == "team" else "—"),
         "cells": [{"head": AGING_LABELS[b], "amount": format_money(row[b], row["currency"])} for b in selectors.AGING_BUCKETS],
         "total": format_money(row["total"], row["currency"])}
        for row in selectors.aging_by(user, by=by, as_of=flt["as_of"])[:200]
    ]
    context["aging_heads"] = [AGING_LABELS[b] for b in selectors.AGING_BUCKETS]
    context["as_of"] = matrix.as_of
    context["query"] = query
    return render(request, "commerce/receivables.html", context)


@require_GET
@web_view
def receivables_cell(request: AuthedHttpRequest, cell: str) -> HttpResponse:
    if cell not in Cell.values:
        raise Http404("cell")
    form, flt = _receivables_filter(request)
    if flt is None:
        return render(request, "commerce/cell.html", {"form": form, "tab": "receivables"}, status=422)
    found = selectors.cell_invoices(request.user, cell, **flt)
    rows = [{"invoice": inv, "days": days, "open": format_money(inv.open_amount, inv.currency),
             "cause": inv.get_non_payment_display() if inv.non_payment else ""} for inv, days in found]
    return render(request, "commerce/cell.html", {
        "form": form, "rows": rows, "cell_label": Cell(cell).label, "hint": CELL_HINTS[Cell(cell)], "query": _query(request),
        "tab": "receivables",
    })


# --- products ------------------------------------------------------------------------------------


@require_GET
@web_view
def products_page(request: AuthedHttpRequest) -> HttpResponse:
    form = ProductFilterForm(request.GET or None)
    d = form.cleaned_data if form.is_bound and form.is_valid() else {}
    whose = d.get("whose") or ""
    state = d.get("state") or ""
    qs = selectors.products(ours={"ours": True, "competitors": False}.get(whose),
                            active={"inactive": False, "all": None}.get(state, True), q=d.get("q") or "")
    return render(request, "commerce/products.html", {
        "form": form, "products": list(qs[:500]), "may_edit": services.may_manage_catalog(request.user), "tab": "products",
    })


def _price_lists() -> list[PriceList]:
    # The catalogue is not customer data: every signed-in user reads it.
    return list(PriceList.objects.order_by("currency", "-valid_from", "id")[:200])


def _product_context(request: AuthedHttpRequest, product: Product, **forms: Any) -> dict[str, Any]:
    prices = [
        {"price": p, "list": p.price_list,
         **{k: format_money(getattr(p, k), p.price_list.currency) for k in
            ("list_price", "purchase_price", "min_retail", "max_retail", "recommended_retail")}}
        for p in product.prices.select_related("price_list").order_by("price_list__currency", "-price_list__valid_from")
    ]
    may_edit = services.may_manage_catalog(request.user)
    context: dict[str, Any] = {"product": product, "prices": prices, "may_edit": may_edit, "tab": "products"}
    if may_edit:
        lists = [(pl.pk, f"{pl.name} ({pl.currency}, {pl.valid_from.isoformat()}–{pl.valid_until.isoformat() if pl.valid_until else ''})")
                 for pl in _price_lists()]
        context["price_form"] = forms.get("price_form") or PriceForm(price_lists=lists)
        context["price_list_form"] = forms.get("price_list_form") or PriceListForm(initial={"valid_from": _today()})
    return context


@require_GET
@web_view
def product_detail(request: AuthedHttpRequest, product_id: int) -> HttpResponse:
    product = selectors.get_product(product_id)
    return render(request, "commerce/product_detail.html", _product_context(request, product))


@require_http_methods(["GET", "POST"])
@web_view
def product_edit(request: AuthedHttpRequest, product_id: int | None = None) -> HttpResponse:
    user = request.user
    if not services.may_manage_catalog(user):
        raise PermissionDenied(_("Only managers and administrators change products, prices and collection thresholds."))
    product = selectors.get_product(product_id) if product_id is not None else None
    if request.method == "GET":
        initial: dict[str, Any] = {}
        if product is not None:
            initial = {"sku": product.sku, "name": product.name, "category": product.category, "brand": product.brand,
                       "unit": product.unit, "is_ours": product.is_ours, "active": product.active, "version": product.version,
                       "name_es": product.names.get("es", ""), "name_zh": product.names.get("zh-hans", ""),
                       "name_ro": product.names.get("ro", "")}
        form = ProductForm(initial=initial) if product else ProductForm()
        return render(request, "commerce/product_form.html", {"form": form, "product": product, "tab": "products"})
    form = ProductForm(request.POST)
    if form.is_valid():
        try:
            if product is None:
                product = services.create_product(user=user, data=form.service_data())
            else:
                product = services.update_product(user=user, product=product, data=form.service_data(),
                                                  expected_version=form.cleaned_data.get("version"))
        except ValidationError as exc:
            add_service_errors(form, exc.errors)
        except Conflict as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Product saved."))
            return redirect("commerce-product", product.pk)
    return render(request, "commerce/product_form.html", {"form": form, "product": product, "tab": "products"}, status=422)


@require_POST
@web_view
def product_price(request: AuthedHttpRequest, product_id: int) -> HttpResponse:
    user = request.user
    product = selectors.get_product(product_id)
    if not services.may_manage_catalog(user):
        raise PermissionDenied(_("Only managers and administrators change products, prices and collection thresholds."))
    lists = {pl.pk: pl for pl in _price_lists()}
    form = PriceForm(request.POST, price_lists=[(pk, str(pl)) for pk, pl in lists.items()])
    if form.is_valid():
        data = {k: as_text(v) for k, v in form.cleaned_data.items() if k != "price_list"}
        try:
            services.set_price(user=user, price_list=lists[form.cleaned_data["price_list"]], product=product, data=data)
        except ValidationError as exc:
            add_service_errors(form, exc.errors)
    if form.errors:
        return render(request, "commerce/product_detail.html", _product_context(request, product, price_form=form), status=422)
    messages.success(request, _("Price saved."))
    return redirect("commerce-product", product.pk)


@require_POST
@web_view
def price_list_new(request: AuthedHttpRequest, product_id: int) -> HttpResponse:
    """A new price list, created from a product's page so its price can be set next."""
    user = request.user
    product = selectors.get_product(product_id)
    if not services.may_manage_catalog(user):
        raise PermissionDenied(_("Only managers and administrators change products, prices and collection thresholds."))
    form = PriceListForm(request.POST)
    if form.is_valid():
        try:
            services.create_price_list(user=user, data={k: as_text(v) for k, v in form.cleaned_data.items()})
        except ValidationError as exc:
            add_service_errors(form, exc.errors)
    if form.errors:
        return render(request, "commerce/product_detail.html", _product_context(request, product, price_list_form=form), status=422)
    messages.success(request, _("Price list created."))
    return redirect("commerce-product", product.pk)
