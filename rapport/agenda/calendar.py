"""The iCalendar feed of a user (RFC 5545, the `icalendar` library): their tasks and reminders,
their visits and what the other apps lend to the agenda, at a secret address.

It carries only what the user may see, and never the special-category items of a card: titles
and reasons only, no notes (free text may hold anything). Events are all-day, or one hour at the
task's time; Google Calendar, Outlook and Apple Calendar subscribe to the address.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from rapport.agenda import selectors

PAST_DAYS = 30
AHEAD_DAYS = 90


def _uid(key: str) -> str:
    host = (settings.ALLOWED_HOSTS[0] if settings.ALLOWED_HOSTS and settings.ALLOWED_HOSTS[0] != "*" else "rapport").lstrip(".")
    return f"{key.replace(':', '-')}@{host}"


def feed(user: Any, *, base_url: str = "") -> bytes:
    """The user's calendar as bytes of ``text/calendar``."""
    from rapport.visits.selectors import visible_visits
    from rapport.visits.models import Status

    today = timezone.localdate()
    cal = Calendar()
    cal.add("prodid", "-//Rapport//Agenda//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Rapport · {user.get_username()}")
    cal.add("x-published-ttl", "PT1H")  # how often a subscribed calendar should fetch it again
    stamp = timezone.now()
    for item in selectors.agenda_items(user, days=AHEAD_DAYS, today=today):
        if item.due_on < today - dt.timedelta(days=PAST_DAYS):
            continue
        event = Event()
        event.add("uid", _uid(item.key))
        event.add("dtstamp", stamp)
        event.add("summary", item.title[:300])
        _when(event, item.due_on, item.due_time)
        if item.why:
            event.add("description", item.why[:500])
        if item.url and base_url:
            event.add("url", base_url + item.url)
        event.add("categories", [item.source_label or item.source])
        cal.add_component(event)
    visits = (visible_visits(user).filter(owner=user, planned_on__gte=today - dt.timedelta(days=PAST_DAYS),
                                          planned_on__lte=today + dt.timedelta(days=AHEAD_DAYS))
              .exclude(status=Status.CANCELLED).select_related("card").order_by("planned_on", "position", "id")[:1000])
    for visit in visits:
        event = Event()
        event.add("uid", _uid(f"visit:{visit.pk}"))
        event.add("dtstamp", stamp)
        event.add("summary", visit.card.display_name[:300])
        if visit.window_start:
            start = timezone.make_aware(dt.datetime.combine(visit.planned_on, visit.window_start))
            event.add("dtstart", start)
            event.add("dtend", start + dt.timedelta(minutes=visit.duration_minutes or 45))
        else:
            event.add("dtstart", visit.planned_on)
            event.add("dtend", visit.planned_on + dt.timedelta(days=1))
        if visit.purpose:
            event.add("description", visit.purpose[:300])
        if base_url:
            event.add("url", base_url + reverse("visit-detail", args=[visit.pk]))
        cal.add_component(event)
    return bytes(cal.to_ical())


def _when(event: Event, day: dt.date, at: dt.time | None) -> None:
    if at is None:
        event.add("dtstart", day)
        event.add("dtend", day + dt.timedelta(days=1))
        return
    start = timezone.make_aware(dt.datetime.combine(day, at))
    event.add("dtstart", start)
    event.add("dtend", start + dt.timedelta(hours=1))
