"""Writes of the agenda: tasks (create, change, done, snooze, delete), logging a call from
Today, a user's agenda settings and the secret address of their calendar.

Every function takes keyword arguments, checks what it is given by name (ValidationError),
and answers a task out of reach exactly like a missing one (NotFound, from the selectors).
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.accounts.models import User
from rapport.agenda import content, selectors
from rapport.agenda.models import AgendaProfile, ContactClock, Recurrence, Source, Task
from rapport.audit.services import record
from rapport.cards.services import Errors
from rapport.cards.values import clean_text, parse_date
from rapport.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from rapport.core.visibility import scope_for, visible_to

TASK_FIELDS = {"title", "note", "card", "deal", "visit", "due_on", "due_time", "recurrence", "owner"}
SNOOZE_DAYS = (1, 3, 7)
MAX_SNOOZE_DAYS = 366
# Dates further away are typing mistakes rather than plans.
FARTHEST = dt.timedelta(days=366 * 20)


def _id(errors: Errors, name: str, raw: Any) -> int | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, bool) or not str(raw).isdigit() or int(str(raw)) > 2**62:
        errors.add(name, _("%(value)s is not an id.") % {"value": repr(raw)[:50]})
        return None
    return int(str(raw))


def _time(errors: Errors, raw: Any) -> dt.time | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, dt.time):
        return raw
    if not isinstance(raw, str) or len(raw) > 8:
        errors.add("due_time", _("Expected a time (HH:MM)."))
        return None
    try:
        return dt.time.fromisoformat(raw.strip())
    except ValueError:
        errors.add("due_time", _("%(value)s is not a time (HH:MM).") % {"value": repr(raw)[:20]})
        return None


def _date(errors: Errors, name: str, raw: Any) -> dt.date | None:
    day = errors.run(parse_date, name, raw)
    if day is not None and abs(day - timezone.localdate()) > FARTHEST:
        errors.add(name, _("This date is too far away."))
        return None
    return day


def may_assign(user: User, owner: User) -> bool:
    """Anyone plans their own work; a manager also their people's, an administrator anyone's."""
    scope = scope_for(user)
    if scope.role == "analyst" or not owner.is_active:
        return False
    return owner.pk == user.pk or scope.role == "admin" or owner.pk in scope.managed_user_ids


def _links(errors: Errors, user: User, owner: User, data: dict[str, Any], task: Task | None) -> dict[str, Any]:
    """The card, deal and visit a task is about: each one the user and the task's owner may see."""
    from rapport.deals.selectors import visible_deals
    from rapport.visits.selectors import visible_visits

    links: dict[str, Any] = {}
    if "card" in data:
        card_id = _id(errors, "card", data["card"])
        card = None
        if card_id is not None:
            card = visible_to(user).filter(pk=card_id).first()
            if card is None or not visible_to(owner).filter(pk=card_id).exists():
                errors.add("card", _("Unknown card."))
        links["card"] = card
    for name, visible in (("deal", visible_deals), ("visit", visible_visits)):
        if name not in data:
            continue
        record_id = _id(errors, name, data[name])
        found = None
        if record_id is not None:
            found = visible(user).filter(pk=record_id).select_related("card").first()
            if found is None or not visible(owner).filter(pk=record_id).exists():
                errors.add(name, _("Unknown %(what)s.") % {"what": name})
                found = None
        links[name] = found
    card = links.get("card", task.card if task else None)
    for name in ("deal", "visit"):
        linked = links.get(name)
        if linked is not None:
            if card is None:
                links["card"] = card = linked.card
            elif linked.card_id != card.pk:
                errors.add(name, _("It belongs to another customer."))
    return links


def _owner(errors: Errors, user: User, raw: Any, current: User | None) -> User:
    if raw in (None, ""):
        return current or user
    owner_id = _id(errors, "owner", raw)
    owner = User.objects.filter(pk=owner_id, is_active=True).first() if owner_id is not None else None
    if owner is None or not may_assign(user, owner):
        errors.add("owner", _("Unknown user, or not one of your people."))
        return current or user
    return owner


@transaction.atomic
def create_task(*, user: User, data: dict[str, Any]) -> Task:
    """A follow-up or task for a date (and time), on a card, optionally a deal or a visit."""
    if not isinstance(data, dict):
        raise ValidationError.single("__all__", _("Expected an object."))
    if scope_for(user).role == "analyst":
        raise PermissionDenied(_("Your role may read but not plan work."))
    errors = Errors()
    unknown = sorted(set(data) - TASK_FIELDS)
    if unknown:
        errors.add("__all__", _("Unknown fields: %(fields)s.") % {"fields": ", ".join(str(u)[:40] for u in unknown[:10])})
    title = errors.run(clean_text, "title", data.get("title"), required=True, max_length=300) or ""
    note = errors.run(clean_text, "note", data.get("note")) or ""
    due_on = _date(errors, "due_on", data.get("due_on")) if data.get("due_on") not in (None, "") else None
    due_time = _time(errors, data.get("due_time"))
    recurrence = data.get("recurrence") or ""
    if recurrence not in Recurrence.values:
        errors.add("recurrence", _("%(value)s is not one of: %(choices)s.") % {
            "value": repr(recurrence)[:40], "choices": ", ".join(v for v in Recurrence.values if v)})
    owner = _owner(errors, user, data.get("owner"), None)
    links = _links(errors, user, owner, data, None)
    errors.raise_if_any()
    if due_on is None:  # today where the task's owner is, not where the server is
        due_on = selectors.local_today(owner)
    task = Task.objects.create(
        owner=owner, title=title, note=note, due_on=due_on, due_time=due_time, recurrence=recurrence,
        card=links.get("card"), deal=links.get("deal"), visit=links.get("visit"), created_by=user,
    )
    record(action="create", record=task, actor=user, detail={"owner": owner.pk, "card": task.card_id, "due_on": due_on.isoformat()})
    return task


def _lock(task: Task, expected_version: int | None) -> Task:
    # of=self: the card is an outer join, which PostgreSQL will not lock.
    locked = Task.objects.select_for_update(of=("self",)).select_related("card", "owner").get(pk=task.pk)
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(_("This task was changed by someone else; reload it and try again."))
    return locked


def _may_change(user: User, task: Task) -> None:
    if scope_for(user).role == "analyst" or not may_assign(user, task.owner):
        raise PermissionDenied(_("You may not change this task."))


@transaction.atomic
def update_task(*, user: User, task: Task, data: dict[str, Any], expected_version: int | None = None) -> Task:
    """Changes a task: what, when (a reschedule), who, what it is about, how it repeats."""
    if not isinstance(data, dict):
        raise ValidationError.single("__all__", _("Expected an object."))
    _may_change(user, task)
    locked = _lock(task, expected_version)
    errors = Errors()
    unknown = sorted(set(data) - TASK_FIELDS)
    if unknown:
        errors.add("__all__", _("Unknown fields: %(fields)s.") % {"fields": ", ".join(str(u)[:40] for u in unknown[:10])})
    changed: dict[str, Any] = {}
    if "title" in data:
        changed["title"] = errors.run(clean_text, "title", data["title"], required=True, max_length=300)
    if "note" in data:
        changed["note"] = errors.run(clean_text, "note", data["note"])
    if "due_on" in data:
        changed["due_on"] = _date(errors, "due_on", data["due_on"])
    if "due_time" in data:
        changed["due_time"] = _time(errors, data["due_time"])
    if "recurrence" in data:
        if (data["recurrence"] or "") not in Recurrence.values:
            errors.add("recurrence", _("%(value)s is not one of: %(choices)s.") % {
                "value": repr(data["recurrence"])[:40], "choices": ", ".join(v for v in Recurrence.values if v)})
        else:
            changed["recurrence"] = data["recurrence"] or ""
    owner = _owner(errors, user, data.get("owner"), locked.owner)
    if owner.pk != locked.owner_id:
        changed["owner"] = owner
    changed.update(_links(errors, user, owner, data, locked))
    errors.raise_if_any()
    for name, value in changed.items():
        setattr(locked, name, value)
    locked.version += 1
    locked.updated_at = timezone.now()
    locked.save()
    record(action="update", record=locked, actor=user, detail={k: _plain(v) for k, v in changed.items() if k != "note"})
    return locked


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


def next_due(day: dt.date, recurrence: str) -> dt.date:
    """The next date of a repeating task; the 31st of a month lands on the last day of a shorter
    month, 29 February on 28 February of a common year."""
    if recurrence == Recurrence.DAILY:
        return day + dt.timedelta(days=1)
    if recurrence == Recurrence.WEEKLY:
        return day + dt.timedelta(days=7)
    if recurrence == Recurrence.MONTHLY:
        year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
        return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
    if recurrence == Recurrence.YEARLY:
        return content.DayOfYear(day.month, day.day).on(day.year + 1)
    raise ValueError(recurrence)


@transaction.atomic
def complete_task(*, user: User, task: Task, expected_version: int | None = None) -> Task:
    """Marks a task done; a repeating one comes back on its next date."""
    _may_change(user, task)
    locked = _lock(task, expected_version)
    if locked.done_at is not None:
        raise ValidationError.single("__all__", _("This task is already done."))
    locked.done_at = timezone.now()
    locked.done_by = user
    locked.version += 1
    locked.updated_at = locked.done_at
    locked.save(update_fields=["done_at", "done_by", "version", "updated_at"])
    record(action="update", record=locked, actor=user, detail={"done": True})
    if locked.recurrence:
        following = next_due(locked.due_on, locked.recurrence)
        while following <= timezone.localdate() - dt.timedelta(days=1) and locked.recurrence == Recurrence.DAILY:
            following = next_due(following, locked.recurrence)  # a daily task done late restarts today
        Task.objects.create(owner=locked.owner, card=locked.card, deal=locked.deal, visit=locked.visit, title=locked.title,
                            note=locked.note, due_on=following, due_time=locked.due_time, recurrence=locked.recurrence,
                            created_by=user)
    return locked


@transaction.atomic
def snooze_task(*, user: User, task: Task, days: Any = 1, expected_version: int | None = None) -> Task:
    """Puts a task off by some days, counted from today when it is already overdue."""
    _may_change(user, task)
    if isinstance(days, bool) or not str(days).isdigit() or not 1 <= int(str(days)) <= MAX_SNOOZE_DAYS:
        raise ValidationError.single("days", _("Snooze by 1 to %(max)s days.") % {"max": MAX_SNOOZE_DAYS})
    locked = _lock(task, expected_version)
    if locked.done_at is not None:
        raise ValidationError.single("__all__", _("This task is already done."))
    locked.due_on = max(locked.due_on, selectors.local_today(locked.owner)) + dt.timedelta(days=int(str(days)))
    locked.snoozed += 1
    locked.version += 1
    locked.updated_at = timezone.now()
    locked.save(update_fields=["due_on", "snoozed", "version", "updated_at"])
    record(action="update", record=locked, actor=user, detail={"snoozed_to": locked.due_on.isoformat()})
    return locked


@transaction.atomic
def delete_task(*, user: User, task: Task, expected_version: int | None = None) -> None:
    _may_change(user, task)
    locked = _lock(task, expected_version)
    record(action="delete", record=locked, actor=user, detail={"title": locked.title[:100]})
    locked.delete()


@transaction.atomic
def log_call(*, user: User, card_id: Any, summary: Any = "", task: Task | None = None) -> Any:
    """Logs a call with a customer from Today; it resets the keep-in-touch clock, and closes the
    task it was made for."""
    from rapport.activities.services import log_activity

    text = summary if isinstance(summary, str) and summary.strip() else _("Call")
    activity = log_activity(user=user, data={"kind": "call", "summary": text, "cards": [card_id]})
    touch_clock(card_ids=[int(str(card_id))], day=timezone.localdate())
    if task is not None and task.done_at is None:
        complete_task(user=user, task=task)
    return activity


def touch_clock(*, card_ids: list[int], day: dt.date) -> None:
    """Moves the keep-in-touch clock of these cards to ``day`` and closes their open cadence reminders."""
    for card_id in card_ids:
        clock, created = ContactClock.objects.get_or_create(card_id=card_id, defaults={"last_contact_on": day})
        if not created and (clock.last_contact_on is None or clock.last_contact_on < day):
            clock.last_contact_on = day
            clock.save(update_fields=["last_contact_on"])
    Task.objects.open().filter(card_id__in=card_ids, source=Source.CADENCE).update(done_at=timezone.now())


# --- settings and the calendar address ----------------------------------------------------------------


def profile_of(user: User) -> AgendaProfile:
    profile, _created = AgendaProfile.objects.get_or_create(user=user)
    return profile


@transaction.atomic
def update_settings(*, user: User, data: dict[str, Any]) -> AgendaProfile:
    """A user's time zone and whether they get the daily e-mail."""
    if not isinstance(data, dict):
        raise ValidationError.single("__all__", _("Expected an object."))
    errors = Errors()
    unknown = sorted(set(data) - {"time_zone", "digest"})
    if unknown:
        errors.add("__all__", _("Unknown fields: %(fields)s.") % {"fields": ", ".join(str(u)[:40] for u in unknown[:10])})
    profile = AgendaProfile.objects.select_for_update().get(pk=profile_of(user).pk)
    if "time_zone" in data:
        zone = data["time_zone"] or ""
        if zone and not content.valid_time_zone(zone):
            errors.add("time_zone", _("Unknown time zone (e.g. Europe/Madrid)."))
        else:
            profile.time_zone = zone
    if "digest" in data:
        if not isinstance(data["digest"], bool):
            errors.add("digest", _("Expected true or false."))
        else:
            profile.digest = data["digest"]
    errors.raise_if_any()
    profile.save()
    return profile


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def renew_feed(*, user: User) -> str:
    """A new secret for the user's calendar address; the old address stops working at once.
    The secret is shown this once: only its hash is kept."""
    if not user.is_active:
        raise PermissionDenied(_("This account is not active."))
    secret = "cal_" + secrets.token_urlsafe(32)
    profile = AgendaProfile.objects.select_for_update().get(pk=profile_of(user).pk)
    profile.feed_hash = _hash(secret)
    profile.feed_created_at = timezone.now()
    profile.save(update_fields=["feed_hash", "feed_created_at"])
    record(action="update", record=profile, actor=user, detail={"calendar_address": "renewed"})
    return secret


@transaction.atomic
def revoke_feed(*, user: User) -> None:
    profile = profile_of(user)
    AgendaProfile.objects.filter(pk=profile.pk).update(feed_hash="", feed_created_at=None)
    record(action="update", record=profile, actor=user, detail={"calendar_address": "revoked"})


def feed_owner(secret: Any) -> User:
    """The active user a calendar secret belongs to, or NotFound."""
    if not isinstance(secret, str) or not secret.startswith("cal_") or len(secret) > 100:
        raise NotFound("calendar")
    profile = AgendaProfile.objects.filter(feed_hash=_hash(secret)).select_related("user").first()
    if profile is None or not profile.user.is_active:
        raise NotFound("calendar")
    return profile.user
