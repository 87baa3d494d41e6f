"""Request and response shapes of the agenda API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

from rapport.agenda.models import Task
from rapport.agenda.selectors import Item, RepOverdue, Today

Id = int


class TaskIn(Schema):
    title: str = Field(..., max_length=300)
    note: str = Field("", max_length=10_000)
    due_on: dt.date | None = Field(None, description="Default: today")
    due_time: str | None = Field(None, max_length=8, description="HH:MM")
    recurrence: str = Field("", max_length=8, description='"", "daily", "weekly", "monthly" or "yearly"')
    card: Id | None = Field(None, description="The customer's card id")
    deal: Id | None = Field(None, description="A deal of that customer")
    visit: Id | None = Field(None, description="A visit to that customer")
    owner: Id | None = Field(None, description="Whose task; default: you (a manager may give it to one of their people)")


class TaskPatch(Schema):
    title: str | None = Field(None, max_length=300)
    note: str | None = Field(None, max_length=10_000)
    due_on: dt.date | None = Field(None, description="A new date: the task is rescheduled")
    due_time: str | None = Field(None, max_length=8)
    recurrence: str | None = Field(None, max_length=8)
    card: Id | None = None
    deal: Id | None = None
    visit: Id | None = None
    owner: Id | None = None


class SnoozeIn(Schema):
    days: int = Field(1, ge=1, le=366)


class AgendaTaskOut(Schema):
    id: int
    title: str
    note: str
    source: str
    why: str
    suggestion: str
    due_on: dt.date
    due_time: dt.time | None
    recurrence: str
    done: bool
    done_at: dt.datetime | None
    snoozed: int
    owner: int
    customer: int | None
    deal: int | None
    visit: int | None
    version: int

    @staticmethod
    def of(t: Task) -> dict[str, Any]:
        return {"id": t.pk, "title": t.title, "note": t.note, "source": t.source, "why": t.why, "suggestion": t.suggestion,
                "due_on": t.due_on, "due_time": t.due_time, "recurrence": t.recurrence, "done": t.done_at is not None,
                "done_at": t.done_at, "snoozed": t.snoozed, "owner": t.owner_id, "customer": t.card_id, "deal": t.deal_id,
                "visit": t.visit_id, "version": t.version}


class AgendaTaskList(Schema):
    items: list[AgendaTaskOut]
    count: int


class AgendaItemOut(Schema):
    key: str
    due_on: dt.date
    due_time: dt.time | None
    title: str
    why: str
    source: str
    task: int | None
    customer: int | None
    customer_name: str
    suggestion: str
    best_time: str
    recent_contacts: int
    too_often: bool
    local_time: str = Field("", description="HH:MM where the customer is, when it differs from your time")
    phone: str = Field("", description="The customer's first phone number (E.164)")

    @staticmethod
    def of(i: Item) -> dict[str, Any]:
        return {"key": i.key, "due_on": i.due_on, "due_time": i.due_time, "title": i.title, "why": i.why, "source": i.source,
                "task": i.task.pk if i.task else None, "customer": i.card_id, "customer_name": i.card_name,
                "suggestion": i.suggestion, "best_time": i.best_time, "recent_contacts": i.touches, "too_often": i.too_often,
                "local_time": i.local_time, "phone": i.phone}


class TodayOut(Schema):
    today: dt.date
    overdue: list[AgendaItemOut]
    overdue_total: int = Field(..., description="Every overdue line, those not in ``overdue`` (overdue_limit) included")
    today_items: list[AgendaItemOut] = Field(..., alias="due_today")
    upcoming: list[AgendaItemOut]

    @staticmethod
    def of(t: Today) -> dict[str, Any]:
        return {"today": t.today, "overdue": [AgendaItemOut.of(i) for i in t.overdue], "overdue_total": t.overdue_total,
                "due_today": [AgendaItemOut.of(i) for i in t.due_today],
                "upcoming": [AgendaItemOut.of(i) for d in t.upcoming for i in d.items]}


class RepOverdueOut(Schema):
    owner: int
    username: str
    count: int
    oldest: dt.date | None
    items: list[AgendaItemOut]

    @staticmethod
    def of(r: RepOverdue) -> dict[str, Any]:
        return {"owner": r.owner.pk, "username": r.owner.get_username(), "count": r.count, "oldest": r.oldest,
                "items": [AgendaItemOut.of(i) for i in r.items]}


class SettingsIn(Schema):
    time_zone: str | None = Field(None, max_length=64, description="IANA name, e.g. Europe/Madrid; empty: the server's")
    digest: bool | None = Field(None, description="Whether the daily e-mail is sent")


class SettingsOut(Schema):
    time_zone: str
    digest: bool
    calendar: bool


class CalendarOut(Schema):
    url: str = Field(..., description="The secret calendar address: shown only this once")
