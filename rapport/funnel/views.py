"""The funnel panel on a card page, its forms, and the funnel report page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from rapport.accounts.models import Team, User
from rapport.cards import selectors as cards
from rapport.cards.models import Card, Stage
from rapport.catalog import selectors as catalog
from rapport.core.errors import ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.visibility import scope_for
from rapport.core.web import web_view
from rapport.funnel import rules, selectors, services
from rapport.funnel.charts import funnel_bars
from rapport.funnel.forms import ProspectingForm, QualificationForm, ReportFilterForm, StageMoveForm


def panel_context(user: User, card: Card) -> dict[str, Any]:
    """What the funnel panel of a card page shows: stage moves, qualification, prospecting, referrals.
    One probe first: most cards have no qualification and brought us nobody, and a read that
    would find nothing is skipped."""
    stage = card.lifecycle_stage
    qualifiable = stage in services.QUALIFIED_STAGES
    record = selectors.card_record(card)
    # Only a prospect or a target shows its qualification.
    q = selectors.qualification_of(card) if qualifiable and record.qualification else None
    targets = rules.legal_targets(stage)
    stage_labels = dict(Stage.choices)
    method = catalog.source_by_id(card.found_by_id) if card.found_by_id else None  # from the cached catalogue
    referrer = selectors.referrer_of(user, card)
    return {
        "stage_form": StageMoveForm(choices=[(s, stage_labels[s]) for s in targets]),
        "can_move": bool(targets),
        "qualifiable": qualifiable,
        "qualification": q,
        "qualification_form": QualificationForm(instance_data=q) if qualifiable else None,
        "treatment": selectors.treatment_for(q) if qualifiable else None,
        "target_gaps": [services.describe_gap(g) for g in services.target_gaps(q)] if stage == Stage.PROSPECT else [],
        "found_by": method.label if method else "",
        "referrer": referrer,
        "referrer_picker": {"id": f"referrer-{card.pk}", "name": "referred_by", "label": _("Referred by"), "multiple": False,
                            "kind": ""},
        "referrer_choices": [referrer] if referrer else [],
        "referrer_chosen": {referrer.pk} if referrer else set(),
        "referrals": selectors.referrals_of(user, card, limit=50) if record.referrals else [],
        # The choices of ProspectingForm's ``found_by``, drawn by the template itself: Django's
        # widget templates cost more than the rest of the panel put together.
        "methods": [("", "—"), *selectors.methods()],
        "found_by_key": method.key if method else "",
        "history": [{**move, "rule": rules.rule_label(move["rule"])} for move in selectors.recent_moves(card, limit=10)],
    }


def _back(card: Card) -> HttpResponse:
    return redirect(reverse("card-detail", args=[card.id]) + "#funnel")


def _report_errors(request: AuthedHttpRequest, exc: ValidationError) -> None:
    for field_name, msgs in exc.errors.items():
        if field_name in ("rule", "missing"):
            continue
        for message in msgs:
            messages.error(request, message)


@require_POST
@web_view
def move_stage(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    card = cards.get_card(request.user, card_id)
    form = StageMoveForm(request.POST, choices=[(s, s) for s in Stage.values])
    if not form.is_valid():
        messages.error(request, _("Choose the stage to move to."))
        return _back(card)
    try:
        services.move_stage(user=request.user, card=card, to_stage=form.cleaned_data["to"], reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        _report_errors(request, exc)
    else:
        messages.success(request, _("Stage changed."))
    return _back(card)


@require_POST
@web_view
def save_qualification(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    card = cards.get_card(request.user, card_id)
    form = QualificationForm(request.POST)
    if not form.is_valid():
        for errs in form.errors.values():
            for message in errs:
                messages.error(request, str(message))
        return _back(card)
    try:
        services.set_qualification(user=request.user, card=card, data=form.service_data())
    except ValidationError as exc:
        _report_errors(request, exc)
    else:
        messages.success(request, _("Qualification saved."))
    return _back(card)


@require_POST
@web_view
def save_prospecting(request: AuthedHttpRequest, card_id: int) -> HttpResponse:
    card = cards.get_card(request.user, card_id)
    form = ProspectingForm(request.POST, methods=selectors.methods())
    if not form.is_valid():
        for errs in form.errors.values():
            for message in errs:
                messages.error(request, str(message))
        return _back(card)
    data = dict(form.cleaned_data)
    if data.get("referred_by") is None and card.referred_by_id and selectors.referrer_of(request.user, card) is None:
        del data["referred_by"]  # a referrer out of the user's sight was not on the form: it stays as it is
    try:
        services.set_prospecting(user=request.user, card=card, data=data)
    except ValidationError as exc:
        _report_errors(request, exc)
    else:
        messages.success(request, _("Prospecting saved."))
    return _back(card)


def _filter_choices(user: User) -> dict[str, Any]:
    scope = scope_for(user)
    if scope.sees_everything:
        teams = list(Team.objects.order_by("name").values_list("id", "name"))
        reps = list(User.objects.filter(is_active=True).order_by("username").values_list("id", "username"))
    else:
        team_ids = set(scope.team_ids) | set(scope.managed_team_ids)
        teams = list(Team.objects.filter(pk__in=team_ids).order_by("name").values_list("id", "name"))
        reps = list(
            User.objects.filter(is_active=True, teams__in=team_ids).distinct().order_by("username").values_list("id", "username")
        ) or [(user.id, user.get_username())]
    from rapport.segments.selectors import segments_for

    segments = [(s.id, s.name) for s in segments_for(user)]
    return {"teams": teams, "reps": reps, "methods": selectors.methods(), "segments": segments}


@require_GET
@web_view
def funnel_report(request: AuthedHttpRequest) -> HttpResponse:
    form = ReportFilterForm(request.GET or None, **_filter_choices(request.user))
    context: dict[str, Any] = {"form": form}
    if form.is_bound and not form.is_valid():
        return render(request, "funnel/report.html", context, status=422)
    flt = form.report_filter() if form.is_bound else selectors.ReportFilter()
    try:
        report = selectors.funnel_report(request.user, flt)
        context["methods"] = selectors.method_report(request.user, flt)
        context["sources"] = selectors.method_report(request.user, flt, by="source")
        context["referrers"] = selectors.referrer_report(request.user, flt, limit=20)
    except ValidationError as exc:
        for field_name, msgs in exc.errors.items():
            form.add_error(field_name if field_name in form.fields else None, msgs)
        return render(request, "funnel/report.html", context, status=422)
    labels = dict(Stage.choices)
    context.update({
        "report": report,
        "rows": [
            {"stage": s, "label": labels[s], "count": report.counts[s], **report.time_in_stage[s]} for s in Stage.values
        ],
        "conversions": [{**c, "from_label": labels[c["from"]], "to_label": labels[c["to"]]} for c in report.conversions],
        "chart": funnel_bars([(str(labels[s]), report.counts[s]) for s in Stage.values]),
        "is_past": report.as_of != dt.date.today(),
    })
    return render(request, "funnel/report.html", context)
