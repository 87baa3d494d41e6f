"""The agenda's pages: Today (the rep's home after sign-in) with one-click done, snooze and
"log a call", a new task, a manager's view of the team's overdue work, the calendar and digest
settings, and the secret calendar address itself. The same services as the API and the CLI."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from rapport.agenda import calendar, selectors, services
from rapport.agenda.models import Recurrence
from rapport.core.errors import NotFound, ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.visibility import scope_for, visible_to
from rapport.core.web import is_htmx, web_view


# A long overdue list is cut on the page (all of it one click away): it is worked from the top.
OVERDUE_SHOWN = 30


def _messages(errors: dict[str, list[str]]) -> list[str]:
    return [" ".join(m) for m in errors.values()]


@require_http_methods(["GET"])
@web_view
def today(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    every = request.GET.get("all") == "1"
    agenda = selectors.today_of(user, overdue_shown=None if every else OVERDUE_SHOWN)
    shown = agenda.overdue if every else agenda.overdue[:OVERDUE_SHOWN]
    # Each line's action addresses from one reverse() each, not one per line.
    return render(request, "agenda/today.html", {
        "agenda": agenda, "overdue": shown, "more_overdue": agenda.overdue_total - len(shown),
        # The same few <option>s on every task line: escaped once here, not once per line.
        "snooze_options": format_html_join("", '<option value="{}">{}</option>', (
            (n, ngettext("%(days)s day", "%(days)s days", n) % {"days": n}) for n in services.SNOOZE_DAYS)),
        "done_url": reverse("agenda-task-done", args=[0]).replace("/0/", "/{}/"),
        "snooze_url": reverse("agenda-task-snooze", args=[0]).replace("/0/", "/{}/"),
        "call_url": reverse("agenda-log-call"),
        "labels": {"done": _("Done"), "call": _("Log a call"), "snooze": _("Snooze"), "snooze_for": _("Snooze for")},
        "is_manager": scope_for(user).role in ("manager", "admin"),
    })


def _item_answer(request: AuthedHttpRequest, task_id: int, note: str, *, error: str = "") -> HttpResponse:
    """htmx: the line replaced by what happened; otherwise back to Today with a message."""
    if is_htmx(request):
        return render(request, "agenda/_done.html", {"note": note, "error": error, "task_id": task_id},
                      status=422 if error else 200)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, note)
    return redirect("agenda-today")


@require_POST
@web_view
def task_done(request: AuthedHttpRequest, task_id: int) -> HttpResponse:
    task = selectors.get_task(request.user, task_id)
    try:
        services.complete_task(user=request.user, task=task)
    except ValidationError as exc:
        return _item_answer(request, task_id, "", error=" ".join(_messages(exc.errors)))
    return _item_answer(request, task_id, _("Done: %(title)s") % {"title": task.title})


@require_POST
@web_view
def task_snooze(request: AuthedHttpRequest, task_id: int) -> HttpResponse:
    task = selectors.get_task(request.user, task_id)
    try:
        task = services.snooze_task(user=request.user, task=task, days=request.POST.get("days", "1"))
    except ValidationError as exc:
        return _item_answer(request, task_id, "", error=" ".join(_messages(exc.errors)))
    return _item_answer(request, task_id, _("Moved to %(day)s: %(title)s") % {"day": date_format(task.due_on), "title": task.title})


@require_POST
@web_view
def log_call(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    task = None
    raw_task = request.POST.get("task", "")
    if raw_task:
        task = selectors.get_task(user, raw_task)
    try:
        services.log_call(user=user, card_id=request.POST.get("card", ""), summary=request.POST.get("summary", ""), task=task)
    except ValidationError as exc:
        return _item_answer(request, task.pk if task else 0, "", error=" ".join(_messages(exc.errors)))
    return _item_answer(request, task.pk if task else 0, _("Call logged."))


def _task_data(post: Any) -> dict[str, Any]:
    data = {k: post.get(k, "") for k in ("title", "note", "due_on", "due_time", "recurrence", "card", "owner")}
    return {k: v for k, v in data.items() if v != "" or k in ("title",)}


@require_http_methods(["GET", "POST"])
@web_view
def task_new(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    errors: dict[str, list[str]] = {}
    posted: dict[str, Any] = {"card": request.GET.get("card", ""), "due_on": selectors.local_today(user).isoformat()}
    if request.method == "POST":
        posted = _task_data(request.POST)
        try:
            services.create_task(user=user, data=posted)
            messages.success(request, _("Task added."))
            back = request.POST.get("next", "")
            return redirect(back if back.startswith("/") and not back.startswith("//") else reverse("agenda-today"))
        except ValidationError as exc:
            errors = exc.errors
    card = None
    if str(posted.get("card", "")).isdigit():
        card = visible_to(user).filter(pk=int(posted["card"])).first()
    scope = scope_for(user)
    people = []
    if scope.managed_user_ids:
        from rapport.accounts.models import User

        people = list(User.objects.filter(pk__in=scope.managed_user_ids, is_active=True).order_by("username"))
    return render(request, "agenda/task_form.html", {
        "posted": posted, "errors": errors, "error_list": _messages(errors), "card": card,
        "recurrences": Recurrence.choices, "people": people, "next": request.GET.get("next", ""),
    }, status=422 if errors else 200)


@require_http_methods(["GET"])
@web_view
def team(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    if scope_for(user).role not in ("manager", "admin"):
        raise NotFound("team")
    return render(request, "agenda/team.html", {"rows": selectors.team_overdue(user)})


@require_http_methods(["GET", "POST"])
@web_view
def settings_page(request: AuthedHttpRequest) -> HttpResponse:
    user = request.user
    secret = ""
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "renew":
                secret = services.renew_feed(user=user)
                messages.success(request, _("New calendar address made: the old one no longer works."))
            elif action == "revoke":
                services.revoke_feed(user=user)
                messages.success(request, _("Calendar address turned off."))
            elif action == "settings":
                services.update_settings(user=user, data={"time_zone": request.POST.get("time_zone", "").strip(),
                                                          "digest": request.POST.get("digest") == "on"})
                messages.success(request, _("Settings saved."))
                return redirect("agenda-settings")
        except ValidationError as exc:
            errors = exc.errors
    profile = services.profile_of(user)
    address = request.build_absolute_uri(reverse("agenda-feed", args=[secret])) if secret else ""
    return render(request, "agenda/settings.html", {
        "profile": profile, "address": address, "errors": errors, "error_list": _messages(errors),
    }, status=422 if errors else 200)


@require_http_methods(["GET", "HEAD"])
def feed(request: HttpRequest, secret: str) -> HttpResponse:
    """The calendar at its secret address: no sign-in (calendar apps cannot sign in), the secret is
    the key. An unknown or revoked secret answers 404."""
    try:
        owner = services.feed_owner(secret)
    except NotFound:
        raise Http404("calendar") from None
    body = calendar.feed(owner, base_url=request.build_absolute_uri("/").rstrip("/"))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="rapport.ics"'
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
