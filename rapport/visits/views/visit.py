"""The visits pages a rep uses on the road: the day, the week plan and its approval, planning and
editing a visit, the visit page with check-in, the reflection before the visit, the report
after it (its draft kept on the phone until the connection returns), promises, where a
customer is, and the visits panel of a card.

Forms post plainly; a refused form shows the page again (422) with the errors next to the
fields and what was typed kept.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from rapport.accounts.models import User
from rapport.cards import selectors as cards
from rapport.cards.models import Card
from rapport.commerce.money import format_money, round_money
from rapport.core.errors import Conflict, NotFound, ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.visibility import scope_for, visible_to
from rapport.core.web import web_view
from rapport.visits import content, selectors, services
from rapport.visits.models import CheckState, IntelligenceKind, PlanStatus, Promise, PromiseBy, Result, Status, Visit

BLANK_PROMISES = 3
BLANK_NOTES = 2


def _day(raw: str | None) -> dt.date:
    if not raw:
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(raw[:10])
    except ValueError:
        raise NotFound("day") from None


def _rep(user: User, raw: str | None) -> User:
    """Whose visits a page shows: the user's own, or (``?user=``) one of a manager's people."""
    if not raw or raw == str(user.pk):
        return user
    scope = scope_for(user)
    if not raw.isdigit() or len(raw) > 12:
        raise NotFound("user")
    if not scope.sees_everything and int(raw) not in scope.managed_user_ids:
        raise NotFound("user")
    rep = User.objects.filter(pk=int(raw), is_active=True).first()
    if rep is None:
        raise NotFound("user")
    return rep


def _people_of_team(user: User) -> list[User]:
    scope = scope_for(user)
    if scope.sees_everything:
        return list(User.objects.filter(is_active=True).order_by("username")[:200])
    return [user, *User.objects.filter(pk__in=scope.managed_user_ids).order_by("username")]


def visit_row(visit: Visit) -> dict[str, Any]:
    return {
        "visit": visit,
        "objectives": [content.objective_label(o.kind) for o in visit.objectives.all()],
        "status": visit.get_status_display(),
    }


# --- the day and the week ------------------------------------------------------------------------------


@require_http_methods(["GET"])
@web_view
def day(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    rep = _rep(user, request.GET.get("user"))
    the_day = _day(request.GET.get("day"))
    # The customers' numbers come with them (one query), to call ahead from the road.
    visits = list(selectors.visible_visits(user).filter(owner=rep, planned_on=the_day).select_related("card")
                  .prefetch_related("objectives", "card__phones").order_by("position", "window_start", "id"))
    upcoming = list(selectors.visible_visits(user).filter(owner=rep, planned_on__gt=the_day, status=Status.PLANNED)
                    .select_related("card").order_by("planned_on", "position", "id")[:10])
    promises = selectors.promises_due(user, rep, the_day + dt.timedelta(days=7))
    return render(request, "visits/day.html", {
        "rep": rep, "is_self": rep.pk == user.pk, "day": the_day, "today": timezone.localdate(),
        "prev_day": the_day - dt.timedelta(days=1), "next_day": the_day + dt.timedelta(days=1),
        "rows": [visit_row(v) for v in visits], "upcoming": upcoming, "promises": promises,
        "people": _people_of_team(user), "waiting": selectors.plans_waiting(user),
        "monday": selectors.monday_of(the_day),
    })


@require_http_methods(["GET", "POST"])
@web_view
def week(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    rep = _rep(user, request.GET.get("user"))
    monday = selectors.monday_of(_day(request.GET.get("week")))
    errors: dict[str, list[str]] = {}
    plan = selectors.week_plan(rep, monday)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "submit" and rep.pk == user.pk:
                services.submit_week(user=user, week=monday.isoformat(), note=request.POST.get("note", ""))
                messages.success(request, _("Your week is sent to your manager for approval."))
            elif action in ("approve", "return") and plan is not None:
                services.decide_week(user=user, plan=plan, approve=action == "approve", note=request.POST.get("note", ""))
                messages.success(request, _("Week approved.") if action == "approve" else _("Week returned with your note."))
            else:
                raise ValidationError.single("action", _("Nothing to do."))
            return redirect(f"{reverse('visit-week')}?week={monday.isoformat()}&user={rep.pk}")
        except (ValidationError, Conflict) as exc:
            errors = exc.errors if isinstance(exc, ValidationError) else {"action": [str(exc)]}
    visits = selectors.week_visits(user, rep, monday)
    days = []
    for i in range(7):
        d = monday + dt.timedelta(days=i)
        days.append({"day": d, "rows": [visit_row(v) for v in visits if v.planned_on == d]})
    return render(request, "visits/week.html", {
        "rep": rep, "is_self": rep.pk == user.pk, "monday": monday, "days": days, "plan": plan, "errors": errors,
        "may_decide": plan is not None and plan.status == PlanStatus.SUBMITTED and services.may_instruct(user, rep.pk),
        "prev_week": monday - dt.timedelta(days=7), "next_week": monday + dt.timedelta(days=7),
        "count": sum(1 for v in visits if v.status != Status.CANCELLED),
        "people": _people_of_team(user),
    }, status=422 if errors else 200)


# --- planning a visit ------------------------------------------------------------------------------------


def _plan_data(post: QueryDict, *, with_customer: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "date": post.get("date", ""), "window_start": post.get("window_start", ""), "window_end": post.get("window_end", ""),
        "duration_minutes": post.get("duration_minutes", ""), "purpose": post.get("purpose", ""),
        "tools": post.getlist("tool"), "people": post.getlist("person_id"), "companions": post.getlist("companion"),
    }
    objectives = []
    for key in post.getlist("objective"):
        row: dict[str, Any] = {"kind": key, "note": post.get(f"note_{key}", "")}
        if post.get(f"target_{key}", "").strip():
            row["target_amount"] = post.get(f"target_{key}", "").strip()
            row["currency"] = post.get(f"currency_{key}", "")
        objectives.append(row)
    data["objectives"] = objectives
    if with_customer:
        customer = post.get("customer", "")
        kind, _sep, pk = customer.partition(":")
        data[kind if kind in ("organization", "person") else "organization"] = pk
    return data


def _customer_choices(user: User) -> list[tuple[str, str]]:
    return [(f"{c.kind}:{c.pk}", c.display_name) for c in visible_to(user).filter(archived_at__isnull=True).order_by("sort_name")[:300]]


def _people_choices(user: User, card: Card | None) -> list[Card]:
    if card is None:
        return []
    if card.kind == "person":
        return [card]
    from rapport.cards.models import Employment

    ids = Employment.objects.filter(organization=card, ended_on__isnull=True).values("person_id")
    return list(visible_to(user).filter(pk__in=ids).order_by("sort_name")[:50])


def _colleagues(user: User) -> list[User]:
    """Who may go along: the people of the user's teams and of the teams they manage."""
    scope = scope_for(user)
    team_ids = [*scope.team_ids, *scope.managed_team_ids]
    return list(User.objects.filter(is_active=True, teams__in=team_ids).exclude(pk=user.pk).distinct().order_by("username")[:50])


def _objective_rows(selected: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    rows = []
    for entry in content.objectives().values():
        chosen = selected.get(entry.key)
        rows.append({"entry": entry, "checked": chosen is not None, "target": (chosen or {}).get("target", ""),
                     "currency": (chosen or {}).get("currency", ""), "note": (chosen or {}).get("note", "")})
    return rows


def _posted_objectives(post: QueryDict) -> dict[str, dict[str, str]]:
    return {k: {"target": post.get(f"target_{k}", ""), "currency": post.get(f"currency_{k}", ""), "note": post.get(f"note_{k}", "")}
            for k in post.getlist("objective")}


def _default_currency() -> str:
    from rapport.commerce.money import reporting_currency

    return reporting_currency()


def _plan_context(user: User, *, visit: Visit | None, card: Card | None, posted: dict[str, Any],
                  objectives: dict[str, dict[str, str]], errors: dict[str, list[str]]) -> dict[str, Any]:
    tools = posted.get("tools", [])
    return {
        "visit": visit, "card": card, "posted": posted, "errors": errors,
        "customers": _customer_choices(user) if card is None else [],
        "objective_rows": _objective_rows(objectives),
        "tools": [{"entry": t, "checked": t.key in tools} for t in content.tools().values()],
        "people_choices": _people_choices(user, card),
        "chosen_people": [str(p) for p in posted.get("people", [])],
        "colleagues": _colleagues(user),
        "chosen_companions": [str(c) for c in posted.get("companions", [])],
        "default_currency": _default_currency(),
    }


def _error_list(errors: dict[str, list[str]]) -> list[str]:
    return [m for msgs in errors.values() for m in msgs]


@require_http_methods(["GET", "POST"])
@web_view
def new(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    card: Card | None = None
    for kind in ("organization", "person"):
        raw = request.GET.get(kind) or ""
        if raw:
            card = cards.get_card(user, raw, kind)
    errors: dict[str, list[str]] = {}
    posted: dict[str, Any] = {"date": request.GET.get("day", timezone.localdate().isoformat()), "tools": [], "people": []}
    objectives: dict[str, dict[str, str]] = {}
    # Linked from elsewhere with an objective ready (a collection task: collect this amount).
    wanted = request.GET.get("objective", "")
    if wanted in content.objectives():
        objectives[wanted] = {"target": request.GET.get("target", "")[:24], "currency": request.GET.get("currency", "")[:3], "note": ""}
    if request.method == "POST":
        data = _plan_data(request.POST, with_customer=card is None)
        if card is not None:
            data[card.kind] = card.pk
        try:
            visit = services.create_visit(user=user, data=data)
            messages.success(request, _("Visit planned."))
            return redirect("visit-detail", visit.pk)
        except ValidationError as exc:
            errors = exc.errors
        posted = {**data, "customer": request.POST.get("customer", "")}
        objectives = _posted_objectives(request.POST)
    context = _plan_context(user, visit=None, card=card, posted=posted, objectives=objectives, errors=errors)
    context["error_list"] = _error_list(errors)
    return render(request, "visits/plan.html", context, status=422 if errors else 200)


@require_http_methods(["GET", "POST"])
@web_view
def edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    visit = selectors.get_visit(user, pk)
    services.require_write(user, visit)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data = _plan_data(request.POST, with_customer=False)
        try:
            services.update_visit(user=user, visit=visit, data=data, expected_version=_version(request.POST))
            messages.success(request, _("Visit saved."))
            return redirect("visit-detail", visit.pk)
        except ValidationError as exc:
            errors = exc.errors
        except Conflict as exc:
            errors = {"version": [str(exc)]}
        posted = data
        objectives = _posted_objectives(request.POST)
    else:
        posted = {
            "date": visit.planned_on.isoformat(), "window_start": _hhmm(visit.window_start), "window_end": _hhmm(visit.window_end),
            "duration_minutes": visit.duration_minutes, "purpose": visit.purpose, "tools": list(visit.tools),
            "people": [p.pk for p in visit.people.all()], "companions": [u.pk for u in visit.companions.all()],
        }
        objectives = {o.kind: {"target": "" if o.target_amount is None else str(round_money(o.target_amount, o.currency)),
                               "currency": o.currency, "note": o.note} for o in visit.objectives.all()}
    context = _plan_context(user, visit=visit, card=visit.card, posted=posted, objectives=objectives, errors=errors)
    context["error_list"] = _error_list(errors)
    return render(request, "visits/plan.html", context, status=422 if errors else 200)


def _hhmm(t: dt.time | None) -> str:
    return t.strftime("%H:%M") if t else ""


def _version(post: QueryDict) -> int | None:
    raw = post.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


# --- the visit page ------------------------------------------------------------------------------------


def _visit_context(user: User, visit: Visit, *, errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    objectives = list(visit.objectives.all())
    results = dict(Result.choices)
    tools = content.tools()
    people = list(visit.people.all())
    # The distributor's and each person's number to call, as far as the user may see their cards.
    phones = cards.phones_to_call(user, [visit.card_id, *(p.pk for p in people)])
    return {
        "visit": visit, "card": visit.card, "errors": errors or {}, "card_phone": phones.get(visit.card_id, ""),
        "can_write": services.may_write(user, visit),
        "may_instruct": services.may_instruct(user, visit.owner_id),
        "objectives": [
            {"o": o, "label": content.objective_label(o.kind), "result": results.get(o.result, ""),
             "target": format_money(o.target_amount, o.currency) if o.target_amount is not None else "",
             "achieved": format_money(o.achieved_amount, o.currency) if o.achieved_amount is not None and o.currency else ""}
            for o in objectives
        ],
        "tools": [{"key": k, "label": tools[k].label if k in tools else k, "packed": packed} for k, packed in visit.tools.items()],
        "people": [{"card": p, "phone": phones.get(p.pk, "")} for p in people],
        "companions": list(visit.companions.all()),
        "promises": list(visit.promises.select_related("owner").all()),
        "outcome": results.get(visit.outcome, ""),
        "instructions_result": results.get(visit.instructions_result, ""),
        "retail": [{"label": content.retail_checks()[c.item].label if c.item in content.retail_checks() else c.item,
                    "state": c.get_state_display(), "ok": c.state == CheckState.OK, "note": c.note}
                   for c in visit.retail_checks.all()],
        "intelligence": [{"kind": i.get_kind_display(), "competitor": i.competitor, "text": i.text, "prospect": i.prospect_id}
                         for i in visit.intelligence.all()],
        "site": selectors.site_of(visit.card),
    }


@require_http_methods(["GET"])
@web_view
def detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    visit = selectors.get_visit(request.user, pk)
    return render(request, "visits/detail.html", _visit_context(request.user, visit))


@require_POST
@web_view
def act(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The small actions of the visit page: check in and out, tick a tool, instructions, cancel."""
    user = request.user
    visit = selectors.get_visit(user, pk)
    action = request.POST.get("action", "")
    try:
        if action == "check_in":
            services.check_in(user=user, visit=visit, latitude=request.POST.get("latitude"), longitude=request.POST.get("longitude"))
            messages.success(request, _("Checked in."))
        elif action == "check_out":
            services.check_out(user=user, visit=visit)
            messages.success(request, _("Checked out."))
        elif action == "tool":
            services.set_tool_packed(user=user, visit=visit, tool=request.POST.get("tool"), packed=request.POST.get("packed") == "1")
        elif action == "instructions":
            services.set_instructions(user=user, visit=visit, text=request.POST.get("instructions", ""))
            messages.success(request, _("Instructions saved."))
        elif action == "cancel":
            services.update_visit(user=user, visit=visit, data={"status": Status.CANCELLED})
            messages.success(request, _("Visit cancelled."))
        else:
            raise ValidationError.single("action", _("Nothing to do."))
    except (ValidationError, Conflict) as exc:
        errors = exc.errors if isinstance(exc, ValidationError) else {"action": [str(exc)]}
        return render(request, "visits/detail.html", _visit_context(user, visit, errors=errors), status=422)
    return redirect("visit-detail", visit.pk)


@require_http_methods(["GET"])
@web_view
def reflection(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    visit = selectors.get_visit(request.user, pk)
    r = selectors.reflection(request.user, visit)
    phones = cards.phones_to_call(request.user, [visit.card_id, *(p.card.pk for p in r.people)])
    return render(request, "visits/reflection.html", {
        "visit": visit, "card": visit.card, "r": r, "card_phone": phones.get(visit.card_id, ""),
        "people": [(p, phones.get(p.card.pk, "")) for p in r.people],
        "objectives": [{"label": content.objective_label(o.kind), "o": o,
                        "target": format_money(o.target_amount, o.currency) if o.target_amount is not None else ""}
                       for o in visit.objectives.all()],
        "invoices": [{"row": i, "open": format_money(i.invoice.open_amount, i.invoice.currency)} for i in r.invoices],
        "overdue": [format_money(amount, currency) for currency, amount in r.overdue_total],
        "previous_result": dict(Result.choices).get(r.previous.instructions_result, "") if r.previous else "",
        "previous_outcome": dict(Result.choices).get(r.previous.outcome, "") if r.previous else "",
    })


# --- the report ----------------------------------------------------------------------------------------


def _report_data(post: QueryDict, visit: Visit) -> dict[str, Any]:
    objectives = []
    for o in visit.objectives.all():
        row: dict[str, Any] = {"id": o.pk, "result": post.get(f"result_{o.pk}", ""), "result_note": post.get(f"result_note_{o.pk}", "")}
        if post.get(f"achieved_{o.pk}", "").strip():
            row["achieved_amount"] = post.get(f"achieved_{o.pk}", "").strip()
            row["currency"] = o.currency or post.get(f"achieved_currency_{o.pk}", "")
        objectives.append(row)
    promises = []
    for i in range(int(post.get("promise_rows", BLANK_PROMISES) or 0) if str(post.get("promise_rows", "")).isdigit() else BLANK_PROMISES):
        if i >= 50:
            break
        text = post.get(f"promise_text_{i}", "").strip()
        if text:
            promises.append({"by": post.get(f"promise_by_{i}", ""), "text": text, "due_on": post.get(f"promise_due_{i}", "")})
    retail = [{"item": k, "state": post.get(f"retail_{k}", ""), "note": post.get(f"retail_note_{k}", "")}
              for k in content.retail_checks() if post.get(f"retail_{k}", "")]
    intelligence = []
    for i in range(BLANK_NOTES):
        text = post.get(f"intel_text_{i}", "").strip()
        if text:
            intelligence.append({"kind": post.get(f"intel_kind_{i}", ""), "competitor": post.get(f"intel_competitor_{i}", ""), "text": text})
    data: dict[str, Any] = {
        "objectives": objectives, "outcome": post.get("outcome", ""), "outcome_note": post.get("outcome_note", ""),
        "strengths": post.get("strengths", ""), "improve": post.get("improve", ""), "summary": post.get("summary", ""),
        "promises": promises, "retail_checks": retail, "intelligence": intelligence,
        "report_token": post.get("report_token", ""),
    }
    if visit.instructions:
        data["instructions_result"] = post.get("instructions_result", "")
        data["instructions_note"] = post.get("instructions_note", "")
    return data


def _report_context(user: User, visit: Visit, *, post: QueryDict | None, errors: dict[str, list[str]]) -> dict[str, Any]:
    p = post or QueryDict()
    objectives = list(visit.objectives.all())
    index = {o.pk: i for i, o in enumerate(objectives)}
    labels = {i: content.objective_label(o.kind) for i, o in enumerate(objectives)}
    readable = []
    for key, msgs in errors.items():
        where = key
        if key.startswith("objectives[") and "]" in key:
            n = key[len("objectives["):key.index("]")]
            where = labels.get(int(n), key) if n.isdigit() else key
        elif key.startswith("promises["):
            where = _("Promises")
        elif key.startswith("intelligence["):
            where = _("Market intelligence")
        elif key.startswith("retail_checks["):
            where = _("Shop checklist")
        for m in msgs:
            readable.append(f"{where}: {m}" if where != key or "[" in key else m)
    return {
        "visit": visit, "card": visit.card, "errors": errors, "error_list": readable,
        "token": p.get("report_token") or secrets.token_urlsafe(16),
        "objectives": [{"o": o, "label": content.objective_label(o.kind), "has_amount": content.objectives().get(o.kind) is not None
                        and content.objectives()[o.kind].has_amount,
                        "result": p.get(f"result_{o.pk}", ""), "note": p.get(f"result_note_{o.pk}", ""),
                        "achieved": p.get(f"achieved_{o.pk}", ""), "index": index[o.pk],
                        "target": format_money(o.target_amount, o.currency) if o.target_amount is not None and o.currency else ""}
                       for o in objectives],
        "results": Result.choices,
        "promise_rows": [{"i": i, "by": p.get(f"promise_by_{i}", PromiseBy.US), "text": p.get(f"promise_text_{i}", ""),
                          "due": p.get(f"promise_due_{i}", "")} for i in range(BLANK_PROMISES)],
        "promise_by": PromiseBy.choices,
        "retail": [{"entry": e, "state": p.get(f"retail_{e.key}", ""), "note": p.get(f"retail_note_{e.key}", "")}
                   for e in content.retail_checks().values()],
        "check_states": CheckState.choices,
        "intel_rows": [{"i": i, "kind": p.get(f"intel_kind_{i}", ""), "competitor": p.get(f"intel_competitor_{i}", ""),
                        "text": p.get(f"intel_text_{i}", "")} for i in range(BLANK_NOTES)],
        "intel_kinds": IntelligenceKind.choices,
        "p": p,
    }


@require_http_methods(["GET", "POST"])
@web_view
def report(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    visit = selectors.get_visit(user, pk)
    services.require_write(user, visit)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            services.report_visit(user=user, visit=visit, data=_report_data(request.POST, visit))
            messages.success(request, _("Visit report sent."))
            return redirect("visit-detail", visit.pk)
        except ValidationError as exc:
            errors = exc.errors
        except Conflict as exc:
            errors = {"__all__": [str(exc)]}
    elif visit.status == Status.DONE:
        return redirect("visit-detail", visit.pk)
    return render(request, "visits/report.html", _report_context(user, visit, post=request.POST if errors else None, errors=errors),
                  status=422 if errors else 200)


# --- promises and where the customer is ------------------------------------------------------------------


@require_POST
@web_view
def keep_promise(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    user = request.user
    promise = selectors.get_visible(selectors.visible_promises(user).select_related("card"), pk, "promise")
    assert isinstance(promise, Promise)
    try:
        services.keep_promise(user=user, promise=promise, kept=request.POST.get("kept", "1") == "1")
        messages.success(request, _("Promise marked kept.") if request.POST.get("kept", "1") == "1" else _("Promise open again."))
    except ValidationError as exc:
        messages.error(request, " ".join(_error_list(exc.errors)))
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/") and not back.startswith("//") else reverse("visit-day"))


@require_http_methods(["GET", "POST"])
@web_view
def site(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    user = request.user
    card = cards.get_card(user, card_id, None)
    current = selectors.site_of(card)
    errors: dict[str, list[str]] = {}
    posted: dict[str, Any] = {
        "latitude": current.latitude if current and current.latitude is not None else "",
        "longitude": current.longitude if current and current.longitude is not None else "",
        "opens_at": _hhmm(current.opens_at) if current else "", "closes_at": _hhmm(current.closes_at) if current else "",
        "closed_weekdays": [str(d) for d in current.closed_weekdays] if current else [],
    }
    if request.method == "POST":
        posted = {k: request.POST.get(k, "") for k in ("latitude", "longitude", "opens_at", "closes_at")}
        posted["closed_weekdays"] = request.POST.getlist("closed_weekdays")
        try:
            services.set_site(user=user, card=card, data=posted)
            messages.success(request, _("Location and opening hours saved."))
            back = str(request.POST.get("next", ""))
            return redirect(back if back.startswith("/visits/") else cards_url(card))
        except ValidationError as exc:
            errors = exc.errors
    from django.utils.formats import date_format

    weekdays = [(str(i), date_format(dt.date(2024, 1, 1 + i), "l")) for i in range(7)]
    return render(request, "visits/site.html", {"card": card, "posted": posted, "errors": errors, "weekdays": weekdays,
                                                "next": request.GET.get("next", "")},
                  status=422 if errors else 200)


def cards_url(card: Card) -> str:
    return reverse("card-detail", args=[card.pk])


@require_http_methods(["GET", "POST"])
@web_view
def start_point(request: AuthedHttpRequest) -> HttpResponse:
    from rapport.visits.models import StartPoint

    user = request.user
    current = StartPoint.objects.filter(user=user).first()
    errors: dict[str, list[str]] = {}
    posted: dict[str, Any] = {"label": current.label if current else "", "latitude": current.latitude if current else "",
                              "longitude": current.longitude if current else "",
                              "leaves_at": _hhmm(current.leaves_at) if current else "08:30"}
    if request.method == "POST":
        posted = {k: request.POST.get(k, "") for k in ("label", "latitude", "longitude", "leaves_at")}
        try:
            services.set_start_point(user=user, data=posted)
            messages.success(request, _("Your starting point is saved."))
            return redirect("visit-day")
        except ValidationError as exc:
            errors = exc.errors
    return render(request, "visits/start.html", {"posted": posted, "errors": errors}, status=422 if errors else 200)


# --- the visits panel of a card ---------------------------------------------------------------------------


PANEL_PROMISES = 6


def panel_context(user: User, card: Card) -> dict[str, Any] | None:
    """The card's next visits, its last one, the promises not yet kept and its site. One probe
    first: most cards have no visit, promise or site, and a query answered in advance is skipped."""
    record = selectors.card_record(card)
    upcoming = selectors.upcoming_visits_of(user, card, limit=3) if record.upcoming else []
    last = selectors.last_visit_of(user, card) if record.done else None
    # One more than shown tells whether there are more.
    promises = selectors.open_promises(user, card, limit=PANEL_PROMISES + 1) if record.open_promises else []
    return {
        "upcoming": upcoming, "last": last, "last_outcome": dict(Result.choices).get(last["outcome"], "") if last else "",
        "promises": promises[:PANEL_PROMISES], "more_promises": len(promises) > PANEL_PROMISES,
        "can_plan": scope_for(user).may_write_card(card) and card.archived_at is None,
        "site": selectors.site_of(card) if record.site else None,
        "today": timezone.localdate(),
    }


urlpatterns = [
    path("visits/", day, name="visit-day"),
    path("visits/week/", week, name="visit-week"),
    path("visits/new/", new, name="visit-new"),
    path("visits/start/", start_point, name="visit-start"),
    path("visits/<int:pk>/", detail, name="visit-detail"),
    path("visits/<int:pk>/edit/", edit, name="visit-edit"),
    path("visits/<int:pk>/act/", act, name="visit-act"),
    path("visits/<int:pk>/reflection/", reflection, name="visit-reflection"),
    path("visits/<int:pk>/report/", report, name="visit-report"),
    path("visits/promises/<int:pk>/keep/", keep_promise, name="visit-promise-keep"),
    path("visits/site/<int:card_id>/", site, name="visit-site"),
]
