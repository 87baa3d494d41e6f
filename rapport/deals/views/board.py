"""The pipeline board: one column per step, filters, and moving a deal between steps (drag and
drop, the keyboard or the "Move to" buttons all post the same form).

A forward move the exit signals do not allow comes back with a dialog naming what is missing
and asking for an override reason; a move into follow-up service asks why the deal was won.
Nothing moves until the dialog is sent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from rapport.accounts import selectors as people
from rapport.accounts.models import User
from rapport.commerce.money import format_money
from rapport.core.errors import Conflict, NotFound, ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.visibility import scope_for
from rapport.core.web import is_htmx, web_view
from rapport.deals import content, selectors, services
from rapport.deals.forms import BoardFilterForm
from rapport.deals.models import STEP_ORDER, Deal, Status, Step
from rapport.segments import selectors as segments
from rapport.segments.models import Segment


def amounts_text(amounts: dict[str, Decimal]) -> list[str]:
    return [format_money(value, currency) for currency, value in sorted(amounts.items())]


def days_since(moment: dt.datetime) -> int:
    return max(0, (timezone.now() - moment).days)


# --- filters ----------------------------------------------------------------------------------------


@dataclass
class BoardFilters:
    owner_id: int | None = None
    team_id: int | None = None
    segment: Segment | None = None
    close_month: dt.date | None = None
    values: dict[str, str] = field(default_factory=dict)  # as the form shows them
    errors: list[str] = field(default_factory=list)

    @property
    def query(self) -> str:
        return urlencode({k: v for k, v in self.values.items() if v})


def _default_filters(user: User) -> dict[str, str]:
    """Reps see their own deals first; managers their team's; admins and analysts everything."""
    scope = scope_for(user)
    if scope.role == "rep":
        return {"owner": str(user.pk)}
    if scope.role == "manager" and scope.managed_team_ids:
        return {"owner": "all", "team": str(scope.managed_team_ids[0])}
    return {"owner": "all"}


def parse_filters(user: User, data: Any) -> BoardFilters:
    """The board's filters from a query string; unknown values are reported and left out."""
    given = {k: str(data.get(k, "")).strip()[:20] for k in ("owner", "team", "segment", "close_month") if k in data}
    values = given if "owner" in given else {**_default_filters(user), **given}
    flt = BoardFilters(values=dict(values))
    owner = values.get("owner", "")
    if owner not in ("", "all"):
        if owner.isdigit():
            flt.owner_id = int(owner)
        else:
            flt.errors.append(_("Unknown owner."))
    team = values.get("team", "")
    if team:
        if team.isdigit():
            flt.team_id = int(team)
        else:
            flt.errors.append(_("Unknown team."))
    if values.get("segment"):
        try:
            flt.segment = segments.get_segment(user, values["segment"])
        except NotFound:
            flt.errors.append(_("Unknown segment."))
            flt.values["segment"] = ""
    if values.get("close_month"):
        try:
            flt.close_month = dt.date.fromisoformat(values["close_month"] + "-01")
        except ValueError:
            flt.errors.append(_("Give the closing month as year and month, e.g. 2027-03."))
            flt.values["close_month"] = ""
    return flt


def filter_form(user: User, flt: BoardFilters) -> BoardFilterForm:
    owners = [("all", _("Everyone I can see"))]
    for u in people.filter_owners(user):
        owners.append((str(u.pk), _("Me") if u.pk == user.pk else u.get_username()))
    return BoardFilterForm(
        data=flt.values, owners=owners,
        teams=[(str(t.pk), t.name) for t in people.reachable_teams(user)],
        segments=[(str(s.pk), s.name) for s in segments.segments_for(user)[:200]],
    )


# --- the board ------------------------------------------------------------------------------------------


@dataclass
class Pending:
    """A move waiting for the user: the exit signals missing, and/or why a deal was won."""

    deal: Deal
    to: str
    missing: list[tuple[str, str]]  # (step label, signal label)
    won: bool
    errors: list[str] = field(default_factory=list)
    posted: dict[str, str] = field(default_factory=dict)

    @property
    def to_label(self) -> str:
        return content.step(self.to).label

    @property
    def reasons(self) -> list[tuple[str, str]]:
        return content.reasons("won")


def board_context(user: User, flt: BoardFilters, *, pending: Pending | None = None, saved: str = "",
                  errors: list[str] | None = None, focus: int | None = None) -> dict[str, Any]:
    columns = selectors.board(user, owner_id=flt.owner_id, team_id=flt.team_id, segment=flt.segment, close_month=flt.close_month)
    steps = [(s, content.step(s).label) for s in STEP_ORDER]
    for index, column in enumerate(columns):
        column.totals = amounts_text(column.amounts)  # type: ignore[attr-defined]
        column.position = index + 1  # type: ignore[attr-defined]
        _prepare_cards(column.deals, index)
    return {
        "columns": columns,
        "steps": steps,
        "close_label": _("Close"),
        "move_label": _("Move"),
        "filters": flt,
        "filter_form": filter_form(user, flt),
        "query": flt.query,
        "pending": pending,
        "saved": saved,
        "errors": [*(errors or []), *flt.errors],
        "focus": focus,
        "may_create": scope_for(user).role != "analyst",
    }


def _prepare_cards(deals: list[Deal], index: int) -> None:
    """What each kanban card shows, made here once rather than by the template per card."""
    # Every card links to its deal and posts its moves: the addresses are made once and filled in.
    detail_url, move_url = reverse("deal-detail", args=[0]), reverse("deal-move", args=[0])
    for deal in deals:
        deal.amount_text = format_money(deal.amount, deal.currency)  # type: ignore[attr-defined]
        days = days_since(deal.step_entered_at)
        deal.days_in_step = days  # type: ignore[attr-defined]
        deal.days_text = ngettext("%(days)s day in step", "%(days)s days in step", days) % {"days": days}  # type: ignore[attr-defined]
        if deal.expected_close is not None:
            deal.close_iso = deal.expected_close.isoformat()  # type: ignore[attr-defined]
            deal.close_text = date_format(deal.expected_close, "SHORT_DATE_FORMAT")  # type: ignore[attr-defined]
        deal.url = detail_url.replace("/0/", f"/{deal.pk}/")  # type: ignore[attr-defined]
        deal.move_url = move_url.replace("/0/", f"/{deal.pk}/")  # type: ignore[attr-defined]
        deal.previous_step = STEP_ORDER[index - 1] if deal.is_open and index > 0 else ""  # type: ignore[attr-defined]
        deal.next_step = STEP_ORDER[index + 1] if deal.is_open and index + 1 < len(STEP_ORDER) else ""  # type: ignore[attr-defined]


@require_GET
@web_view
def board_column(request: AuthedHttpRequest) -> HttpResponse:
    """The next cards of one column ("Show more"), under the board's filters."""
    flt = parse_filters(request.user, request.GET)
    step = str(request.GET.get("step", ""))
    offset = str(request.GET.get("offset", ""))
    if step not in STEP_ORDER or not offset.isdigit() or len(offset) > 9:
        return HttpResponse(_("Choose a step to move the deal to."), status=422)
    deals, more = selectors.board_column(request.user, step, offset=int(offset), owner_id=flt.owner_id, team_id=flt.team_id,
                                         segment=flt.segment, close_month=flt.close_month)
    _prepare_cards(deals, STEP_ORDER.index(step))
    return render(request, "deals/_board_cards.html", {
        "deals": deals, "step": step, "more": more, "next_offset": int(offset) + len(deals), "query": flt.query,
        "close_label": _("Close"), "move_label": _("Move"),
    })


@require_GET
@web_view
def board(request: AuthedHttpRequest) -> HttpResponse:
    flt = parse_filters(request.user, request.GET)
    context = board_context(request.user, flt)
    template = "deals/_board.html" if is_htmx(request) else "deals/board.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- moving a deal -------------------------------------------------------------------------------------


def _version(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and len(raw) < 18 else None


def _missing(items: list[services.ExitItem]) -> list[tuple[str, str]]:
    return [(content.step(i.signal.step).label, i.label) for i in items]


def try_move(user: User, deal: Deal, data: Any) -> tuple[str, Pending | None, list[str]]:
    """Runs one move: (message when done, the dialog when the user must say more, errors)."""
    to = str(data.get("to", "")).strip()
    version = _version(str(data.get("version", "")))
    override = str(data.get("override_reason", ""))
    posted = {k: str(data.get(k, ""))[:1000] for k in ("override_reason", "won_reason", "note", "reason")}
    if to not in STEP_ORDER:
        return "", None, [_("Choose a step to move the deal to.")]
    winning = to == Step.FOLLOW_UP and deal.status == Status.OPEN
    try:
        if winning:
            if not data.get("won_reason") and not data.get("confirm"):
                # The first drop into follow-up only asks why the deal was won.
                return "", Pending(deal, to, _missing(services.missing_to_reach(deal, to)), True), []
            services.close_deal(user=user, deal=deal, outcome=Status.WON, reason=data.get("won_reason", ""),
                                note=data.get("note", ""), override_reason=override, expected_version=version)
            return _("%(deal)s is won and in follow-up service.") % {"deal": deal.name}, None, []
        services.move_step(user=user, deal=deal, to=to, reason=data.get("reason", ""), override_reason=override,
                           expected_version=version)
    except services.ExitSignalsMissing as exc:
        again = bool(data.get("confirm"))
        errors = [_("Give the reason for moving without these signals, or cancel.")] if again else []
        return "", Pending(deal, to, _missing(exc.missing), winning, errors=errors, posted=posted), []
    except ValidationError as exc:
        problems = [m for ms in exc.errors.values() for m in ms]
        if winning:
            return "", Pending(deal, to, _missing(services.missing_to_reach(deal, to)), True, errors=problems, posted=posted), []
        return "", None, problems
    except Conflict as exc:
        return "", None, [str(exc)]
    return _("%(deal)s moved to %(step)s.") % {"deal": deal.name, "step": content.step(to).label}, None, []


@require_POST
@web_view
def move(request: AuthedHttpRequest, deal_id: int) -> HttpResponse:
    """Moves a deal; answers the board (or the deal page, ``back=deal``) with the outcome."""
    user = request.user
    deal = selectors.get_deal(user, deal_id)
    services.require_write(user, deal)
    saved, pending, errors = try_move(user, deal, request.POST)
    if request.POST.get("back") == "deal":
        from rapport.deals.views.deal import deal_response

        return deal_response(request, deal.pk, saved=saved, pending=pending, errors={"move": errors} if errors else None)
    flt = parse_filters(user, request.GET)
    status = 422 if pending or errors else 200
    if is_htmx(request):
        context = board_context(user, flt, pending=pending, saved=saved, errors=errors, focus=deal.pk)
        return render(request, "deals/_board.html", context, status=status)
    if pending:
        return render(request, "deals/move.html", {"pending": pending, "query": flt.query, "back": ""}, status=status)
    for message in errors:
        messages.error(request, message)
    if saved:
        messages.success(request, saved)
    return redirect(reverse("deal-list") + (f"?{flt.query}" if flt.query else ""))


urlpatterns = [
    path("deals/", board, name="deal-list"),
    path("deals/<int:deal_id>/move/", move, name="deal-move"),
    path("deals/column/", board_column, name="deal-column"),
]
