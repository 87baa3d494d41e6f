"""Reads of visits: visibility, a rep's day and week, the reflection before a visit, promises,
the visit reports per rep and team and a card's visit timeline. Every query of visits,
promises and audit observations starts from the ``visible_*`` functions here."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypedDict

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from rapport.core import sql
from rapport.core.sql import column as _column
from rapport.core.visibility import get_visible, scope_for
from rapport.visits.models import (
    Objective,
    PriceObservation,
    Promise,
    PromiseBy,
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


@dataclass(frozen=True)
class CardVisitRecord:
    """Which kinds of visit rows one card has at all. Most cards have none: the card page reads
    this first and skips the queries whose answer is then known."""

    upcoming: bool  # a visit planned or under way
    done: bool  # a visit made
    reported: bool  # a visit reported: the card's timeline shows it
    open_promises: bool
    site: bool


@functools.cache
def _card_record_sql() -> str:
    # Written once per process (``rapport.core.sql.exists``).
    card, status, reported = (_column(Visit, name) for name in ("card", "status", "reported_at"))
    return "SELECT " + ", ".join([
        sql.exists(Visit, f"{card} = %s AND {status} IN (%s, %s)"),
        sql.exists(Visit, f"{card} = %s AND {status} = %s"),
        sql.exists(Visit, f"{card} = %s AND {reported} IS NOT NULL"),
        sql.exists(Promise, f"{_column(Promise, 'card')} = %s AND {_column(Promise, 'kept_on')} IS NULL"),
        sql.exists(Site, f"{_column(Site, 'card')} = %s"),
    ])


def card_record(card: Any) -> CardVisitRecord:
    """What visit rows ``card`` has, in one query. It reads the rows whatever their visibility,
    and answers only whether to read them: each read that follows goes through ``visible_*``."""
    params = [card.pk, Status.PLANNED.value, Status.IN_PROGRESS.value, card.pk, Status.DONE.value, card.pk, card.pk, card.pk]
    upcoming, done, reported, promises, site = sql.one_row(_card_record_sql(), params)
    return CardVisitRecord(upcoming=bool(upcoming), done=bool(done), reported=bool(reported), open_promises=bool(promises),
                           site=bool(site))


class UpcomingVisit(TypedDict):
    """A visit planned or under way, as a card's panel lists it."""

    id: int
    planned_on: dt.date
    window_start: dt.time | None
    owner__username: str


class LastVisit(TypedDict):
    id: int
    planned_on: dt.date
    outcome: str


def upcoming_visits_of(user: Any, card: Any, *, limit: int) -> list[UpcomingVisit]:
    """The next visits planned or under way to a card: only what the card's panel shows."""
    return list(
        visible_visits(user).filter(card=card, status__in=[Status.PLANNED, Status.IN_PROGRESS]).order_by("planned_on", "id")
        .values("id", "planned_on", "window_start", "owner__username")[:limit]
    )


def last_visit_of(user: Any, card: Any) -> LastVisit | None:
    """The card's last visit made."""
    return (visible_visits(user).filter(card=card, status=Status.DONE).order_by("-planned_on", "-id")
            .values("id", "planned_on", "outcome").first())


# --- promises -----------------------------------------------------------------------------------------


class OpenPromise(TypedDict):
    """A promise not yet kept, as a card's panel lists it."""

    id: int
    by: str
    by_label: str
    text: str
    due_on: dt.date | None


def open_promises(user: Any, card: Any, *, limit: int) -> list[OpenPromise]:
    """The card's first ``limit`` promises not yet kept, soonest due first."""
    labels = dict(PromiseBy.choices)
    rows = visible_promises(user).filter(card=card, kept_on__isnull=True).order_by("due_on", "id").values("id", "by", "text", "due_on")
    return [OpenPromise(id=p["id"], by=p["by"], by_label=str(labels.get(p["by"], p["by"])), text=p["text"], due_on=p["due_on"])
            for p in rows[:limit]]


def promises_due(user: Any, owner: Any, until: dt.date) -> list[Promise]:
    """The open promises a rep follows, due by ``until`` or without a date: for the agenda."""
    return list(
        visible_promises(user)
        .filter(owner=owner, kept_on__isnull=True)
        .filter(Q(due_on__lte=until) | Q(due_on__isnull=True))
        .select_related("card")
        .order_by("due_on", "id")[:100]
    )


def open_promises_of(user: Any, owner: Any) -> QuerySet[Promise]:
    """The open promises a rep follows, as far as ``user`` may see them: Today reads the window
    it shows of them (one range of ``visit_promise_owner``)."""
    return visible_promises(user).filter(owner=owner, kept_on__isnull=True).select_related("card")


def kept_on_time_rate(promises: QuerySet[Promise]) -> tuple[int, int]:
    """(kept on time, due) over promises whose due date has passed or that were kept."""
    today = timezone.localdate()
    due = promises.filter(Q(kept_on__isnull=False) | Q(due_on__lt=today))
    on_time = due.filter(kept_on__isnull=False).filter(Q(due_on__isnull=True) | Q(kept_on__lte=F("due_on"))).count()
    return on_time, due.count()


# --- a card's timeline --------------------------------------------------------------------------------


def timeline_entries(user: Any, card: Any, limit: int, before: dt.datetime | None) -> list[Any]:
    """Visit events of a card's timeline: each visit reported (the card was fetched through
    visibility; the visits are filtered again). Most cards have no visit: one probe says so."""
    from django.urls import reverse

    from rapport.cards.selectors import TimelineEntry, timeline_rows

    if not card_record(card).reported:
        return []
    outcomes = dict(Result.choices)
    entries = []
    rows = timeline_rows(visible_visits(user).filter(card=card, reported_at__isnull=False), "reported_at", before, limit,
                         "id", "planned_on", "outcome", "summary", "reported_at", "owner__username")
    for pk, planned_on, outcome, summary, reported_at, owner in rows:
        assert reported_at is not None
        title = _("Visit on %(date)s") % {"date": date_format(planned_on, "DATE_FORMAT")}
        if outcome:
            title += f": {outcomes.get(outcome, outcome)}"
        entries.append(TimelineEntry(reported_at, "visit", "reported", str(title), summary[:500], owner, pk,
                                     label=_("Visit"), url=reverse("visit-detail", args=[pk])))
    return entries


# --- the reflection before a visit --------------------------------------------------------------------


@dataclass
class PersonToMeet:
    card: Any
    title: str
    stage: str  # translated relationship stage, "" when unknown
    style: str  # translated communication style
    coaching: Any  # relationships.StyleCoaching or None
    roles: list[str]


@dataclass
class OpenInvoice:
    invoice: Any
    days_overdue: int
    cell: str  # translated collection-matrix cell, "" when not overdue


@dataclass
class Reflection:
    """What to think over before a visit (seed 000): what was promised and is not yet kept, the
    manager's instructions and whether last time's were carried out, what is pending, the open
    deals and complaints, receivables with their collection cell, the last price and inventory
    findings, and the people we will meet with how to talk to each."""

    visit: Visit
    previous: Visit | None
    our_promises: list[Promise]
    their_promises: list[Promise]
    open_cases: list[Any]
    pending_checks: list[Any]
    open_deals: list[Any]
    collection_tasks: list[Any]
    invoices: list[OpenInvoice]
    overdue_total: list[tuple[str, Decimal]]  # (currency, amount)
    people: list[PersonToMeet]
    findings: Any
    today: dt.date = field(default_factory=timezone.localdate)


def _people_to_meet(visit: Visit) -> list[PersonToMeet]:
    """The people the visit names, or else the organisation's decision unit, most influential first."""
    from rapport.cards.models import Employment
    from rapport.relationships.models import BuyingRole, ContactProfile, Member, RelationshipStage, Style
    from rapport.relationships.selectors import coaching_for

    persons = list(visit.people.all())
    members: dict[int, Any] = {}
    if visit.card.kind == "organization":
        unit_members = list(Member.objects.filter(unit__organization=visit.card).select_related("person").order_by("-influence", "id")[:12])
        members = {m.person_id: m for m in unit_members}
        if not persons:
            persons = [m.person for m in unit_members]
    elif not persons:
        persons = [visit.card]
    ids = [p.pk for p in persons]
    profiles = {p.person_id: p for p in ContactProfile.objects.filter(person_id__in=ids)}
    titles = dict(Employment.objects.filter(person_id__in=ids, organization=visit.card, ended_on__isnull=True)
                  .values_list("person_id", "title")) if visit.card.kind == "organization" else {}
    stages, styles, roles = dict(RelationshipStage.choices), dict(Style.choices), dict(BuyingRole.choices)
    coaching_cache: dict[str, Any] = {}
    rows = []
    for person in persons:
        profile = profiles.get(person.pk)
        style = profile.style if profile else ""
        if style and style not in coaching_cache:
            coaching_cache[style] = coaching_for(style)
        member = members.get(person.pk)
        rows.append(PersonToMeet(
            card=person, title=titles.get(person.pk, "") or "",
            stage=str(stages.get(profile.stage, "")) if profile and profile.stage else "",
            style=str(styles.get(style, "")) if style else "",
            coaching=coaching_cache.get(style) if style else None,
            roles=[str(roles.get(r, r)) for r in (member.roles if member else [])],
        ))
    return rows


def _receivables(card: Any) -> tuple[list[OpenInvoice], list[tuple[str, Decimal]]]:
    from rapport.commerce.models import Cell, Invoice
    from rapport.commerce.selectors import cell_of, policy_table, thresholds

    today = timezone.localdate()
    invoices = list(Invoice.objects.filter(card=card, is_open=True, cancelled=False).order_by("due_on", "id")[:30])
    policies = policy_table() if invoices else {}
    cells = dict(Cell.choices)
    rows: list[OpenInvoice] = []
    overdue: dict[str, Decimal] = {}
    for inv in invoices:
        days = (today - inv.due_on).days
        cell = ""
        if days > 0 and inv.kind == "invoice":
            cell = str(cells.get(cell_of(days, inv.open_amount, thresholds(inv.team_id, inv.currency, policies)), ""))
            overdue[inv.currency] = overdue.get(inv.currency, Decimal("0")) + inv.open_amount
        rows.append(OpenInvoice(inv, max(days, 0), cell))
    return rows, sorted(overdue.items())


def reflection(user: Any, visit: Visit) -> Reflection:
    """The reflection page of a visit the caller fetched through ``get_visit``."""
    from rapport.aftersales.models import SatisfactionCheck, ServiceCase
    from rapport.commerce.models import CollectionTask
    from rapport.deals.models import Status as DealStatus
    from rapport.deals.selectors import visible_deals

    card = visit.card
    previous = (
        # One range read backwards on (card, planned_on): an OR of the two conditions would
        # make the planner read and sort the customer's whole history to return one row.
        Visit.objects.filter(card=card, status=Status.DONE, planned_on__lte=visit.planned_on)
        .exclude(planned_on=visit.planned_on, pk__gte=visit.pk)
        .select_related("owner", "instructions_by").order_by("-planned_on", "-id").first()
    )
    promises = list(Promise.objects.filter(card=card, kept_on__isnull=True).select_related("owner").order_by("due_on", "id")[:60])
    invoices, overdue = _receivables(card)
    try:
        from rapport.visits.audits import latest_findings

        findings = latest_findings(user, card)
    except ImportError:  # the audits module is optional
        findings = None
    return Reflection(
        visit=visit,
        previous=previous,
        our_promises=[p for p in promises if p.by == "us"],
        their_promises=[p for p in promises if p.by == "them"],
        open_cases=list(ServiceCase.objects.filter(card=card).open().order_by("due_on", "opened_at")[:10]),
        pending_checks=list(SatisfactionCheck.objects.filter(card=card, done_at__isnull=True).order_by("due_on")[:10]),
        open_deals=list(visible_deals(user).filter(card=card, status=DealStatus.OPEN).order_by("expected_close", "id")[:10]),
        collection_tasks=list(CollectionTask.objects.filter(invoice__card=card, done_at__isnull=True)
                              .select_related("invoice", "assigned_to").order_by("created_at", "id")[:10]),
        invoices=invoices,
        overdue_total=overdue,
        people=_people_to_meet(visit),
        findings=findings,
    )


# --- reports per rep and team ---------------------------------------------------------------------------


@dataclass
class RepFigures:
    user_id: int
    name: str
    visits: int = 0
    days: int = 0
    objectives: int = 0
    objectives_met: int = 0
    promises_due: int = 0
    promises_on_time: int = 0
    collected: dict[str, Decimal] = field(default_factory=dict)
    audits: int = 0

    @property
    def per_day(self) -> float:
        return round(self.visits / self.days, 1) if self.days else 0.0

    @property
    def met_percent(self) -> int | None:
        return round(100 * self.objectives_met / self.objectives) if self.objectives else None

    @property
    def on_time_percent(self) -> int | None:
        return round(100 * self.promises_on_time / self.promises_due) if self.promises_due else None


def visit_report(user: Any, date_from: dt.date, date_to: dt.date, *, team: int | None = None) -> list[RepFigures]:
    """Per rep, the visits done in a period: visits per day out, objectives met, promises kept
    on time, amounts collected on visits and audits done. A rep sees their own row, a manager
    their teams', an admin or analyst everyone's."""
    from rapport.accounts.models import User

    scope = scope_for(user)
    done = visible_visits(user).filter(status=Status.DONE, planned_on__gte=date_from, planned_on__lte=date_to)
    if team is not None:
        done = done.filter(team_id=team)
    if not scope.sees_everything:
        allowed = [user.pk, *scope.managed_user_ids]
        done = done.filter(owner_id__in=allowed)
    rows: dict[int, RepFigures] = {}
    names = dict(User.objects.filter(pk__in=done.values("owner_id")).values_list("pk", "username"))

    def row(owner_id: int) -> RepFigures:
        if owner_id not in rows:
            rows[owner_id] = RepFigures(owner_id, names.get(owner_id, "?"))
        return rows[owner_id]

    for v in done.order_by().values("owner_id").annotate(n=Count("id"), days=Count("planned_on", distinct=True)):
        row(v["owner_id"]).visits, row(v["owner_id"]).days = v["n"], v["days"]
    objectives = Objective.objects.filter(visit__in=done).exclude(result="")
    for o in objectives.order_by().values("visit__owner_id").annotate(n=Count("id"), met=Count("id", filter=Q(result=Result.MET))):
        row(o["visit__owner_id"]).objectives, row(o["visit__owner_id"]).objectives_met = o["n"], o["met"]
    collected = objectives.filter(kind="collect_payment", achieved_amount__isnull=False)
    for c in collected.order_by().values("visit__owner_id", "currency").annotate(total=Sum("achieved_amount")):
        figures = row(c["visit__owner_id"])
        figures.collected[c["currency"]] = figures.collected.get(c["currency"], Decimal("0")) + (c["total"] or Decimal("0"))
    today = timezone.localdate()
    promises = visible_promises(user).filter(owner_id__in=list(rows), by=PromiseBy.US).filter(
        Q(due_on__gte=date_from, due_on__lte=min(date_to, today - dt.timedelta(days=1)))
        | Q(due_on__isnull=True, kept_on__gte=date_from, kept_on__lte=date_to))
    for p in promises.order_by().values("owner_id").annotate(
            n=Count("id"), on_time=Count("id", filter=Q(kept_on__isnull=False) & (Q(due_on__isnull=True) | Q(kept_on__lte=F("due_on"))))):
        row(p["owner_id"]).promises_due, row(p["owner_id"]).promises_on_time = p["n"], p["on_time"]
    audited = set(PriceObservation.objects.filter(visit__in=done).values_list("visit_id", flat=True).distinct())
    audited |= set(StockObservation.objects.filter(visit__in=done).values_list("visit_id", flat=True).distinct())
    for visit_id, owner_id in done.filter(pk__in=audited).values_list("pk", "owner_id"):
        row(owner_id).audits += 1
    return sorted(rows.values(), key=lambda r: r.name)
