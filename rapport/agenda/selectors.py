"""Reads of the agenda: whose tasks a user may see, a rep's Today (overdue, today, the next
days) with what the other apps lend through their agenda feeds, a manager's view of the team's
overdue work, and the hints that keep us from disturbing a customer."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from rapport.agenda import content
from rapport.agenda.models import AgendaProfile, Source, Task
from rapport.core.extensions import AgendaEntry, AgendaWindow, agenda_feeds, oldest_overdue
from rapport.core.visibility import get_visible, scope_for

DAYS_AHEAD = 7
# Today asked for every overdue line still reads at most the oldest this many of each source
# (and counts the rest): a page or an answer of thousands of lines helps nobody.
OVERDUE_MOST = 500


def visible_tasks(user: Any) -> QuerySet[Task]:
    """Tasks of the user, of a manager's people, or anyone's for an administrator; and only
    on cards the user may see (a task without a card is its owner's own)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Task.objects.none()
    scope = scope_for(user)
    qs = Task.objects.all()
    if scope.role != "admin":
        qs = qs.filter(owner_id__in=[user.pk, *scope.managed_user_ids])
        if not scope.sees_everything:
            qs = qs.filter(Q(card__isnull=True) | scope.card_q(prefix="card__"))
    return qs


def get_task(user: Any, task_id: Any) -> Task:
    task = get_visible(visible_tasks(user).select_related("card", "owner", "deal", "visit"), task_id, "task")
    assert isinstance(task, Task)
    return task


def local_today(user: Any) -> dt.date:
    """Today where the user is (their time zone, else the server's)."""
    if getattr(user, "pk", None) is None:
        return timezone.localdate()
    zone = AgendaProfile.objects.filter(user_id=user.pk).values_list("time_zone", flat=True).first()
    if zone and content.valid_time_zone(zone):
        from zoneinfo import ZoneInfo

        return timezone.now().astimezone(ZoneInfo(zone)).date()
    return timezone.localdate()


@dataclass
class Item:
    """One line of Today: a task of the agenda or an entry lent by another app's feed."""

    key: str
    due_on: dt.date
    title: str
    why: str = ""
    source: str = ""
    source_label: str = ""
    card_id: int | None = None
    card_name: str = ""
    url: str = ""
    due_time: dt.time | None = None
    task: Task | None = None
    suggestion: str = ""
    best_time: str = ""
    touches: int = 0  # contacts with this customer in the touch-limit window
    too_often: bool = False
    local_time: str = ""  # the time where the customer is, when it differs from the user's
    phone: str = ""  # the customer's first number (E.164), to call from the line

    @property
    def is_task(self) -> bool:
        return self.task is not None


@dataclass
class Day:
    day: dt.date
    items: list[Item] = field(default_factory=list)


@dataclass
class Today:
    today: dt.date
    overdue: list[Item]
    due_today: list[Item]
    upcoming: list[Day]
    touch_days: int
    touch_times: int
    overdue_total: int = 0  # every overdue line, those not read (``overdue_shown``) included

    @property
    def count(self) -> int:
        return len(self.overdue) + len(self.due_today) + sum(len(d.items) for d in self.upcoming)


def _task_items(tasks: list[Task]) -> list[Item]:
    labels = {value: str(label) for value, label in Source.choices}  # translated once, not once per task
    card_url = reverse("card-detail", args=[0]).replace("/0/", "/{}/")
    return [Item(
        key=f"task:{task.pk}", due_on=task.due_on, title=task.title, why=task.why, source=task.source,
        source_label=labels.get(task.source, ""), card_id=task.card_id, card_name=task.card.display_name if task.card else "",
        url=card_url.format(task.card_id) if task.card_id else "", due_time=task.due_time, task=task, suggestion=task.suggestion,
    ) for task in tasks]


# What a line of Today reads of a task and its card (the page and the API use nothing else of
# them): building whole cards cost more than the queries.
_TASK_LINE = ("id", "title", "why", "source", "suggestion", "due_on", "due_time", "card_id", "card__display_name")


def _feed_items(viewer: Any, owner: Any, until: dt.date, today: dt.date) -> list[Item]:
    items = []
    for feed in agenda_feeds():
        for entry in feed.entries(viewer, owner, until):
            items.append(_entry_item(entry, feed.key, str(feed.label), today))
    return items


def _entry_item(entry: AgendaEntry, source: str, label: str, today: dt.date) -> Item:
    return Item(key=entry.key, due_on=entry.due_on or today, title=entry.title, why=entry.why, source=source, source_label=label,
                card_id=entry.card_id, card_name=entry.card_name, url=entry.url, due_time=entry.due_time)


def agenda_items(user: Any, *, owner: Any = None, days: int = DAYS_AHEAD, today: dt.date | None = None,
                 with_feeds: bool = True) -> list[Item]:
    """Everything due for ``owner`` (the user by default) up to ``days`` ahead, overdue included."""
    owner = owner or user
    today = today or local_today(owner)
    until = today + dt.timedelta(days=days)
    tasks = (visible_tasks(user).filter(owner=owner, done_at__isnull=True, due_on__lte=until)
             .select_related("card").defer("card__profile", "card__social", "detail").order_by("due_on", "due_time", "id")[:500])
    items = _task_items(list(tasks))
    if with_feeds:
        items.extend(_feed_items(user, owner, until, today))
    items.sort(key=lambda i: (i.due_on, i.due_time or dt.time.max, i.title.casefold()))
    return items


def today_of(user: Any, *, days: int = DAYS_AHEAD, today: dt.date | None = None, overdue_shown: int | None = None) -> Today:
    """A rep's Today: overdue first, then today, then each of the next days.

    ``overdue_shown``: only the oldest this many overdue lines are read (the tasks' and each
    feed's; ``None``: up to ``OVERDUE_MOST``), the others counted in ``overdue_total``, and
    only the lines read get their hints (best time, recent contacts, local time, phone): a page
    that shows 30 of 300 overdue lines does not read, nor look up the customers of, the other
    270."""
    shown = OVERDUE_MOST if overdue_shown is None else overdue_shown
    zone = _zone_of(user)  # read once: today, and the customers' local times against the user's
    today = today or timezone.now().astimezone(zone).date()
    items, unread = _today_items(user, days=days, today=today, overdue_shown=shown)
    overdue = [i for i in items if i.due_on < today]
    overdue_total = len(overdue) + unread
    overdue = overdue[:shown]
    rest = [i for i in items if i.due_on >= today]
    _hints(user, [*overdue, *rest], today, zone)
    upcoming: dict[dt.date, list[Item]] = defaultdict(list)
    for item in rest:
        if item.due_on > today:
            upcoming[item.due_on].append(item)
    plan = content.cadence()
    return Today(
        today=today,
        overdue=overdue,
        due_today=[i for i in rest if i.due_on == today],
        upcoming=[Day(day, upcoming[day]) for day in sorted(upcoming)],
        touch_days=plan.touch_days, touch_times=plan.touch_times, overdue_total=overdue_total,
    )


def _today_items(user: Any, *, days: int, today: dt.date, overdue_shown: int) -> tuple[list[Item], int]:
    """The items of Today, and how many overdue lines were counted but not read.

    Only the oldest ``overdue_shown`` overdue tasks are read (a rep behind on a year of
    keep-in-touch reminders has hundreds; the page shows 30, the oldest first, and counts the
    rest), and each feed answers the same window (``AgendaFeed.window``): merged, the oldest
    of all sources are still the first shown.
    """
    until = today + dt.timedelta(days=days)
    open_tasks = visible_tasks(user).filter(owner=user, done_at__isnull=True).select_related("card").only(*_TASK_LINE)
    late_read, unread = oldest_overdue(open_tasks.filter(due_on__lt=today), overdue_shown, "due_on", "due_time", "id")
    coming = list(open_tasks.filter(due_on__gte=today, due_on__lte=until).order_by("due_on", "due_time", "id")[:500])
    items = _task_items(late_read + coming)
    window = AgendaWindow(today=today, until=until, overdue_shown=overdue_shown)
    for feed in agenda_feeds():
        page = feed.window(user, user, window)
        unread += page.overdue_unread
        label = str(feed.label)
        items.extend(_entry_item(entry, feed.key, label, today) for entry in page.entries)
    items.sort(key=lambda i: (i.due_on, i.due_time or dt.time.max, i.title.casefold()))
    return items, unread


def _hints(user: Any, items: list[Item], today: dt.date, zone: Any = None) -> None:
    """The best time to call each customer (a catalog item), how often we approached them
    lately, and the number to call them on."""
    from rapport.activities.models import Activity, Participant
    from rapport.cards.models import CurrentValue, Phone

    card_ids = sorted({i.card_id for i in items if i.card_id})
    if not card_ids:
        return
    best = dict(CurrentValue.objects.filter(card_id__in=card_ids, item__key="best_time_to_contact")
                .values_list("card_id", "fact__value"))
    plan = content.cadence()
    since = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=plan.touch_days), dt.time.min))
    # Contacts logged within the window: activities are numbered as they are logged, so the last
    # one logged before the window bounds them, and each customer's are one short range of the
    # participant index instead of years of history.
    before = Activity.objects.filter(recorded_at__lt=since).order_by("-id").values_list("id", flat=True).first() or 0
    touches: dict[int, int] = defaultdict(int)
    for card_id in Participant.objects.filter(card_id__in=card_ids, activity_id__gt=before,
                                              activity__occurred_at__gte=since).values_list("card_id", flat=True):
        touches[card_id] += 1
    phones: dict[int, str] = {}
    for card_id, e164 in Phone.objects.filter(card_id__in=card_ids).order_by("card_id", "position", "id").values_list("card_id", "e164"):
        phones.setdefault(card_id, e164)
    zones = _customer_zones(card_ids)
    now = timezone.now()
    mine = now.astimezone(zone or _zone_of(user)).utcoffset()
    clocks: dict[str, str] = {}
    for name in set(zones.values()):
        there = now.astimezone(ZoneInfo(name))
        if there.utcoffset() != mine:
            clocks[name] = there.strftime("%H:%M")
    for item in items:
        if item.card_id:
            item.local_time = clocks.get(zones.get(item.card_id, ""), "")
            value = best.get(item.card_id)
            item.best_time = value if isinstance(value, str) else ""
            item.touches = touches.get(item.card_id, 0)
            item.too_often = item.touches >= plan.touch_times
            item.phone = phones.get(item.card_id, "")


def _zone_of(user: Any) -> Any:
    """The user's time zone (their agenda setting, else the server's)."""
    if getattr(user, "pk", None) is None:
        return timezone.get_current_timezone()
    zone = AgendaProfile.objects.filter(user_id=user.pk).values_list("time_zone", flat=True).first()
    return ZoneInfo(zone) if zone and content.valid_time_zone(zone) else timezone.get_current_timezone()


def _customer_zones(card_ids: list[int]) -> dict[int, str]:
    """Each customer's time zone, from the country of its first address."""
    from rapport.cards.models import Address

    zones: dict[int, str] = {}
    for card_id, country in (Address.objects.filter(card_id__in=card_ids).exclude(country="")
                             .order_by("card_id", "position", "id").values_list("card_id", "country")):
        if card_id not in zones:
            zones[card_id] = content.country_time_zone(country)
    return {k: v for k, v in zones.items() if v}


@dataclass
class RepOverdue:
    owner: Any
    count: int
    oldest: dt.date | None
    items: list[Item]


def team_overdue(user: Any, *, today: dt.date | None = None, per_rep: int = 20) -> list[RepOverdue]:
    """A manager's view: each of their people's overdue tasks, most overdue people first. An
    administrator sees every rep's."""
    from rapport.accounts.models import User

    scope = scope_for(user)
    today = today or timezone.localdate()
    if scope.role == "admin":
        people = User.objects.filter(is_active=True).exclude(pk=user.pk)
    elif scope.managed_user_ids:
        people = User.objects.filter(pk__in=scope.managed_user_ids, is_active=True)
    else:
        return []
    overdue = visible_tasks(user).filter(owner__in=people, done_at__isnull=True, due_on__lt=today)
    counts = {row["owner_id"]: row for row in overdue.values("owner_id").annotate(n=Count("id")).order_by()}
    rows = []
    for person in people.filter(pk__in=list(counts)).order_by("username"):
        tasks = list(overdue.filter(owner=person).select_related("card").order_by("due_on", "id")[:per_rep])
        rows.append(RepOverdue(owner=person, count=counts[person.pk]["n"], oldest=tasks[0].due_on if tasks else None,
                               items=_task_items(tasks)))
    rows.sort(key=lambda r: (-r.count, r.owner.username))
    return rows


def best_time_of(user: Any, card: Any) -> str:
    from rapport.cards.models import CurrentValue

    value = CurrentValue.objects.filter(card=card, item__key="best_time_to_contact").values_list("fact__value", flat=True).first()
    return value if isinstance(value, str) else ""


def home_region(user: Any) -> str:
    """The country a user works in, read from their time zone (Europe/Madrid → ES,
    Asia/Shanghai → CN); "" when they set none. Numbers they type or receive without a
    country code are read as numbers of this country."""
    if getattr(user, "pk", None) is None:
        return ""
    zone = AgendaProfile.objects.filter(user_id=user.pk).values_list("time_zone", flat=True).first()
    return content.zone_country(zone or "")
