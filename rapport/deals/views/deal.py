"""The deal page and its forms, the "New deal" form and the deals panel of a card.

Every form posts with htmx and gets the page's body back (422 with the errors next to the form
that caused them, and what was typed kept); without JavaScript it redirects to the deal page
with a message, or shows the page again with the errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapport.accounts import selectors as people
from rapport.accounts.models import User
from rapport.cards import selectors as cards
from rapport.cards.forms import add_service_errors
from rapport.cards.models import Card
from rapport.commerce import selectors as commerce
from rapport.commerce.money import format_money, reporting_currency, round_money
from rapport.core.errors import Conflict, ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.i18n import pick_label
from rapport.core.visibility import scope_for
from rapport.core.web import is_htmx, web_view
from rapport.deals import content, selectors, services
from rapport.deals.forms import BLANK_PRODUCT_ROWS, DealForm, product_rows, products_for_service
from rapport.deals.models import (
    DEFAULT_PROBABILITY,
    STEP_ORDER,
    Answer,
    Deal,
    EntryKind,
    Interest,
    NeedKind,
    PointKind,
    QuestionKey,
    Side,
    Status,
    Step,
)
from rapport.deals.views.board import Pending, days_since
from rapport.relationships.models import Attitude, BuyingRole, RelationshipStage, Style


def duration(seconds: int) -> str:
    days, hours = seconds // 86400, seconds // 3600
    if days:
        return ngettext("%(n)s day", "%(n)s days", days) % {"n": days}
    if hours:
        return ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours}
    return _("less than an hour")


def proposals_url(deal: Deal) -> str:
    # The proposals pages live in their own module and may not be installed yet.
    try:
        return reverse("deals-proposals", args=[deal.pk])
    except NoReverseMatch:
        return ""


def _owner_choices(user: User, deal: Deal | None) -> list[tuple[int, str]]:
    owners = [(u.pk, u.get_username()) for u in people.filter_owners(user)]
    if deal is not None and all(pk != deal.owner_id for pk, _n in owners):
        owners.insert(0, (deal.owner_id, deal.owner.get_username()))
    return owners


def _team_choices(user: User) -> list[tuple[int, str]]:
    return [(t.pk, t.name) for t in people.assignable_teams(user)]


def _product_choices() -> list[tuple[str, str]]:
    return [(p.sku, str(p)) for p in commerce.products(ours=True, active=True)[:500]]


def plain(amount: Any, currency: str) -> str:
    """An amount as typed into a form: the currency's decimals, no grouping ("64000.00")."""
    return "" if amount is None else str(round_money(amount, currency))


def deal_form(user: User, deal: Deal, data: Any = None) -> DealForm:
    initial = {
        "name": deal.name, "amount": plain(deal.amount, deal.currency), "currency": deal.currency,
        "expected_close": deal.expected_close.isoformat() if deal.expected_close else "",
        "probability": "" if deal.probability is None else str(deal.probability),
        "owner": str(deal.owner_id), "team": str(deal.team_id or ""), "description": deal.description,
    }
    return DealForm(data if data is not None else initial, owners=_owner_choices(user, deal), teams=_team_choices(user),
                    default_probability=DEFAULT_PROBABILITY.get(deal.step))


def deal_context(user: User, deal: Deal, *, errors: dict[str, list[str]] | None = None, posted: dict[str, Any] | None = None,
                 saved: str = "", warnings: list[str] | None = None, pending: Pending | None = None,
                 edit_form: DealForm | None = None, rows: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """Everything the deal page shows, most-used first."""
    errors = errors or {}
    can_write = services.may_write(user, deal)
    step = content.step(deal.step)
    person_rows = selectors.deal_people(deal)
    now = selectors.who_matters_now(deal, person_rows)
    matters = {p.contact.pk for p in now.people} if now else set()
    details = selectors.deal_details(deal)
    index = STEP_ORDER.index(deal.step)
    moves = selectors.step_history(deal)  # read once: the path's times and the history below
    spent = selectors.time_in_steps_of(deal, moves)
    path_steps = [
        {"key": s.key, "label": s.label, "state": "done" if i < index else "current" if i == index else "todo",
         "time": duration(spent[s.key]) if s.key in spent else ""}
        for i, s in enumerate(content.steps())
    ]
    labels = {"role": dict(BuyingRole.choices), "stage": dict(RelationshipStage.choices), "style": dict(Style.choices),
              "attitude": dict(Attitude.choices)}
    # The customer's and each person's number to call, as far as the user may see their cards.
    phones = cards.phones_to_call(user, [deal.card_id, *(p.contact.member.person_id for p in person_rows)])
    people_rows = [
        {"person": p, "matters": p.contact.pk in matters, "stage": labels["stage"].get(p.stage, ""),
         "phone": phones.get(p.contact.member.person_id, ""),
         "style": labels["style"].get(p.style, ""), "attitude": labels["attitude"].get(p.attitude, p.attitude),
         "errors": errors.get(f"contact-{p.contact.pk}", [])}
        for p in person_rows
    ]
    signals = services.exit_checklist(deal) if deal.is_open else []
    step_labels = dict(Step.choices)
    signal_names = {item["key"]: pick_label(item["labels"]) for s in content.steps() for item in s.exit}
    history = [
        {"move": m, "from": step_labels.get(m.from_step, ""), "to": step_labels.get(m.to_step, m.to_step),
         "time": duration(m.seconds_in_previous) if m.seconds_in_previous is not None else "",
         "missing": [signal_names.get(str(s), str(s)) for s in m.missing]}
        for m in reversed(moves)
    ]
    currency = deal.currency
    plan = details.plan
    ranked = list(plan.interests) if plan else []
    entries = [
        {"entry": e, "value": format_money(e.value, currency) if e.value is not None else "",
         "errors": errors.get(f"confirm-{e.pk}", [])}
        for e in details.entries
    ]
    won_missing = [(content.step(i.signal.step).label, i.label) for i in services.missing_to_reach(deal, Step.FOLLOW_UP)] \
        if deal.is_open else []
    questions = [
        {"key": k.value, "label": k.label, "q": details.questions.get(k.value), "errors": errors.get(f"question-{k.value}", [])}
        for k in QuestionKey
    ]
    needs_by_kind = [{"kind": k.value, "label": k.label, "needs": [n for n in details.needs if n.kind == k.value]} for k in NeedKind]
    product_rows_ = rows if rows is not None else [
        {"product": dp.product.sku, "quantity": f"{dp.quantity.normalize():f}", "unit_price": plain(dp.unit_price, currency)}
        for dp in details.products
    ]
    return {
        "deal": deal,
        "card": deal.card,
        "card_phone": phones.get(deal.card_id, ""),
        "can_write": can_write,
        "errors": errors,
        "posted": posted or {},
        "saved": saved,
        "save_warnings": warnings or [],
        "pending": pending,
        "back": "deal",
        "amount": format_money(deal.amount, currency),
        "weighted": format_money(deal.weighted, currency),
        "probability": deal.effective_probability,
        "probability_is_default": deal.probability is None,
        "days_in_step": days_since(deal.step_entered_at),
        "step": step,
        "path": path_steps,
        "next_step": STEP_ORDER[index + 1] if deal.is_open and index + 1 < len(STEP_ORDER) else "",
        "next_label": content.step(STEP_ORDER[index + 1]).label if index + 1 < len(STEP_ORDER) else "",
        "back_steps": [(s, step_labels[s]) for s in STEP_ORDER[:index]] if deal.is_open else [],
        "signals": signals,
        "warnings": selectors.deal_warnings(deal, person_rows),
        "questions": questions,
        "answers": [(a.value, a.label) for a in Answer],
        "buying_stages": content.buying_stages(),
        "who": now,
        "who_role": labels["role"].get(now.role, "") if now else "",
        "people": people_rows,
        "members": details.available_members,
        "roles": BuyingRole.choices,
        "needs_by_kind": needs_by_kind,
        "need_kinds": NeedKind.choices,
        "needs": details.needs,
        "criteria": details.criteria,
        "criteria_total": sum(c.weight for c in details.criteria),
        "competitors": [{"c": c, "errors": errors.get(f"point-{c.pk}", [])} for c in details.competitors],
        "point_kinds": PointKind.choices,
        "plan": plan,
        "plan_bottom": format_money(plan.bottom_line, currency) if plan and plan.bottom_line is not None else "",
        "plan_target": format_money(plan.target, currency) if plan and plan.target is not None else "",
        "plan_bottom_input": plain(plan.bottom_line, currency) if plan else "",
        "plan_target_input": plain(plan.target, currency) if plan else "",
        "ranked": [dict(Interest.choices).get(i, i) for i in ranked],
        "rank_slots": [(i + 1, ranked[i] if i < len(ranked) else "") for i in range(len(Interest.choices))],
        "interests": Interest.choices,
        "log_entries": entries,
        "entry_kinds": EntryKind.choices,
        "sides": Side.choices,
        "won_reasons": content.reasons("won"),
        "lost_reasons": content.reasons("lost"),
        "won_missing": won_missing,
        "close_reason": content.reason_label(deal.status, deal.close_reason) if deal.close_reason else "",
        "follow_up_signals": services.exit_checklist(deal, Step.FOLLOW_UP) if deal.status == Status.WON and deal.followed_up_at is None else [],
        "products": details.products,
        "product_rows": [*product_rows_, *({"product": "", "quantity": "", "unit_price": ""} for _i in range(BLANK_PRODUCT_ROWS))],
        "product_choices": _product_choices() if can_write else [],
        "may_order": deal.status == Status.WON and deal.order_id is None and bool(details.products),
        "history": history,
        "edit_form": edit_form or (deal_form(user, deal) if can_write else None),
        "proposals_url": proposals_url(deal),
        "decision_unit_url": reverse("decision-unit", args=[deal.card_id]) if deal.card.kind == "organization" else "",
    }


def deal_response(request: AuthedHttpRequest, deal_id: int, *, saved: str = "", status: int | None = None,
                  errors: dict[str, list[str]] | None = None, **extra: Any) -> HttpResponse:
    """The deal's page after a form: the body for htmx, else the page (errors) or a redirect."""
    deal = selectors.get_deal(request.user, deal_id)  # fresh: the service may have changed it
    failed = bool(errors) or extra.get("pending") is not None
    if status is None:
        status = 422 if failed else 200
    if is_htmx(request):
        context = deal_context(request.user, deal, errors=errors, saved=saved, **extra)
        return render(request, "deals/_deal_body.html", context, status=status)
    if failed:
        context = deal_context(request.user, deal, errors=errors, saved=saved, **extra)
        return render(request, "deals/detail.html", context, status=status)
    messages.success(request, saved)
    return redirect(reverse("deal-detail", args=[deal.pk]))


def _problems(exc: ValidationError | Conflict) -> list[str]:
    if isinstance(exc, Conflict):
        return [str(exc)]
    return [m for ms in exc.errors.values() for m in ms]


def _act(request: AuthedHttpRequest, deal: Deal, key: str, action: Callable[[], Any], success: str) -> HttpResponse:
    """Runs one form's service call and answers the page with its outcome."""
    try:
        result = action()
    except (ValidationError, Conflict) as exc:
        return deal_response(request, deal.pk, errors={key: _problems(exc)}, posted=request.POST.dict())
    warnings = result[1] if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], list) else []
    return deal_response(request, deal.pk, saved=success, warnings=warnings)


def _deal(request: AuthedHttpRequest, deal_id: int) -> Deal:
    deal = selectors.get_deal(request.user, deal_id)
    services.require_write(request.user, deal)
    return deal


def _post(request: AuthedHttpRequest, *names: str) -> dict[str, str]:
    return {name: request.POST.get(name, "") for name in names}


# --- the page ---------------------------------------------------------------------------------------------


@require_GET
@web_view
def detail(request: AuthedHttpRequest, deal_id: int) -> HttpResponse:
    deal = selectors.get_deal(request.user, deal_id)
    return render(request, "deals/detail.html", deal_context(request.user, deal))


@require_POST
@web_view
def edit(request: AuthedHttpRequest, deal_id: int) -> HttpResponse:
    user = request.user
    deal = _deal(request, deal_id)
    form = deal_form(user, deal, request.POST)
    form.is_valid()  # only shapes the input: the service decides
    rows = product_rows(request.POST)
    data = form.service_data()
    data["products"] = products_for_service(rows)
    version = request.POST.get("version", "")
    try:
        services.update_deal(user=user, deal=deal, data=data, expected_version=int(version) if version.isdigit() and len(version) < 18 else None)
    except Conflict as exc:
        # Show the deal as it is now, so the user sees what changed before typing again.
        return deal_response(request, deal.pk, errors={"edit": [str(exc)]}, status=409 if not is_htmx(request) else 422)
    except ValidationError as exc:
        add_service_errors(form, exc.errors)
        return deal_response(request, deal.pk, errors={"edit": [m for k, ms in exc.errors.items() if k not in form.fields for m in ms]},
                             edit_form=form, rows=rows, posted=request.POST.dict(), status=422)
    return deal_response(request, deal.pk, saved=_("Deal saved."))


@require_POST
@web_view
def signal(request: AuthedHttpRequest, deal_id: int) -> HttpResponse:
    deal = _deal(request, deal_id)
    data = _post(request, "signal", "checked", "note")
    return _act(request, deal, "signal", lambda: services.set_signal(user=request.user, deal=deal, signal_key=data["signal"],
                                                                     checked=data["checked"], note=data["note"]), _("Checklist saved."))


@require_POST
@web_view
def question(request: AuthedHttpRequest, deal_id: int) -> HttpResponse:
    deal = _deal(request, deal_id)
    data = _post(request, "key", "answer", "justification")
    key = data["key"] if data["key"] in QuestionKey.values else "key"
    return _act(request, deal, f"question-{key}", lambda: services.answer_question(user=request.user, deal=deal, **data), _("Answer saved."))


@require_POST
@web_view
def buying_stage(request: AuthedHttpRequest, deal_id: int) -> HttpResponse:
    deal = _deal(request, deal_id)
    data = _post(request, "buying_stage")
    return _act(request, deal, "stage", lambda: services.update_deal(user=request.user, deal=deal, data=data),
                _("Buying stage saved."))


def _contact_data(request: AuthedHttpRequest) -> dict[str, Any]:
    return {"roles": request.POST.getlist("roles"), "is_key": request.POST.get("is_key", ""), "note": request.POST.get("note", "")}


@require_POST
@web_view
def contact_add(request: AuthedHttpRequest, deal_id: int) -> HttpResponse:
    deal = _deal(request, deal_id)
    data = {"member": request.POST.get("member", ""), **_contact_data(request)}
    return _act(request, deal, "contact_add", lambda: services.add_contact(user=request.user, deal=deal, data=data), _("Person added to the deal."))


@require_POST
@web_view
def contact_edit(request: AuthedHttpRequest, deal_id: int, part_id: int) -> HttpResponse:
    deal = _deal(request, deal_id)
    contact = selectors.deal_part(deal, "contact", part_id)
    if request.POST.get("remove"):
        return _act(request, deal, f"contact-{contact.pk}", lambda: services.remove_contact(user=request.user, contact=contact),
                    _("Person removed from the deal."))
    return _act(request, deal, f"contact-{contact.pk}",
                lambda: services.update_contact(user=request.user, contact=contact, data=_contact_data(request)), _("Person saved."))


@require_POST
@web_view
def need_add(request: AuthedHttpRequest, deal_id: int) -> HttpResponse:
    deal = _deal(request, deal_id)
    data = _post(request, "kind", "text")
    return _act(request, deal, "need", lambda: services.add_need(user=request.user, deal=deal, data=data), _("Need added."))


@require_POST
@web_view
def criterion_add(request: AuthedHttpRequest, deal_id: int) -> HttpResponse:
    deal = _deal(request, deal_id)
    data = _post(request, "name", "target", "weight")
    return _act(request, deal, "criterion", lambda: services.add_criterion(user=request.user, deal=deal, data=data), _("Criterion added."))


@require_POST
@web_view
def competitor_add(request: AuthedHttpRequest, deal_id: int) -> HttpResponse:
    deal = _deal(request, deal_id)
    data = _post(request, "name", "note")
    return _act(request, deal, "competitor", lambda: services.add_competitor(user=request.user, deal=deal, data=data), _("Competitor added."))


@require_POST
@web_view
def point_add(request: AuthedHttpRequest, deal_id: int, part_id: int) -> HttpResponse:
    deal = _deal(request, deal_id)
    competitor = selectors.deal_part(deal, "competitor", part_id)
    data = _post(request, "kind", "text", "need", "contact", "action")
    return _act(request, deal, f"point-{competitor.pk}", lambda: services.add_point(user=request.user, competitor=competitor, data=data),
                _("Point added."))


REMOVERS: dict[str, Callable[..., None]] = {
    "need": lambda user, row: services.remove_need(user=user, need=row),
    "criterion": lambda user, row: services.remove_criterion(user=user, criterion=row),
    "competitor": lambda user, row: services.remove_competitor(user=user, competitor=row),
    "point": lambda user, row: services.remove_point(user=user, point=row),
}


@require_POST
@web_view
def remove(request: AuthedHttpRequest, deal_id: int, part_id: int, kind: str) -> HttpResponse:
    deal = _deal(request, deal_id)
    row = selectors.deal_part(deal, kind, part_id)
    return _act(request, deal, "remove", lambda: REMOVERS[kind](request.user, row), _("Removed."))


@require_POST
@web_view
def plan(request: AuthedHttpRequest, deal_id: int) -> HttpResponse:
    deal = _deal(request, deal_id)
    data: dict[str, Any] = _post(request, "roles", "bottom_line", "target")
    data["interests"] = [i for i in request.POST.getlist("interests") if i]
    return _act(request, deal, "plan", lambda: services.set_negotiation_plan(user=request.user, deal=deal, data=data),
                _("Negotiation plan saved."))


@require_POST
@web_view
def entry_add(request: AuthedHttpRequest, deal_id: int) -> HttpResponse:
    deal = _deal(request, deal_id)
    data = _post(request, "kind", "side", "interest", "text", "value")
    return _act(request, deal, "entry", lambda: services.add_negotiation_entry(user=request.user, deal=deal, data=data),
                _("Added to the negotiation log."))


@require_POST
@web_view
def entry_confirm(request: AuthedHttpRequest, deal_id: int, part_id: int) -> HttpResponse:
    deal = _deal(request, deal_id)
    entry = selectors.deal_part(deal, "entry", part_id)
    return _act(request, deal, f"confirm-{entry.pk}", lambda: services.confirm_entry(user=request.user, entry=entry),
                _("Term confirmed with the customer."))


@require_POST
@web_view
def close(request: AuthedHttpRequest, deal_id: int) -> HttpResponse:
    deal = _deal(request, deal_id)
    data = _post(request, "outcome", "reason", "note", "override_reason")
    version = request.POST.get("version", "")
    key = "close_won" if data["outcome"] == Status.WON else "close_lost"
    success = _("The deal is won and in follow-up service.") if data["outcome"] == Status.WON else _("The deal is closed as lost.")
    return _act(request, deal, key, lambda: services.close_deal(
        user=request.user, deal=deal, expected_version=int(version) if version.isdigit() and len(version) < 18 else None, **data,
    ), success)


@require_POST
@web_view
def finish(request: AuthedHttpRequest, deal_id: int) -> HttpResponse:
    deal = _deal(request, deal_id)
    override = request.POST.get("override_reason", "")
    return _act(request, deal, "finish", lambda: services.finish_follow_up(user=request.user, deal=deal, override_reason=override),
                _("Follow-up finished."))


@require_POST
@web_view
def order(request: AuthedHttpRequest, deal_id: int) -> HttpResponse:
    deal = _deal(request, deal_id)
    try:
        created = services.create_order_from_deal(user=request.user, deal=deal)
    except ValidationError as exc:
        return deal_response(request, deal.pk, errors={"order": _problems(exc)})
    url = reverse("commerce-order", args=[created.pk])
    messages.success(request, _("Draft order created from the deal."))
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


# --- a new deal -----------------------------------------------------------------------------------------


def _customer_choices(user: User) -> list[tuple[str, str]]:
    mine = sorted(cards.recent_cards(user, limit=200), key=lambda c: c.display_name.casefold())
    return [(f"{c.kind}:{c.pk}", c.display_name) for c in mine]


def _new_form(user: User, data: Any, card: Card | None) -> DealForm:
    return DealForm(data, customers=None if card else _customer_choices(user), owners=_owner_choices(user, None),
                    teams=_team_choices(user), default_probability=DEFAULT_PROBABILITY[Step.ANALYSE])


@require_http_methods(["GET", "POST"])
@web_view
def new(request: AuthedHttpRequest) -> HttpResponse:
    """A new deal, for the customer whose card it was opened from (``?organization=`` or
    ``?person=``) or one picked from the user's customers."""
    user = request.user
    card: Card | None = None
    for kind in ("organization", "person"):
        raw = request.GET.get(kind) or request.POST.get(kind)
        if raw:
            card = cards.get_card(user, raw, kind)
    if request.method == "GET":
        initial = {"currency": reporting_currency(), "owner": str(user.pk)}
        form = _new_form(user, None, card)
        form.initial = initial
        rows = [{"product": "", "quantity": "", "unit_price": ""} for _i in range(BLANK_PRODUCT_ROWS + 1)]
        return render(request, "deals/new.html", {"form": form, "card": card, "rows": rows, "product_choices": _product_choices()})
    form = _new_form(user, request.POST, card)
    form.is_valid()
    rows = product_rows(request.POST)
    data = form.service_data()
    data["products"] = products_for_service(rows)
    if card is not None:
        data[card.kind] = card.pk
    else:
        kind, _sep, pk = request.POST.get("customer", "").partition(":")
        data[kind if kind in ("organization", "person") else "organization"] = pk
    try:
        deal = services.create_deal(user=user, data=data)
    except ValidationError as exc:
        add_service_errors(form, exc.errors, aliases={"organization": "customer", "person": "customer"} if card is None else None)
        rows = [*rows, *({"product": "", "quantity": "", "unit_price": ""} for _i in range(max(0, BLANK_PRODUCT_ROWS + 1 - len(rows))))]
        return render(request, "deals/new.html", {"form": form, "card": card, "rows": rows, "product_choices": _product_choices()},
                      status=422)
    messages.success(request, _("Deal opened."))
    return redirect(reverse("deal-detail", args=[deal.pk]))


# --- the card panel ---------------------------------------------------------------------------------------


PANEL_LIMIT = 20


def panel_context(user: User, card: Card) -> dict[str, Any]:
    """The customer's deals on its card, open first, with step and amount. Most cards have no
    deal: one cheap probe says so before the deals are read, and then only the columns shown."""
    columns = ("id", "name", "status", "step", "amount", "currency", "expected_close")
    deals = list(selectors.deals_of_card(user, card).values(*columns)[:PANEL_LIMIT + 1]) if selectors.card_has_deals(card) else []
    steps, outcomes = dict(Step.choices), dict(Status.choices)
    rows = [
        {**d, "is_open": d["status"] == Status.OPEN, "step": steps.get(d["step"], d["step"]),
         "amount": format_money(d["amount"], d["currency"]),
         "outcome": "" if d["status"] == Status.OPEN else outcomes.get(d["status"], d["status"])}
        for d in deals[:PANEL_LIMIT]
    ]
    return {
        "rows": rows,
        "more": len(deals) > PANEL_LIMIT,
        "open_count": sum(1 for d in deals if d["status"] == Status.OPEN),
        "can_create": card.archived_at is None and scope_for(user).may_write_card(card),
    }


P = "deals/<int:deal_id>/"
urlpatterns = [
    path("deals/new/", new, name="deal-new"),
    path(P, detail, name="deal-detail"),
    path(P + "edit/", edit, name="deal-edit"),
    path(P + "signals/", signal, name="deal-signal"),
    path(P + "questions/", question, name="deal-question"),
    path(P + "buying-stage/", buying_stage, name="deal-buying-stage"),
    path(P + "people/", contact_add, name="deal-contact-add"),
    path(P + "people/<int:part_id>/", contact_edit, name="deal-contact-edit"),
    path(P + "needs/", need_add, name="deal-need-add"),
    path(P + "criteria/", criterion_add, name="deal-criterion-add"),
    path(P + "competitors/", competitor_add, name="deal-competitor-add"),
    path(P + "competitors/<int:part_id>/points/", point_add, name="deal-point-add"),
    path(P + "needs/<int:part_id>/remove/", remove, {"kind": "need"}, name="deal-need-remove"),
    path(P + "criteria/<int:part_id>/remove/", remove, {"kind": "criterion"}, name="deal-criterion-remove"),
    path(P + "competitors/<int:part_id>/remove/", remove, {"kind": "competitor"}, name="deal-competitor-remove"),
    path(P + "points/<int:part_id>/remove/", remove, {"kind": "point"}, name="deal-point-remove"),
    path(P + "negotiation/plan/", plan, name="deal-plan"),
    path(P + "negotiation/entries/", entry_add, name="deal-entry-add"),
    path(P + "negotiation/entries/<int:part_id>/confirm/", entry_confirm, name="deal-entry-confirm"),
    path(P + "close/", close, name="deal-close"),
    path(P + "follow-up/finish/", finish, name="deal-finish"),
    path(P + "order/", order, name="deal-order"),
]
