"""Reads of visits: visibility, a rep's day and week, the reflection before a visit, promises,
the visit reports per rep and team and a card's visit timeline. Every query of visits,
promises and audit observations starts from the ``visible_*`` functions here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.core.visibility import get_visible, scope_for
from rapport.visits.models import (
    PriceObservation,
    Promise,
    Result,
    Site,
    Status,
    StockObservation,
    Visit,
    WeekPlan,
)


def _visible(user: Any, queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Rows carrying the card's owner and team copies (``card_owner_id``, ``card_team_id``),
    visible exactly as their card is, filtered without reading the card."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return queryset.none()
    scope = scope_for(user)
    if scope.sees_everything:
        return queryset
    return queryset.filter(scope.card_q(prefix="card_"))


def visible_visits(user: Any) -> QuerySet[Visit]:
    return _visible(user, Visit.objects.all())


def visible_promises(user: Any) -> QuerySet[Promise]:
    return _visible(user, Promise.objects.all())


def visible_prices(user: Any) -> QuerySet[PriceObservation]:
    return _visible(user, PriceObservation.objects.all())


def visible_stock(user: Any) -> QuerySet[StockObservation]:
    return _visible(user, StockObservation.objects.all())


def get_visit(user: Any, visit_id: Any) -> Visit:
    """One visible visit, or NotFound (a missing visit and one out of reach answer the same)."""
    return get_visible(visible_visits(user).select_related("card", "owner", "team"), visit_id, "visit")


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def day_visits(user: Any, owner: Any, day: dt.date) -> list[Visit]:
    """One rep's visits of a day in the order they typed them, cancelled ones left out."""
    return list(
        visible_visits(user)
        .filter(owner=owner, planned_on=day)
        .exclude(status=Status.CANCELLED)
        .select_related("card")
        .order_by("position", "window_start", "id")
    )


def week_visits(user: Any, owner: Any, monday: dt.date) -> list[Visit]:
    return list(
        visible_visits(user)
        .filter(owner=owner, planned_on__gte=monday, planned_on__lt=monday + dt.timedelta(days=7))
        .select_related("card")
        .prefetch_related("objectives")
        .order_by("planned_on", "position", "window_start", "id")
    )


def week_plan(owner: Any, monday: dt.date) -> WeekPlan | None:
    return WeekPlan.objects.filter(user=owner, week=monday).first()


def plans_waiting(user: Any) -> list[WeekPlan]:
    """Week plans of the manager's people waiting for approval."""
    scope = scope_for(user)
    if scope.sees_everything:
        people = None
    else:
        people = scope.managed_user_ids
        if not people:
            return []
    plans = WeekPlan.objects.filter(status="submitted").select_related("user").order_by("week", "user__username")
    if people is not None:
        plans = plans.filter(user_id__in=people)
    return list(plans[:50])


def site_of(card: Any) -> Site | None:
    return Site.objects.filter(card=card).first()


# --- promises -----------------------------------------------------------------------------------------


def open_promises(user: Any, card: Any) -> list[Promise]:
    return list(visible_promises(user).filter(card=card, kept_on__isnull=True).select_related("owner").order_by("due_on", "id"))


def promises_due(user: Any, owner: Any, until: dt.date) -> list[Promise]:
    """The open promises a rep follows, due by ``until`` or without a date: for the agenda."""
    return list(
        visible_promises(user)
        .filter(owner=owner, kept_on__isnull=True)
        .filter(Q(due_on__lte=until) | Q(due_on__isnull=True))
        .select_related("card")
        .order_by("due_on", "id")[:100]
    )


def kept_on_time_rate(promises: QuerySet[Promise]) -> tuple[int, int]:
    """(kept on time, due) over promises whose due date has passed or that were kept."""
    today = timezone.localdate()
    due = promises.filter(Q(kept_on__isnull=False) | Q(due_on__lt=today))
    on_time = due.filter(kept_on__isnull=False).filter(Q(due_on__isnull=True) | Q(kept_on__lte=F("due_on"))).count()
    return on_time, due.count()


# --- a card's timeline --------------------------------------------------------------------------------


def timeline_entries(user: Any, card: Any, limit: int, before: dt.datetime | None) -> list[Any]:
    """Visit events of a card's timeline: each visit reported (the card was fetched through
    visibility; the visits are filtered again)."""
    from django.urls import reverse

    from rapport.cards.selectors import TimelineEntry

    visits = visible_visits(user).filter(card=card, reported_at__isnull=False).select_related("owner").order_by("-reported_at", "-id")
    if before:
        visits = visits.filter(reported_at__lt=before)
    outcomes = dict(Result.choices)
    entries = []
    for v in visits[:limit]:
        assert v.reported_at is not None
        title = _("Visit on %(date)s") % {"date": v.planned_on.isoformat()}
        if v.outcome:
            title += f": {outcomes.get(v.outcome, v.outcome)}"
        entries.append(TimelineEntry(v.reported_at, "visit", "reported", str(title), v.summary[:500], v.owner.get_username(), v.pk,
                                     label=_("Visit"), url=reverse("visit-detail", args=[v.pk])))
    return entries
