"""After-sales pages: the card panel with its forms (open and resolve cases, record checks, ask for
referrals) and the team's list of open cases and due checks.

Each form posts with htmx and gets the panel back (422 with the errors in place); without
JavaScript it redirects to the card page with a message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from rapport.accounts import selectors as people
from rapport.accounts.models import User
from rapport.aftersales import selectors, services
from rapport.aftersales.forms import CaseForm, ReferralAskForm
from rapport.aftersales.models import ReferralOutcome
from rapport.cards import selectors as cards
from rapport.cards.forms import add_service_errors
from rapport.cards.models import Card
from rapport.core.errors import Conflict, ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.web import is_htmx, web_view

PANEL_TEMPLATE = "aftersales/_card_panel.html"


def _case_choices(user: User, card: Card, *, has_orders: bool = True) -> dict[str, list[tuple[int, str]]]:
    """The choices of the case form; ``has_orders`` false (known from the card's record) spares
    reading the orders of a customer who has none."""
    from rapport.commerce import selectors as commerce

    orders = [
        (o.pk, _("%(number)s of %(date)s") % {"number": str(o), "date": o.ordered_on.isoformat()})
        for o in commerce.visible_orders(user).filter(card=card).order_by("-ordered_on", "-id")[:50]
    ] if has_orders else []
    return {"orders": orders, "assignees": selectors.case_assignees(user, card)}


def panel_context(user: User, card: Card, *, errors: dict[str, list[str]] | None = None,
                  case_form: CaseForm | None = None, ask_form: ReferralAskForm | None = None,
                  posted: dict[str, Any] | None = None, saved: str = "") -> dict[str, Any]:
    """What the after-sales panel of a card shows; ``errors`` are keyed by the form they belong to."""
    errors = errors or {}
    record = selectors.card_record(card)
    data = selectors.card_after_sales(user, card, record=record)
    today = timezone.localdate()
    can_write = services.may_write(user, card)
    shown = {"case", "ask", *(f"check-{c.pk}" for c in data.checks), *(f"case-{c.pk}" for c in data.open_cases),
             *(f"referral-{r.pk}" for r in data.referral_requests)}
    return {
        "can_write": can_write,
        "today": today,
        "posted": posted or {},
        "errors": errors,
        # Errors of a row no longer shown (a case someone else resolved meanwhile) go on top.
        "other_errors": [message for key, problems in errors.items() if key not in shown for message in problems],
        "saved": saved,
        "checks": [
            {"check": c, "due": c.done_at is None and c.due_on <= today, "errors": errors.get(f"check-{c.pk}", [])}
            for c in data.checks
        ],
        "open_cases": [
            {"case": c, "overdue": c.due_on is not None and c.due_on < today, "errors": errors.get(f"case-{c.pk}", [])}
            for c in data.open_cases
        ],
        "resolved_cases": data.resolved_cases,
        "requests": [_referral_row(user, r, errors.get(f"referral-{r.pk}", []), posted) for r in data.referral_requests],
        "satisfied_check": data.satisfied_check,
        "may_ask": data.may_ask_for_referrals,
        "case_form": case_form or (CaseForm(**_case_choices(user, card, has_orders=record.orders)) if can_write else None),
        "ask_form": ask_form or ReferralAskForm(),
        "scores": range(1, 6),
        "outcomes": [(o.value, o.label) for o in (ReferralOutcome.GIVEN, ReferralOutcome.DECLINED)],
    }


def _referral_row(user: User, asked: Any, errors: list[str], posted: dict[str, Any] | None) -> dict[str, Any]:
    """A referral request and, while it waits for its answer, the picker of the customers it brought
    (those chosen in a refused answer stay chosen)."""
    row: dict[str, Any] = {"request": asked, "errors": errors}
    if asked.outcome == ReferralOutcome.ASKED:
        chosen = cards.picked_cards(user, list((posted or {}).get("referred") or [])) if errors else []
        row.update(picker={"id": f"referred-{asked.pk}", "name": "referred", "multiple": True, "kind": "",
                           "label": _("Customers they referred")},
                   choices=chosen, chosen_ids={c.pk for c in chosen})
    return row


def _panel(request: AuthedHttpRequest, card: Card, status: int = 200, **extra: Any) -> HttpResponse:
    data = panel_context(request.user, card, **extra)
    return render(request, PANEL_TEMPLATE, {"card": card, "panel": {"data": data}, "can_write": data["can_write"]}, status=status)


def _flat(exc: ValidationError) -> list[str]:
    return [message for messages_ in exc.errors.values() for message in messages_]


def _act(request: AuthedHttpRequest, card: Card, key: str, action: Callable[[], object], success: str,
         **on_error: Any) -> HttpResponse:
    """Runs one form's service call; htmx gets the panel back, a plain post a redirect with a message."""
    try:
        action()
    except (ValidationError, Conflict) as exc:
        problems = _flat(exc) if isinstance(exc, ValidationError) else [str(exc)]
        if is_htmx(request):
            # 422 even for a stale version: htmx swaps only 2xx and 422 answers into the page.
            posted: dict[str, Any] = {**request.POST.dict(), "referred": request.POST.getlist("referred")}
            return _panel(request, card, status=422, errors={key: problems}, posted=posted, **on_error)
        for message in problems:
            messages.error(request, message)
        return redirect(reverse("card-detail", args=[card.pk]) + "#aftersales")
    if is_htmx(request):
        return _panel(request, card, saved=success)
    messages.success(request, success)
    return redirect(reverse("card-detail", args=[card.pk]) + "#aftersales")


@require_POST
@web_view
def case_open(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    card = cards.get_card(request.user, card_id)
    form = CaseForm(request.POST, **_case_choices(request.user, card))
    form.is_valid()  # only shapes the input: the service decides

    def save() -> None:
        try:
            services.open_case(user=request.user, card=card, data=form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc.errors)
            raise

    return _act(request, card, "case", save, _("Case opened."), case_form=form)


@require_POST
@web_view
def case_resolve(request: AuthedHttpRequest, case_id: int) -> HttpResponse:
    case = selectors.get_case(request.user, case_id)
    version = request.POST.get("version", "")
    expected = int(version) if version.isdigit() and len(version) < 18 else None
    return _act(
        request, case.card, f"case-{case.pk}",
        lambda: services.resolve_case(
            user=request.user, case=case, resolution=request.POST.get("resolution", ""), expected_version=expected
        ),
        _("Case resolved."),
    )


@require_POST
@web_view
def check_result(request: AuthedHttpRequest, check_id: int) -> HttpResponse:
    check = selectors.get_check(request.user, check_id)
    data = {name: request.POST.get(name, "") for name in ("score", "comment", "in_use_on")}
    return _act(
        request, check.card, f"check-{check.pk}",
        lambda: services.record_check_result(user=request.user, check=check, data=data),
        _("Satisfaction recorded."),
    )


@require_POST
@web_view
def check_in_use(request: AuthedHttpRequest, check_id: int) -> HttpResponse:
    check = selectors.get_check(request.user, check_id)
    return _act(
        request, check.card, f"check-{check.pk}",
        lambda: services.set_start_of_use(user=request.user, check=check, in_use_on=request.POST.get("in_use_on", "")),
        _("Start of use recorded."),
    )


@require_POST
@web_view
def referral_ask(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    card = cards.get_card(request.user, card_id)
    form = ReferralAskForm(request.POST)
    return _act(
        request, card, "ask",
        lambda: services.ask_for_referrals(user=request.user, card=card, data=form.service_data()),
        _("Referral request recorded."), ask_form=form,
    )


@require_POST
@web_view
def referral_outcome(request: AuthedHttpRequest, request_id: int) -> HttpResponse:
    asked = selectors.get_referral_request(request.user, request_id)
    data: dict[str, Any] = {"outcome": request.POST.get("outcome", ""), "benefit": request.POST.get("benefit", "")}
    referred = [value for value in request.POST.getlist("referred") if value.strip()]
    if referred:
        data["referred"] = referred
    return _act(
        request, asked.card, f"referral-{asked.pk}",
        lambda: services.record_referral_outcome(user=request.user, request=asked, data=data),
        _("Answer recorded."),
    )


@require_GET
@web_view
def due(request: AuthedHttpRequest) -> HttpResponse:
    """Open cases and due satisfaction checks, for one team or every customer the user sees."""
    teams = people.reachable_teams(request.user)
    raw = request.GET.get("team", "")
    chosen = next((t for t in teams if str(t.pk) == raw), None)
    flt = selectors.AfterSalesFilter(team=chosen.pk if chosen else None, today=timezone.localdate())
    open_cases = selectors.cases(request.user, flt)
    due_checks = selectors.checks(request.user, flt)
    context = {
        "teams": teams,
        "team": chosen,
        "today": flt.today,
        # Each customer's numbers come with the lines (one query a list), to call from the page.
        "cases": list(open_cases.prefetch_related("card__phones")[:200]),
        "case_count": open_cases.count(),
        "checks": list(due_checks.prefetch_related("card__phones")[:200]),
        "check_count": due_checks.count(),
    }
    return render(request, "aftersales/due.html", context)
