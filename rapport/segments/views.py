"""Segment pages: the list with live counts, the builder, the members and their CSV export."""

from __future__ import annotations

import csv
from typing import Any, cast

from django.contrib import messages
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rapport.accounts.models import Team, User
from rapport.cards import selectors as cards
from rapport.core.errors import ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.visibility import scope_for
from rapport.core.web import web_view
from rapport.funnel.selectors import methods
from rapport.segments import selectors, services
from rapport.segments.forms import SegmentForm
from rapport.segments.models import Segment

PAGE = 50


def panel_context(user: User, card: Any) -> dict[str, Any] | None:
    """The card's segmentation dimensions as of the last ``rapport segments refresh``."""
    from rapport.segments.forms import DIMENSION_LABELS
    from rapport.segments.models import Dimensions

    dims = Dimensions.objects.filter(card_id=card.pk).first()
    if dims is None:
        return None
    flags = [
        {"key": key, "label": label, "value": getattr(dims, key)} for key, label in DIMENSION_LABELS.items()
    ]
    return {"flags": flags, "refreshed_at": dims.refreshed_at}


def _choices(user: User) -> dict[str, Any]:
    scope = scope_for(user)
    if scope.role == "admin":
        teams = list(Team.objects.order_by("name").values_list("id", "name"))
    else:
        teams = list(Team.objects.filter(pk__in=set(scope.team_ids) | set(scope.managed_team_ids)).order_by("name").values_list("id", "name"))
    if scope.sees_everything:
        users = list(User.objects.filter(is_active=True).order_by("username").values_list("id", "username"))
    else:
        ids = {user.id, *scope.managed_user_ids}
        ids |= set(User.objects.filter(teams__in=scope.team_ids).values_list("id", flat=True))
        users = list(User.objects.filter(pk__in=ids, is_active=True).order_by("username").values_list("id", "username"))
    items = [(i.key, i.label) for i in cards.filterable_items(user, None)]
    return {"teams": teams, "users": users, "methods": methods(), "items": items}


def _count_or_error(user: User, segment: Segment) -> dict[str, Any]:
    try:
        n, exact = selectors.count(user, segment.kind, segment.conditions)
        return {"segment": segment, "count": n, "exact": exact, "error": ""}
    except ValidationError:
        return {"segment": segment, "count": None, "exact": True, "error": _("Refers to an item you may not use, or one that was deleted.")}


@require_GET
@web_view
def segment_list(request: AuthedHttpRequest) -> HttpResponse:
    rows = [_count_or_error(request.user, s) for s in selectors.segments_for(request.user)[:200]]
    return render(request, "segments/list.html", {"rows": rows})


def _apply_errors(form: SegmentForm, exc: ValidationError) -> None:
    for field_name, msgs in exc.errors.items():
        target = field_name if field_name in form.fields else None
        if field_name == "team":
            target = "share_with"
        for message in msgs:
            form.add_error(target, f"{field_name}: {message}" if target is None else message)


@require_http_methods(["GET", "POST"])
@web_view
def segment_edit(request: AuthedHttpRequest, segment_id: int | None = None) -> HttpResponse:
    segment = selectors.get_segment(request.user, segment_id) if segment_id else None
    initial = SegmentForm.initial_from(segment) if segment else {}
    form = SegmentForm(request.POST or None, initial=initial, **_choices(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            if segment is None:
                segment = services.create_segment(user=request.user, data=form.segment_data())
            else:
                segment = services.update_segment(user=request.user, segment=segment, data=form.segment_data())
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Segment saved."))
            return redirect("segment-detail", segment.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "segments/form.html", {"form": form, "segment": segment}, status=status)


@require_GET
@web_view
def segment_count(request: AuthedHttpRequest) -> HttpResponse:
    """Live member count of the builder's current conditions (htmx, on every change)."""
    form = SegmentForm(request.GET, **_choices(request.user))
    form.is_valid()  # the name may still be empty: count whatever conditions parse
    data = form.segment_data() if hasattr(form, "cleaned_data") else {"kind": "", "conditions": []}
    try:
        n, exact = selectors.count(request.user, str(data["kind"]), data["conditions"])
        context: dict[str, Any] = {"count": n, "exact": exact}
    except ValidationError as exc:
        context = {"error": "; ".join(m for msgs in exc.errors.values() for m in msgs)}
    return render(request, "segments/_count.html", context)


def _card_id(raw: str) -> int | None:
    """A cursor from the address: empty, or digits (``member_page`` checks the card)."""
    raw = raw.strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()):
        raise ValidationError.single("cursor", "Expected a card id.")
    return int(raw)


@require_GET
@web_view
def segment_detail(request: AuthedHttpRequest, segment_id: int) -> HttpResponse:
    segment = selectors.get_segment(request.user, segment_id)
    context: dict[str, Any] = {"segment": segment, "may_edit": segment.owner_id == request.user.id}
    try:
        n, exact = selectors.count(request.user, segment.kind, segment.conditions)
    except ValidationError as exc:
        context["error"] = "; ".join(m for msgs in exc.errors.values() for m in msgs)
        return render(request, "segments/detail.html", context, status=422)
    context.update({"count": n, "exact": exact})
    # Pages follow a card id (never a name) in name order: ?after=<id> or ?before=<id>.
    try:
        after, before = (_card_id(request.GET.get(name, "")) for name in ("after", "before"))
        page = selectors.member_page(request.user, segment, after=after, before=before, limit=PAGE, known_count=(n, exact))
    except ValidationError:
        context["page_error"] = _("That page does not exist. Start again from the first page.")
        return render(request, "segments/detail.html", context, status=400)
    context.update({
        "members": page.cards, "next_after": page.next_after, "prev_before": page.prev_before,
        "paged": after is not None or before is not None,
    })
    return render(request, "segments/detail.html", context)


@require_POST
@web_view
def segment_delete(request: AuthedHttpRequest, segment_id: int) -> HttpResponse:
    segment = selectors.get_segment(request.user, segment_id)
    services.delete_segment(user=request.user, segment=segment)
    messages.success(request, _("Segment deleted."))
    return redirect(reverse("segment-list"))


class _Echo:
    def write(self, value: str) -> str:
        return value


def _safe(value: Any) -> str:
    # A cell starting with = + - @ (or a tab/CR) would run as a formula in a spreadsheet.
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@require_GET
@web_view
def segment_export(request: AuthedHttpRequest, segment_id: int) -> HttpResponse:
    segment = selectors.get_segment(request.user, segment_id)
    qs = selectors.members_queryset(request.user, segment).order_by("sort_name", "id").select_related("owner", "team")
    writer = csv.writer(_Echo())

    def rows() -> Any:
        yield writer.writerow(["id", "kind", "name", "stage", "tier", "industry", "owner", "team"])
        for c in qs.iterator(chunk_size=2000):
            yield writer.writerow([_safe(v) for v in (
                c.id, c.kind, c.display_name, c.lifecycle_stage, c.tier, c.industry, c.owner.get_username(),
                c.team.name if c.team else "",
            )])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="segment-{segment.pk}.csv"'
    # Streamed, so a large segment never sits in memory; web_view passes any response through.
    return cast(HttpResponse, response)
