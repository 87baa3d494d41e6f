"""Pages: the relationship map of an organisation and the call/visit preparation of a contact."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rapport.activities.models import Activity
from rapport.cards.forms import add_service_errors
from rapport.cards.selectors import phones_to_call
from rapport.cards.models import Employment, Function, Kind, Level
from rapport.core.errors import ValidationError
from rapport.core.text import has_han
from rapport.core.http import AuthedHttpRequest
from rapport.core.templatetags.rapport_ui import phone_display
from rapport.core.visibility import scope_for, visible_through, visible_to
from rapport.core.web import web_view
from rapport.relationships import content, selectors, services
from rapport.relationships.forms import (
    GiftForm,
    MemberForm,
    QuestionnaireForm,
    RelationshipForm,
    StageForm,
    StyleForm,
    TypicalActivityForm,
)
from rapport.relationships.models import Attitude, BuyingRole, RelationshipKind, Style


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _names_in_reader_script(user: Any, people: list[int]) -> dict[int, str]:
    """In the Chinese interface, Chinese contacts by their name in characters (王小明, not Wang Xiaoming)."""
    if not (translation.get_language() or "").startswith("zh") or not people:
        return {}
    names = visible_to(user).filter(pk__in=people).exclude(local_name="").values_list("id", "local_name")
    return {person: name for person, name in names if has_han(name)}


def _map_context(request: AuthedHttpRequest, org_id: int, **forms: Any) -> dict[str, Any]:
    graph = selectors.decision_unit(request.user, org_id)
    org = graph.organization
    local_names = _names_in_reader_script(request.user, [n.person for n in graph.nodes])
    for node in graph.nodes:
        node.name = local_names.get(node.person, node.name)
    member_people = {n.person for n in graph.nodes if n.member is not None}
    # Driven by the organisation's employments, each person checked by primary key: a filter on
    # the cards would let the planner walk every card of the reader's teams.
    staff = (
        visible_through(request.user, Employment.objects.filter(organization=org, ended_on__isnull=True), "person")
        .filter(person__kind=Kind.PERSON)
        .exclude(person_id__in=member_people)
        .order_by("person__sort_name", "person_id")
        .values_list("person_id", "person__display_name")
        .distinct()[:500]
    )
    staff_list = list(staff)
    people = sorted({(n.person, n.name) for n in graph.nodes} | set(staff_list), key=lambda p: p[1].casefold())
    members = [
        {
            "node": n,
            "level": _label(Level, n.level),
            "function": _label(Function, n.function),
            "roles": ", ".join(_label(BuyingRole, r) for r in n.roles),
            "attitude": _label(Attitude, n.attitude),
        }
        for n in graph.nodes
        if n.member is not None
    ]
    labels = {
        "attitude": dict(Attitude.choices),
        "role": dict(BuyingRole.choices),
        "kind": dict(RelationshipKind.choices),
        "level": dict(Level.choices),
        "no_warnings": _("No warnings."),
        "saved": _("Saved."),
        "removed": _("Removed."),
        "failed": _("Could not save; check the fields."),
        "conflict": _("Someone else changed this person; the map has been reloaded."),
        "unknown_org": _("Other organisation"),
        "no_level": _("Level unknown"),
        "confirm_remove": _("Remove this person from the decision unit?"),
        "confirm_delete": _("Delete this relationship?"),
    }
    phones = phones_to_call(request.user, [n.person for n in graph.nodes])
    return {
        "org": org,
        "graph": graph,
        "phones": {str(person): {"tel": e164, "shown": phone_display(e164)} for person, e164 in phones.items()},
        "labels": {k: ({kk: str(vv) for kk, vv in v.items()} if isinstance(v, dict) else str(v)) for k, v in labels.items()},
        "local_names": {str(person): name for person, name in local_names.items()},
        "members": members,
        "can_write": scope_for(request.user).role != "analyst",
        "member_form": forms.get("member_form") or MemberForm(people=staff_list),
        "relationship_form": forms.get("relationship_form") or RelationshipForm(people=people),
        "attitudes": Attitude.choices,
        "roles": BuyingRole.choices,
        "kinds": RelationshipKind.choices,
    }


@web_view
def decision_unit_map(request: AuthedHttpRequest, org_id: int) -> HttpResponse:
    """The relationship map: people by organisation and level, coloured by attitude, sized by influence."""
    return render(request, "relationships/map.html", _map_context(request, org_id))


@require_POST
@web_view
def member_add(request: AuthedHttpRequest, org_id: int) -> HttpResponse:
    context = _map_context(request, org_id)
    staff = [(int(v), str(label)) for v, label in context["member_form"].fields["person"].choices]
    form = MemberForm(request.POST, people=staff)
    if form.is_valid():
        try:
            services.add_member(user=request.user, organization_id=org_id, data={"person": form.cleaned_data["person"], **form.service_data()})
        except ValidationError as exc:
            add_service_errors(form, exc.errors)
    if form.errors:
        context["member_form"] = form
        return render(request, "relationships/map.html", context, status=422)
    messages.success(request, _("Added to the decision unit."))
    return redirect(reverse("decision-unit", args=[org_id]))


@require_POST
@web_view
def relationship_add(request: AuthedHttpRequest, org_id: int) -> HttpResponse:
    context = _map_context(request, org_id)
    people = [(int(v), str(label)) for v, label in context["relationship_form"].fields["from_person"].choices]
    form = RelationshipForm(request.POST, people=people)
    if form.is_valid():
        try:
            services.add_relationship(user=request.user, data=dict(form.cleaned_data))
        except ValidationError as exc:
            add_service_errors(form, exc.errors)
    if form.errors:
        context["relationship_form"] = form
        return render(request, "relationships/map.html", context, status=422)
    messages.success(request, _("Relationship recorded."))
    return redirect(reverse("decision-unit", args=[org_id]))


def _prepare_context(request: AuthedHttpRequest, person_id: int, **forms: Any) -> dict[str, Any]:
    state = selectors.contact_state(request.user, person_id)
    person = state.person
    stages = [
        {
            "content": s,
            "evidence": [e for e in state.evidence if e.stage == s.key],
            "current": s.key == state.stage,
        }
        for s in content.stages()
    ]
    memberships = selectors.memberships_of(request.user, person)
    return {
        "person": person,
        "phones": list(person.phones.order_by("position", "id").values_list("e164", "kind")),  # the person is visible
        "state": state,
        "style_label": Style(state.style).label if state.style else "",
        "stage": content.stage(state.stage) if state.stage else None,
        "stages": stages,
        "memberships": memberships,
        "recent": Activity.objects.filter(participants__card=person).order_by("-occurred_at")[:5],
        "gifts": selectors.gifts_of(request.user, person.pk)[:20],
        "policy": selectors.gift_policy(),
        "employments": visible_through(request.user, Employment.objects.filter(person=person), "organization").select_related(
            "organization"
        ),
        "can_write": scope_for(request.user).role != "analyst",
        "stage_form": forms.get("stage_form") or StageForm(),
        "style_form": forms.get("style_form") or StyleForm(initial={"style": state.style}),
        "questionnaire_form": forms.get("questionnaire_form") or QuestionnaireForm(),
        "activity_form": forms.get("activity_form") or TypicalActivityForm(),
        "gift_form": forms.get("gift_form") or GiftForm(),
        "gift_warnings": forms.get("gift_warnings") or [],
    }


@web_view
def prepare(request: AuthedHttpRequest, person_id: int) -> HttpResponse:
    """Call and visit preparation: relationship stage with its evidence, style coaching, next step."""
    return render(request, "relationships/prepare.html", _prepare_context(request, person_id))


def _back(person_id: int, anchor: str = "") -> HttpResponse:
    return redirect(reverse("contact-prepare", args=[person_id]) + anchor)


def _prepare_post(
    request: AuthedHttpRequest, person_id: int, form: forms.Form, form_name: str,
    save: Callable[[dict[str, Any]], object], success: str, anchor: str,
) -> HttpResponse:
    """One form of the preparation page: saved through its service, or the page again with the errors."""
    selectors.get_person(request.user, person_id)
    if form.is_valid():
        try:
            save(form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc.errors)
    if form.errors:
        return render(request, "relationships/prepare.html", _prepare_context(request, person_id, **{form_name: form}), status=422)
    messages.success(request, success)
    return _back(person_id, anchor)


@require_POST
@web_view
def stage_move(request: AuthedHttpRequest, person_id: int) -> HttpResponse:
    return _prepare_post(
        request, person_id, StageForm(request.POST), "stage_form",
        lambda data: services.set_stage(user=request.user, person_id=person_id, stage=data["stage"], note=data["note"]),
        _("Relationship stage changed."), "#stage",
    )


@require_POST
@web_view
def style_set(request: AuthedHttpRequest, person_id: int) -> HttpResponse:
    return _prepare_post(
        request, person_id, StyleForm(request.POST), "style_form",
        lambda data: services.set_style(user=request.user, person_id=person_id, style=data["style"]),
        _("Communication style saved."), "#style",
    )


@require_POST
@web_view
def questionnaire(request: AuthedHttpRequest, person_id: int) -> HttpResponse:
    def save(data: dict[str, Any]) -> None:
        answers = {k: str(v) for k, v in data.items()}
        services.set_style(user=request.user, person_id=person_id, style=services.suggest_style(answers), answers=answers)

    return _prepare_post(
        request, person_id, QuestionnaireForm(request.POST), "questionnaire_form", save,
        _("The answers suggest this style; it has been saved. Change it if you know better."), "#style",
    )


@require_POST
@web_view
def typical_activity(request: AuthedHttpRequest, person_id: int) -> HttpResponse:
    return _prepare_post(
        request, person_id, TypicalActivityForm(request.POST), "activity_form",
        lambda data: services.log_relationship_activity(user=request.user, person_id=person_id, data=dict(data)),
        _("Activity logged."), "#stage",
    )


@require_POST
@web_view
def gift_add(request: AuthedHttpRequest, person_id: int) -> HttpResponse:
    selectors.get_person(request.user, person_id)
    form = GiftForm(request.POST)
    warnings: list[str] = []
    if form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        try:
            _gift, warnings = services.record_gift(user=request.user, person_id=person_id, data=data)
        except ValidationError as exc:
            warnings = exc.errors.get("value", []) if not form.cleaned_data.get("confirm_over_limit") else []
            add_service_errors(form, exc.errors)
    if form.errors:
        context = _prepare_context(request, person_id, gift_form=form, gift_warnings=warnings)
        return render(request, "relationships/prepare.html", context, status=422)
    if warnings:
        messages.warning(request, _("Recorded above the gift limit; the exception is in the audit log."))
    else:
        messages.success(request, _("Gift recorded."))
    return _back(person_id, "#gifts")
