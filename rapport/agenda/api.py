"""REST endpoints of the agenda: tasks (list, create, read, change with If-Match, done, snooze,
delete), Today, the team's overdue work, the user's settings and calendar address.

A task out of reach answers 404 exactly like a missing one. Writes go through
``rapport.agenda.services``, which refuse unknown fields and bad values by name (422).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpResponse
from django.urls import reverse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from rapport.agenda import selectors, services
from rapport.agenda.schemas import (
    CalendarOut,
    RepOverdueOut,
    SettingsIn,
    SettingsOut,
    SnoozeIn,
    TaskIn,
    AgendaTaskList,
    AgendaTaskOut,
    TaskPatch,
    TodayOut,
)
from rapport.core.errors import NotFound
from rapport.core.http import AuthedHttpRequest, if_match_version, sent_fields
from rapport.core.pagination import PageParams
from rapport.core.visibility import scope_for

router = Router(tags=["agenda"])


class TaskFilter(Schema):
    status: str = Field("open", pattern="^(open|done|all)$")
    owner: int | None = Field(None, ge=1, le=2**62, description="User id; default: you")
    customer: int | None = Field(None, ge=1, le=2**62, description="Card id")
    due_from: dt.date | None = None
    due_to: dt.date | None = None
    source: str | None = Field(None, max_length=20)


def _task(request: AuthedHttpRequest, response: HttpResponse, task_id: int) -> dict[str, Any]:
    task = selectors.get_task(request.user, task_id)
    response["ETag"] = f'"{task.version}"'
    return AgendaTaskOut.of(task)


@router.get("/tasks", response=AgendaTaskList, summary="Tasks and reminders (yours by default), by due date")
def list_tasks(request: AuthedHttpRequest, flt: Query[TaskFilter], page: Query[PageParams]) -> dict[str, Any]:
    qs = selectors.visible_tasks(request.user).filter(owner_id=flt.owner or request.user.pk)
    if flt.status == "open":
        qs = qs.filter(done_at__isnull=True)
    elif flt.status == "done":
        qs = qs.filter(done_at__isnull=False)
    if flt.customer:
        qs = qs.filter(card_id=flt.customer)
    if flt.due_from:
        qs = qs.filter(due_on__gte=flt.due_from)
    if flt.due_to:
        qs = qs.filter(due_on__lte=flt.due_to)
    if flt.source:
        qs = qs.filter(source=flt.source)
    offset, limit = page.clamp()
    qs = qs.order_by("due_on", "due_time", "id")
    return {"items": [AgendaTaskOut.of(t) for t in qs[offset:offset + limit]], "count": qs.count()}


@router.post("/tasks", response={201: AgendaTaskOut}, summary="Add a task or follow-up")
def create_task(request: AuthedHttpRequest, response: HttpResponse, payload: TaskIn) -> Any:
    task = services.create_task(user=request.user, data=sent_fields(request, payload))
    return Status(201, _task(request, response, task.pk))


@router.get("/tasks/{task_id}", response=AgendaTaskOut, summary="One task (ETag: its version)")
def get_task(request: AuthedHttpRequest, response: HttpResponse, task_id: int) -> dict[str, Any]:
    return _task(request, response, task_id)


@router.patch("/tasks/{task_id}", response=AgendaTaskOut, summary="Change or reschedule a task (If-Match: its ETag)")
def update_task(request: AuthedHttpRequest, response: HttpResponse, task_id: int, payload: TaskPatch) -> dict[str, Any]:
    """Without If-Match: 428; on a version someone else changed since: 412; an unknown field: 422 naming it."""
    task = selectors.get_task(request.user, task_id)
    expected = if_match_version(request, required=True, what="task")
    services.update_task(user=request.user, task=task, data=sent_fields(request, payload), expected_version=expected)
    return _task(request, response, task_id)


@router.post("/tasks/{task_id}/done", response=AgendaTaskOut, summary="Mark a task done (a repeating one comes back on its next date)")
def complete_task(request: AuthedHttpRequest, response: HttpResponse, task_id: int) -> dict[str, Any]:
    task = selectors.get_task(request.user, task_id)
    services.complete_task(user=request.user, task=task, expected_version=if_match_version(request, what="task"))
    return _task(request, response, task_id)


@router.post("/tasks/{task_id}/snooze", response=AgendaTaskOut, summary="Put a task off by some days")
def snooze_task(request: AuthedHttpRequest, response: HttpResponse, task_id: int, payload: SnoozeIn) -> dict[str, Any]:
    task = selectors.get_task(request.user, task_id)
    services.snooze_task(user=request.user, task=task, days=payload.days, expected_version=if_match_version(request, what="task"))
    return _task(request, response, task_id)


@router.delete("/tasks/{task_id}", response={204: None}, summary="Delete a task")
def delete_task(request: AuthedHttpRequest, task_id: int) -> Any:
    task = selectors.get_task(request.user, task_id)
    services.delete_task(user=request.user, task=task, expected_version=if_match_version(request, what="task"))
    return Status(204, None)


class TodayParams(Schema):
    days: int = Field(selectors.DAYS_AHEAD, ge=0, le=31, description="How many days ahead")
    overdue_limit: int | None = Field(None, ge=0, le=selectors.OVERDUE_MOST,
                                      description="Only the oldest this many overdue lines (the page shows 30); overdue_total "
                                                  f"still counts them all. Default: up to {selectors.OVERDUE_MOST}")


@router.get("/today", response=TodayOut, by_alias=True, summary="Your day: overdue first, then today, then the next days")
def today(request: AuthedHttpRequest, params: Query[TodayParams]) -> dict[str, Any]:
    return TodayOut.of(selectors.today_of(request.user, days=params.days, overdue_shown=params.overdue_limit))


@router.get("/team-overdue", response=list[RepOverdueOut], summary="A manager's view: the overdue work of their people")
def team_overdue(request: AuthedHttpRequest) -> list[dict[str, Any]]:
    if scope_for(request.user).role not in ("manager", "admin"):
        raise NotFound("team")
    return [RepOverdueOut.of(r) for r in selectors.team_overdue(request.user)]


def _settings(request: AuthedHttpRequest) -> dict[str, Any]:
    profile = services.profile_of(request.user)
    return {"time_zone": profile.time_zone, "digest": profile.digest, "calendar": bool(profile.feed_hash)}


@router.get("/settings", response=SettingsOut, summary="Your time zone, daily e-mail and whether your calendar address is on")
def get_settings(request: AuthedHttpRequest) -> dict[str, Any]:
    return _settings(request)


@router.patch("/settings", response=SettingsOut, summary="Change your time zone or daily e-mail")
def update_settings(request: AuthedHttpRequest, payload: SettingsIn) -> dict[str, Any]:
    services.update_settings(user=request.user, data=sent_fields(request, payload))
    return _settings(request)


@router.post("/calendar", response={201: CalendarOut}, summary="A new secret calendar address (the old one stops working)")
def renew_calendar(request: AuthedHttpRequest) -> Any:
    secret = services.renew_feed(user=request.user)
    return Status(201, {"url": request.build_absolute_uri(reverse("agenda-feed", args=[secret]))})


@router.delete("/calendar", response={204: None}, summary="Turn the calendar address off")
def revoke_calendar(request: AuthedHttpRequest) -> Any:
    services.revoke_feed(user=request.user)
    return Status(204, None)

