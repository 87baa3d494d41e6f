"""Order entry and the order page, credit decisions and the approvals list."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.db.models import Case, F, Sum, Value, When
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapport.accounts.models import User
from rapport.cards import selectors as cards
from rapport.cards.forms import add_service_errors
from rapport.cards.models import Card
from rapport.commerce import selectors, services
from rapport.commerce.forms import DecisionForm, OrderForm, OrderStatusForm, as_text, is_blank_line, order_lines
from rapport.commerce.models import Approval, Order, OrderStatus, Product
from rapport.commerce.money import format_money, reporting_currency
from rapport.commerce.views.common import BLANK_LINES, _today, doc_name
from rapport.core.errors import Conflict, ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.web import web_view


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
    services.require_write(request.user, card)
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
    services.require_write(request.user, order.card)
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
