"""The account statement and its documents, and collection work: payment plans, account
checks, tasks and reminder letters."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from rapport.cards import selectors as cards
from rapport.cards.forms import add_service_errors
from rapport.cards.models import Card
from rapport.commerce import collection, documents, selectors, services
from rapport.commerce.forms import (
    AccountCheckForm,
    PaymentPlanForm,
    StatementFilterForm,
    TaskDoneForm,
    as_text,
    instalment_rows,
)
from rapport.commerce.models import Cell, InvoiceKind
from rapport.commerce.money import format_money
from rapport.commerce.views.common import AGING_LABELS, KIND_LABELS, _open_invoice_choices, _today, doc_name
from rapport.core.errors import PermissionDenied, ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.web import web_view


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
    services.require_write(user, card)
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
