"""Collection work: the matrix's cells turned into tasks for the right person, reminder letters
in the customer's language, payment plans, and account checks with the customer.

The cell of an overdue invoice decides who acts (the seeds' matrix):

| overdue | small amount | large amount |
|---|---|---|
| short | finance sends the routine reminder | the rep visits to collect |
| long | the manager escalates | rep and management agree a payment plan |
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from string import Template
from typing import Any

import yaml
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.accounts.models import User
from rapport.audit.services import record
from rapport.cards.models import Address, Card
from rapport.cards.values import clean_text, parse_date
from rapport.commerce import money, selectors
from rapport.commerce.models import (
    OPEN_INVOICE,
    ZERO,
    AccountCheck,
    Cell,
    CollectionTask,
    Instalment,
    Invoice,
    InvoiceKind,
    PaymentPlan,
)
from rapport.commerce.services import may_approve, may_write
from rapport.core.errors import NotFound, PermissionDenied, ValidationError
from rapport.core.visibility import scope_for

LETTERS = Path(__file__).resolve().parent / "data" / "letters.yaml"
LETTER_LANGUAGES = ("en", "es", "zh-hans", "ro")
# The language a customer is written to, from the country of its first address.
COUNTRY_LANGUAGE = {
    **dict.fromkeys(("ES", "MX", "AR", "CO", "CL", "PE", "VE", "EC", "GT", "CU", "BO", "DO", "HN", "PY", "SV", "NI",
                     "CR", "PA", "UY", "PR", "GQ"), "es"),
    **dict.fromkeys(("CN", "SG", "TW", "HK", "MO"), "zh-hans"),
    **dict.fromkeys(("RO", "MD"), "ro"),
}
MAX_INSTALMENTS = 120


@lru_cache(maxsize=1)
def _letters() -> dict[str, dict[str, str]]:
    with LETTERS.open(encoding="utf-8") as handle:
        data: dict[str, dict[str, str]] = yaml.safe_load(handle)
    return data


def customer_language(card: Card) -> str:
    return _languages([card.pk]).get(card.pk, "en")


def _languages(card_ids: list[int]) -> dict[int, str]:
    """Each card's letter language, from the country of its first address (English without one)."""
    first: dict[int, str] = {}
    rows = Address.objects.filter(card_id__in=card_ids).order_by("card_id", "position", "id").values_list("card_id", "country")
    for card_id, country in rows:
        first.setdefault(card_id, country or "")
    return {card_id: COUNTRY_LANGUAGE.get(country.upper(), "en") for card_id, country in first.items()}


def reminder_letter(invoice: Invoice, language: str | None = None) -> str:
    """The routine reminder for an overdue invoice, in ``language`` or the customer's."""
    lang = language if language in LETTER_LANGUAGES else customer_language(invoice.card)
    today = timezone.localdate()
    values = {
        "customer": invoice.card.display_name,
        "number": str(invoice),
        "issued": invoice.issued_on.isoformat(),
        "due": invoice.due_on.isoformat(),
        "amount": money.format_money(invoice.amount, invoice.currency, lang),
        "open": money.format_money(invoice.open_amount, invoice.currency, lang),
        "days": str(max((today - invoice.due_on).days, 0)),
        "company": str(getattr(settings, "RAPPORT_COMPANY_NAME", "Rapport")),
    }
    # safe_substitute: an edited template with a stray "$" prints it rather than failing.
    return Template(_letters()["reminder"][lang]).safe_substitute(values).strip() + "\n"


# --- tasks from the matrix ---------------------------------------------------------------------------


def _team_managers() -> dict[int, User]:
    """The first active manager of each team."""
    managers: dict[int, User] = {}
    for team_id, user in ((u.team_id, u) for u in User.objects.filter(is_active=True, managed_teams__isnull=False)
                          .annotate(team_id=F("managed_teams")).order_by("id")):
        managers.setdefault(team_id, user)
    return managers


def _assignee(cell: str, card: Card, managers: dict[int, User]) -> User | None:
    """Who acts on a cell: finance (no one person: the administrators' queue) for routine
    reminders, the card's rep for visits, the team's manager for escalations and plans."""
    manager = managers.get(card.team_id) if card.team_id is not None else None
    if cell == Cell.SHORT_SMALL:
        return None
    if cell == Cell.SHORT_LARGE:
        return card.owner if card.owner.is_active else manager
    return manager or (card.owner if card.owner.is_active else None)


@transaction.atomic
def generate_tasks(*, as_of: dt.date | None = None) -> dict[str, int]:
    """Gives every overdue invoice a task for its current cell. Idempotent: an invoice that
    already has an open task for that cell gets none; open tasks of paid invoices, or of a cell
    the invoice has moved out of, are closed with the reason."""
    today = as_of or timezone.localdate()
    policies = selectors.policy_table()
    now = timezone.now()
    closed = CollectionTask.objects.filter(done_at__isnull=True).filter(Q(invoice__is_open=False) | Q(invoice__cancelled=True))
    counts = {"created": 0, "closed": closed.update(done_at=now, outcome="paid or cancelled")}
    open_tasks: dict[int, CollectionTask] = {
        t.invoice_id: t for t in CollectionTask.objects.filter(done_at__isnull=True).order_by("created_at")
    }
    overdue = (
        Invoice.objects.filter(OPEN_INVOICE, due_on__lt=today)
        .select_related("card", "card__owner").order_by("due_on", "id")
    )
    new: list[CollectionTask] = []
    managers = _team_managers()
    languages: dict[int, str] = {}
    for invoice in overdue.iterator(chunk_size=2000):
        days = (today - invoice.due_on).days
        cell = selectors.cell_of(days, invoice.open_amount, selectors.thresholds(invoice.card.team_id, invoice.currency, policies))
        task = open_tasks.get(invoice.pk)
        if task is not None and task.cell == cell:
            continue
        if task is not None:
            CollectionTask.objects.filter(pk=task.pk).update(done_at=now, outcome=f"moved to {cell}")
            counts["closed"] += 1
        letter, language = "", ""
        if cell == Cell.SHORT_SMALL:
            if invoice.card_id not in languages:  # one look-up per customer, not per invoice
                languages[invoice.card_id] = _languages([invoice.card_id]).get(invoice.card_id, "en")
            language = languages[invoice.card_id]
            letter = reminder_letter(invoice, language)
        new.append(CollectionTask(invoice=invoice, cell=cell, assigned_to=_assignee(cell, invoice.card, managers), letter=letter,
                                  language=language, created_at=now))
    CollectionTask.objects.bulk_create(new, batch_size=1000)
    counts["created"] = len(new)
    if new or counts["closed"]:
        record(action="update", record_type="commerce.collectiontask", detail={"as_of": today.isoformat(), **counts})
    return counts


def tasks_for(user: Any, *, open_only: bool = True, assigned_only: bool = False) -> QuerySet[CollectionTask]:
    """Collection tasks on invoices the user may see: theirs first, then the rest. Finance's
    routine reminders (no assignee) are the administrators' and managers' queue."""
    invoices = selectors.visible_invoices(user)
    qs = CollectionTask.objects.filter(invoice__in=invoices.values("id")).select_related(
        "invoice", "invoice__card", "assigned_to"
    )
    if open_only:
        qs = qs.filter(done_at__isnull=True)
    if assigned_only:
        role = scope_for(user).role
        mine = Q(assigned_to=user)
        if role in ("admin", "manager"):
            mine |= Q(assigned_to__isnull=True)
        qs = qs.filter(mine)
    return qs.order_by("invoice__due_on", "id")


def get_task(user: Any, task_id: Any) -> CollectionTask:
    if isinstance(task_id, bool) or not str(task_id).isdigit() or int(str(task_id)) > 2**62:
        raise NotFound("task")
    task = tasks_for(user, open_only=False).filter(pk=int(str(task_id))).first()
    if task is None:
        raise NotFound("task")
    return task


@transaction.atomic
def complete_task(*, user: User, task: CollectionTask, outcome: Any) -> CollectionTask:
    """Marks a collection task done with what came of it (a reminder sent, a visit's result…)."""
    if not may_write(user, task.invoice.card):
        raise PermissionDenied(_("Your role may read the commercial record but not change it."))
    text = clean_text("outcome", outcome, required=True, max_length=500)
    locked = CollectionTask.objects.select_for_update().get(pk=task.pk)
    if locked.done_at is not None:
        raise ValidationError.single("outcome", _("This task is already done."))
    locked.done_at, locked.done_by, locked.outcome = timezone.now(), user, text
    locked.save(update_fields=["done_at", "done_by", "outcome"])
    record(action="update", record=locked, actor=user, field="done", new=text)
    return locked


# --- payment plans -----------------------------------------------------------------------------------


@transaction.atomic
def create_payment_plan(*, user: User, card: Card, data: dict[str, Any]) -> PaymentPlan:
    """A special arrangement: the open amount of some invoices paid in instalments.

    The instalments must add up to exactly what is open on the invoices, in their currency,
    due in order and not before the day the plan is agreed.
    """
    if not may_approve(user, card):
        raise PermissionDenied(_("Payment plans are agreed by a manager of this customer's team or an administrator."))
    raw_ids = data.get("invoices")
    if not isinstance(raw_ids, list) or not raw_ids:
        raise ValidationError.single("invoices", _("Choose at least one open invoice."))
    ids = []
    for value in raw_ids:
        if isinstance(value, bool) or not str(value).isdigit() or int(str(value)) > 2**62:
            raise ValidationError.single("invoices", _("Expected invoice ids."))
        ids.append(int(str(value)))
    invoices = list(
        selectors.visible_invoices(user).select_for_update()
        .filter(pk__in=ids, card=card, kind=InvoiceKind.INVOICE, is_open=True, cancelled=False)
    )
    if len(invoices) != len(set(ids)):
        raise ValidationError.single("invoices", _("Every invoice must be an open invoice of this customer."))
    currencies = {inv.currency for inv in invoices}
    if len(currencies) != 1:
        raise ValidationError.single("invoices", _("A plan covers invoices in one currency."))
    currency = currencies.pop()
    owed = sum((inv.open_amount for inv in invoices), ZERO)
    agreed_on = parse_date("agreed_on", data.get("agreed_on") or timezone.localdate())
    raw = data.get("instalments")
    if not isinstance(raw, list) or not raw:
        raise ValidationError.single("instalments", _("A plan needs at least one instalment."))
    if len(raw) > MAX_INSTALMENTS:
        raise ValidationError.single("instalments", _("At most %(n)s instalments.") % {"n": MAX_INSTALMENTS})
    instalments: list[tuple[dt.date, Decimal]] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ValidationError.single(f"instalments[{i}]", _("Expected an object."))
        due = parse_date(f"instalments[{i}].due_on", item.get("due_on"))
        if due < agreed_on or (instalments and due < instalments[-1][0]):
            raise ValidationError.single(f"instalments[{i}].due_on", _("Instalments fall due in order, from the day the plan is agreed."))
        instalments.append((due, money.parse_amount(item.get("amount"), currency, f"instalments[{i}].amount")))
    planned = sum((a for _d, a in instalments), ZERO)
    if planned != owed:
        raise ValidationError.single("instalments", _("The instalments add up to %(planned)s but %(owed)s is open on these invoices.") % {
            "planned": money.format_money(planned, currency), "owed": money.format_money(owed, currency),
        })
    plan = PaymentPlan.objects.create(card=card, currency=currency, total=owed, agreed_on=agreed_on,
                                      note=clean_text("note", data.get("note"), max_length=500), created_by=user)
    plan.invoices.set(invoices)
    Instalment.objects.bulk_create([Instalment(plan=plan, due_on=d, amount=a) for d, a in instalments])
    record(action="create", record=plan, actor=user,
           detail={"card": card.pk, "total": str(owed), "currency": currency, "instalments": len(instalments)})
    return plan


def plans_of(user: Any, card: Card) -> list[PaymentPlan]:
    """The customer's payment plans (the caller fetched ``card`` through visibility)."""
    return list(PaymentPlan.objects.filter(card=card).prefetch_related("instalments", "invoices").order_by("-agreed_on", "-id"))


# --- account checks ----------------------------------------------------------------------------------


@transaction.atomic
def record_account_check(*, user: User, card: Card, data: dict[str, Any]) -> AccountCheck:
    """Records a reconciliation with the customer: our balance at ``as_of`` (with advances and
    deposits), whether the customer confirmed it in writing, and any difference they claim."""
    if not may_write(user, card):
        raise PermissionDenied(_("Your role may read the commercial record but not change it."))
    as_of = parse_date("as_of", data.get("as_of") or timezone.localdate())
    if as_of > timezone.localdate():
        raise ValidationError.single("as_of", _("An account is checked as of today or an earlier day."))
    currency = money.parse_currency(data.get("currency"))
    statement = selectors.account_statement(card, currency=currency, date_to=as_of, as_of=as_of)
    difference = ZERO
    if data.get("customer_balance") not in (None, ""):
        theirs = money.parse_amount(data["customer_balance"], currency, "customer_balance", allow_zero=True, allow_negative=True)
        difference = theirs - statement.balance
    confirmed = bool(data.get("confirmed"))
    confirmed_by = clean_text("confirmed_by", data.get("confirmed_by"), max_length=200)
    if confirmed and not confirmed_by:
        raise ValidationError.single("confirmed_by", _("Name who confirmed the balance for the customer."))
    check = AccountCheck.objects.create(
        card=card, as_of=as_of, currency=currency, outstanding=statement.balance, advances=statement.advances,
        deposits=statement.deposits, confirmed=confirmed, confirmed_by=confirmed_by, difference=difference,
        note=clean_text("note", data.get("note"), max_length=1000), checked_by=user,
    )
    record(action="create", record=check, actor=user,
           detail={"card": card.pk, "outstanding": str(check.outstanding), "difference": str(difference), "confirmed": confirmed})
    return check


def checks_of(user: Any, card: Card) -> list[AccountCheck]:
    """The customer's account checks, newest first (the caller fetched ``card`` through visibility)."""
    return list(AccountCheck.objects.filter(card=card).select_related("checked_by").order_by("-as_of", "-id"))
