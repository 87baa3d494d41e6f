"""Invoices, credit notes, payments with their allocations, and a customer's credit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapport.accounts.models import User
from rapport.cards import selectors as cards
from rapport.cards.forms import add_service_errors
from rapport.cards.models import Card
from rapport.commerce import selectors, services
from rapport.commerce.forms import (
    ApplyCreditForm,
    CreditForm,
    InvoiceForm,
    NonPaymentForm,
    PaymentForm,
    allocation_rows,
    as_text,
)
from rapport.commerce.models import InvoiceKind, Order, OrderStatus, PaymentKind
from rapport.commerce.money import format_money, reporting_currency
from rapport.commerce.views.common import _open_invoice_choices, _today, doc_name
from rapport.core.errors import Conflict, PermissionDenied, ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.web import web_view


def _order_choices(user: User, card: Card) -> list[tuple[int, str]]:
    orders = selectors.visible_orders(user).filter(card=card).exclude(status=OrderStatus.CANCELLED).order_by("-ordered_on", "-id")
    return [(o.pk, f"{doc_name(o)} · {format_money(o.total, o.currency)}") for o in orders[:100]]


@require_http_methods(["GET", "POST"])
@web_view
def invoice_new(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    user = request.user
    card = cards.get_card(user, card_id)
    services.require_write(user, card)
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
    services.require_write(user, note.card)
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
    services.require_write(request.user, invoice.card)
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
    services.require_write(user, card)
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
