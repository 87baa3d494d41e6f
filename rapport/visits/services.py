"""Write use-cases of field visits: planning a visit with its objectives and the sales tools to
bring, the manager's instructions and the week plan, where a customer is and when it opens,
check-in and check-out, the visit report (results per objective, promises, the retail
checklist, market intelligence, the review), keeping promises, and erasure.

Every function takes keyword arguments, checks what the user may do, runs in one transaction
and writes its own audit entry; a refused call leaves nothing behind. Input comes as plain
data (a form, a JSON body, the command line) and is checked here, so every door refuses the
same things with the same words. Price and inventory audits are written by ``audits``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.accounts.models import User
from rapport.audit.services import record
from rapport.cards.models import Card
from rapport.cards.checks import Checked as _Checked
from rapport.cards.checks import choice as _choice
from rapport.cards.checks import customer_from as find_customer
from rapport.cards.checks import default_team as _default_team
from rapport.cards.checks import owner_for as _owner
from rapport.cards.checks import parse_id, refuse_unknown as _refuse_unknown
from rapport.cards.checks import team_by_id
from rapport.cards.services import Errors
from rapport.cards.values import clean_text, parse_date
from rapport.commerce import money
from rapport.core.errors import Conflict, PermissionDenied, ValidationError
from rapport.core.visibility import scope_for, visible_to
from rapport.visits import content
from rapport.visits.models import (
    CheckState,
    Intelligence,
    IntelligenceKind,
    Objective,
    PlanStatus,
    Promise,
    PromiseBy,
    Result,
    RetailCheck,
    Site,
    StartPoint,
    Status,
    Visit,
    WeekPlan,
)

MAX_OBJECTIVES = 20
MAX_PEOPLE = 30
MAX_PROMISES = 50  # made on one visit
MAX_INTELLIGENCE = 50
MAX_DAY_VISITS = 60  # one rep, one day: far above what a day can hold

# Market intelligence kinds and the catalog item each is kept under as a fact (source "visit").
INTELLIGENCE_ITEMS: dict[str, str] = {
    IntelligenceKind.COMPETITOR_CHANNEL: "competitor_channels",
    IntelligenceKind.COMPETITOR_PRICE: "competitor_prices",
    IntelligenceKind.COMPETITOR_PROMOTION: "competitor_promotions",
    IntelligenceKind.MARKET_SHARE: "competitor_market_shares",
    IntelligenceKind.CREDIT_CHANGE: "credit_changes",
}


# --- who may do what ---------------------------------------------------------------------------------


def may_write(user: User, visit: Visit) -> bool:
    """Everyone who sees the visit's customer may work the visit, except analysts, who only read."""
    return scope_for(user).may_write_card(visit.card)


def require_write(user: User, visit: Visit) -> None:
    if not may_write(user, visit):
        raise PermissionDenied(_("Your role may read visits but not change them."))


def may_instruct(user: User, owner_id: int) -> bool:
    """A manager instructs the people of the teams they manage; an admin anyone."""
    scope = scope_for(user)
    return scope.role == "admin" or (scope.role == "manager" and owner_id in scope.managed_user_ids)


def _check_version(visit: Visit, expected_version: int | None) -> None:
    if expected_version is not None and visit.version != expected_version:
        raise Conflict(_("This visit changed since you loaded it; reload and try again."))


def parse_time(field: str, raw: Any) -> dt.time | None:
    """A time of day as HH:MM (or HH:MM:SS); empty is None."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, dt.time):
        return raw.replace(second=0, microsecond=0)
    text = str(raw).strip()[:20]
    for fmt in ("%H:%M", "%H:%M:%S"):
        try:
            return dt.datetime.strptime(text, fmt).time()
        except ValueError:
            continue
    raise ValidationError.single(field, _("Expected a time of day such as 09:30."))


def parse_coordinate(field: str, raw: Any, limit: int) -> Decimal | None:
    if raw is None or raw == "":
        return None
    value = money.parse_decimal(raw, field, allow_zero=True, allow_negative=True, maximum=Decimal(limit))
    if abs(value) > limit:
        raise ValidationError.single(field, _("Expected a value from -%(n)s to %(n)s.") % {"n": limit})
    return value.quantize(Decimal("0.000001"))


def _duration(raw: Any) -> int:
    if raw is None or raw == "":
        return 45
    if isinstance(raw, bool) or not str(raw).strip().isdigit() or not 5 <= int(str(raw).strip()) <= 720:
        raise ValidationError.single("duration_minutes", _("The duration is a whole number of minutes from 5 to 720."))
    return int(str(raw).strip())


def _window(data: dict[str, Any], current: Visit | None = None) -> tuple[dt.time | None, dt.time | None]:
    start = parse_time("window_start", data["window_start"]) if "window_start" in data else (current.window_start if current else None)
    end = parse_time("window_end", data["window_end"]) if "window_end" in data else (current.window_end if current else None)
    if start is not None and end is not None and end <= start:
        raise ValidationError.single("window_end", _("The window must end after it starts."))
    return start, end


def _planned_on(raw: Any) -> dt.date:
    day = parse_date("date", raw)
    today = timezone.localdate()
    if abs((day - today).days) > 3660:
        raise ValidationError.single("date", _("The date is more than ten years away."))
    return day


def _objectives(raw: Any) -> list[dict[str, Any]]:
    """The visit's objectives: ``[{"kind", "target_amount"?, "currency"?, "note"?}]`` or kind keys."""
    if raw is None or raw == "":
        return []
    if not isinstance(raw, list):
        raise ValidationError.single("objectives", _("Expected a list of objectives."))
    if len(raw) > MAX_OBJECTIVES:
        raise ValidationError.single("objectives", _("At most %(n)s objectives per visit.") % {"n": MAX_OBJECTIVES})
    catalog = content.objectives()
    result = []
    errors = Errors()
    for i, item in enumerate(raw):
        where = f"objectives[{i}]"
        if not isinstance(item, dict):
            item = {"kind": item}
        kind = errors.run(_choice, f"{where}.kind", item.get("kind"), list(catalog))
        note = errors.run(clean_text, f"{where}.note", item.get("note"), max_length=500) or ""
        amount, currency = None, ""
        if item.get("target_amount") not in (None, ""):
            currency = errors.run(money.parse_currency, item.get("currency"), f"{where}.currency") or ""
            if currency:
                amount = errors.run(money.parse_amount, item["target_amount"], currency, f"{where}.target_amount", allow_zero=True)
            if kind and not catalog[kind].has_amount:
                errors.add(f"{where}.target_amount", _("This objective has no amount to reach."))
        result.append({"kind": kind, "note": note, "target_amount": amount, "currency": currency if amount is not None else ""})
    errors.raise_if_any()
    return result


def _tools(raw: Any) -> dict[str, bool]:
    """The sales tools to bring: a list of keys (none packed yet) or ``{key: packed}``."""
    if raw is None or raw == "":
        return {}
    catalog = content.tools()
    if isinstance(raw, list):
        raw = {k: False for k in raw}
    if not isinstance(raw, dict):
        raise ValidationError.single("tools", _("Expected a list of sales tools."))
    unknown = [str(k)[:40] for k in raw if k not in catalog]
    if unknown:
        raise ValidationError.single("tools", _("Unknown sales tool: %(keys)s.") % {"keys": ", ".join(unknown)})
    return {k: bool(v) for k, v in raw.items()}


def _people(user: User, raw: Any, card: Card) -> list[Card]:
    """Whom we expect to meet: person cards the user sees."""
    if raw is None or raw == "":
        return []
    if not isinstance(raw, list):
        raise ValidationError.single("people", _("Expected a list of people."))
    if len(raw) > MAX_PEOPLE:
        raise ValidationError.single("people", _("At most %(n)s people per visit.") % {"n": MAX_PEOPLE})
    ids = [parse_id("people", r) for r in raw]
    found = list(visible_to(user).filter(pk__in=ids, kind="person"))
    if len(found) != len(set(ids)):
        raise ValidationError.single("people", _("No such person, or you may not see them."))
    return found


def _companions(raw: Any) -> list[User]:
    if raw is None or raw == "":
        return []
    if not isinstance(raw, list) or len(raw) > 10:
        raise ValidationError.single("companions", _("Expected a list of at most 10 colleagues."))
    ids = [parse_id("companions", r) for r in raw]
    found = list(User.objects.filter(pk__in=ids, is_active=True))
    if len(found) != len(set(ids)):
        raise ValidationError.single("companions", _("No active user with this id."))
    return found


# --- the card's owner and team on its visits -----------------------------------------------------------


def sync_visit_copies(card: Card) -> None:
    """Keeps the visibility copies of a card's visits, promises and audits in step with the card."""
    from rapport.visits.models import PriceObservation, StockObservation

    owner, team = card.owner_id or 0, card.team_id
    for model in (Visit, Promise, PriceObservation, StockObservation):
        model.objects.filter(card_id=card.pk).exclude(card_owner_id=owner, card_team_id=team).update(card_owner_id=owner, card_team_id=team)


# --- planning ------------------------------------------------------------------------------------------

VISIT_FIELDS = {"date", "window_start", "window_end", "duration_minutes", "objectives", "tools", "people", "purpose",
                "owner", "companions", "position", "team"}


def _set_objectives(visit: Visit, objectives: list[dict[str, Any]]) -> None:
    Objective.objects.filter(visit=visit).delete()
    Objective.objects.bulk_create([Objective(visit=visit, position=i, **o) for i, o in enumerate(objectives)])


def _position(raw: Any) -> int:
    if raw is None or raw == "":
        return 0
    if isinstance(raw, bool) or not str(raw).strip().isdigit() or int(str(raw).strip()) > 999:
        raise ValidationError.single("position", _("Expected a whole number from 0 to 999."))
    return int(str(raw).strip())


@transaction.atomic
def create_visit(*, user: User, data: dict[str, Any]) -> Visit:
    """Plans a visit to a customer the user may see."""
    _refuse_unknown(data, VISIT_FIELDS | {"organization", "person"})
    card = find_customer(user, data)
    if not scope_for(user).may_write_card(card):
        raise PermissionDenied(_("Your role may read visits but not change them."))
    if card.archived_at is not None:
        raise ValidationError.single("organization" if card.kind == "organization" else "person", _("This customer is archived."))
    checked = _Checked()
    checked.take("planned_on", lambda: _planned_on(data.get("date")))
    checked.take("window", lambda: _window(data))
    checked.take("duration_minutes", lambda: _duration(data.get("duration_minutes")))
    checked.take("objectives", lambda: _objectives(data.get("objectives")))
    checked.take("tools", lambda: _tools(data.get("tools")))
    checked.take("people", lambda: _people(user, data.get("people"), card))
    checked.take("purpose", lambda: clean_text("purpose", data.get("purpose"), max_length=300))
    checked.take("owner", lambda: user if data.get("owner") in (None, "") else _owner(data["owner"], card, user))
    checked.take("companions", lambda: _companions(data.get("companions")))
    checked.take("team", lambda: None if data.get("team") in (None, "") else team_by_id(data["team"]))
    checked.raise_if_any()
    v = checked.values
    owner: User = v["owner"]
    day: dt.date = v["planned_on"]
    day_count = Visit.objects.filter(owner=owner, planned_on=day).exclude(status=Status.CANCELLED).count()
    if day_count >= MAX_DAY_VISITS:
        raise ValidationError.single("date", _("At most %(n)s visits a day.") % {"n": MAX_DAY_VISITS})
    position = _position(data.get("position")) if data.get("position") not in (None, "") else day_count + 1
    now = timezone.now()
    visit = Visit.objects.create(
        card=card, planned_on=day, window_start=v["window"][0], window_end=v["window"][1],
        duration_minutes=v["duration_minutes"], position=position, tools=v["tools"], purpose=v["purpose"],
        owner=owner, team=v["team"] if v["team"] is not None else _default_team(owner, card),
        card_owner_id=card.owner_id or 0, card_team_id=card.team_id, created_by=user, created_at=now, updated_at=now,
    )
    _set_objectives(visit, v["objectives"])
    visit.people.set(v["people"])
    visit.companions.set(v["companions"])
    _reopen_week_plan(owner, day)
    record(action="create", record=visit, actor=user, detail={"card": card.pk, "date": day.isoformat()})
    return visit


def _locked(visit: Visit, expected_version: int | None) -> Visit:
    locked = Visit.objects.select_for_update().select_related("card").get(pk=visit.pk)
    _check_version(locked, expected_version)
    return locked


def _touch(visit: Visit, fields: list[str]) -> None:
    visit.updated_at = timezone.now()
    visit.version = F("version") + 1
    visit.save(update_fields=[*fields, "updated_at", "version"])
    visit.refresh_from_db(fields=["version"])


@transaction.atomic
def update_visit(*, user: User, visit: Visit, data: dict[str, Any], expected_version: int | None = None) -> Visit:
    """Changes the plan of a visit not yet reported; objectives, tools and people, when given, replace the lists."""
    require_write(user, visit)
    _refuse_unknown(data, VISIT_FIELDS | {"status"})
    locked = _locked(visit, expected_version)
    if locked.status == Status.DONE:
        raise Conflict(_("This visit is reported; its plan no longer changes."))
    checked = _Checked()
    if "date" in data:
        checked.take("planned_on", lambda: _planned_on(data["date"]))
    if "window_start" in data or "window_end" in data:
        checked.take("window", lambda: _window(data, locked))
    if "duration_minutes" in data:
        checked.take("duration_minutes", lambda: _duration(data["duration_minutes"]))
    if "objectives" in data:
        checked.take("objectives", lambda: _objectives(data["objectives"]))
    if "tools" in data:
        checked.take("tools", lambda: _tools(data["tools"]))
    if "people" in data:
        checked.take("people", lambda: _people(user, data["people"], locked.card))
    if "purpose" in data:
        checked.take("purpose", lambda: clean_text("purpose", data["purpose"], max_length=300))
    if "owner" in data:
        checked.take("owner", lambda: _owner(data["owner"], locked.card, user))
    if "companions" in data:
        checked.take("companions", lambda: _companions(data["companions"]))
    if "position" in data:
        checked.take("position", lambda: _position(data["position"]))
    if "team" in data:
        checked.take("team", lambda: None if data["team"] in (None, "") else team_by_id(data["team"]))
    if "status" in data:
        checked.take("status", lambda: _choice("status", data["status"], [Status.PLANNED, Status.CANCELLED]))
    checked.raise_if_any()
    v = checked.values
    changed: dict[str, Any] = {}
    fields: list[str] = []

    def put(name: str, value: Any) -> None:
        if getattr(locked, name) != value:
            changed[name] = [str(getattr(locked, name)), str(value)]
            setattr(locked, name, value)
            fields.append(name)

    if "planned_on" in v:
        put("planned_on", v["planned_on"])
    if "window" in v:
        put("window_start", v["window"][0])
        put("window_end", v["window"][1])
    for name in ("duration_minutes", "tools", "purpose", "position", "status"):
        if name in v:
            put(name, v[name])
    if "owner" in v:
        put("owner", v["owner"])
    if "team" in v:
        put("team", v["team"])
    if "status" in v and v["status"] == Status.PLANNED and locked.checked_in_at is not None:
        raise ValidationError.single("status", _("A visit checked in is not planned again."))
    if fields:
        _touch(locked, fields)
    if "objectives" in v:
        _set_objectives(locked, v["objectives"])
        changed["objectives"] = [o["kind"] for o in v["objectives"]]
    if "people" in v:
        locked.people.set(v["people"])
        changed["people"] = [p.pk for p in v["people"]]
    if "companions" in v:
        locked.companions.set(v["companions"])
        changed["companions"] = [u.pk for u in v["companions"]]
    if ("objectives" in v or "people" in v or "companions" in v) and not fields:
        _touch(locked, [])
    if "planned_on" in v or "owner" in v or "status" in v:
        _reopen_week_plan(locked.owner, locked.planned_on)
    if changed:
        record(action="update", record=locked, actor=user, detail={"changed": changed})
    return locked


@transaction.atomic
def set_tool_packed(*, user: User, visit: Visit, tool: Any, packed: bool) -> Visit:
    """Ticks (or unticks) one sales tool of the visit's checklist as packed."""
    require_write(user, visit)
    locked = _locked(visit, None)
    key = _choice("tool", tool, list(locked.tools))
    locked.tools = {**locked.tools, key: bool(packed)}
    _touch(locked, ["tools"])
    return locked


@transaction.atomic
def reorder_day(*, user: User, owner: User, day: dt.date, visit_ids: list[Any]) -> None:
    """Sets the typed order of a rep's day: the visits in the order given."""
    from rapport.visits.selectors import visible_visits

    if not isinstance(visit_ids, list) or len(visit_ids) > MAX_DAY_VISITS:
        raise ValidationError.single("visits", _("Expected a list of visits."))
    ids = [parse_id("visits", v) for v in visit_ids]
    visits = {v.pk: v for v in visible_visits(user).filter(owner=owner, planned_on=day, pk__in=ids).select_related("card")}
    if len(visits) != len(set(ids)):
        raise ValidationError.single("visits", _("No such visit on this day, or you may not see it."))
    for v in visits.values():
        require_write(user, v)
    for position, pk in enumerate(ids, start=1):
        Visit.objects.filter(pk=pk).update(position=position, updated_at=timezone.now(), version=F("version") + 1)
    record(action="update", record=owner, actor=user, detail={"day": day.isoformat(), "order": ids})


# --- the manager's instructions and the week plan ------------------------------------------------------


@transaction.atomic
def set_instructions(*, user: User, visit: Visit, text: Any, expected_version: int | None = None) -> Visit:
    """A manager's instructions for one visit of a rep of their team."""
    if not may_instruct(user, visit.owner_id):
        raise PermissionDenied(_("Only the rep's manager gives instructions for a visit."))
    locked = _locked(visit, expected_version)
    instructions = clean_text("instructions", text, max_length=4000)
    locked.instructions = instructions
    locked.instructions_by = user if instructions else None
    locked.instructions_at = timezone.now() if instructions else None
    _touch(locked, ["instructions", "instructions_by", "instructions_at"])
    record(action="update", record=locked, actor=user, detail={"instructions": bool(instructions)})
    return locked


def _reopen_week_plan(owner: User, day: dt.date) -> None:
    """A change to an approved or submitted week sends the plan back to draft: the manager
    approved another plan."""
    monday = day - dt.timedelta(days=day.weekday())
    WeekPlan.objects.filter(user=owner, week=monday, status__in=[PlanStatus.SUBMITTED, PlanStatus.APPROVED]).update(
        status=PlanStatus.DRAFT, version=F("version") + 1
    )


def _monday(raw: Any) -> dt.date:
    day = parse_date("week", raw)
    return day - dt.timedelta(days=day.weekday())


@transaction.atomic
def submit_week(*, user: User, week: Any, note: Any = "") -> WeekPlan:
    """The rep sends their week's visits to their manager for approval."""
    monday = _monday(week)
    if not Visit.objects.filter(owner=user, planned_on__gte=monday, planned_on__lt=monday + dt.timedelta(days=7)).exclude(
        status=Status.CANCELLED
    ).exists():
        raise ValidationError.single("week", _("There is no visit planned this week."))
    plan, _created = WeekPlan.objects.select_for_update().get_or_create(user=user, week=monday)
    if plan.status == PlanStatus.APPROVED:
        raise Conflict(_("This week is approved already."))
    plan.status = PlanStatus.SUBMITTED
    plan.submitted_at = timezone.now()
    plan.note = clean_text("note", note, max_length=1000)
    plan.decided_by, plan.decided_at = None, None
    plan.version += 1
    plan.save()
    record(action="update", record=plan, actor=user, detail={"week": monday.isoformat(), "status": plan.status})
    return plan


@transaction.atomic
def decide_week(*, user: User, plan: WeekPlan, approve: bool, note: Any = "") -> WeekPlan:
    """The manager approves a rep's week plan, or returns it with a note."""
    if not may_instruct(user, plan.user_id):
        raise PermissionDenied(_("Only the rep's manager approves their week."))
    locked = WeekPlan.objects.select_for_update().get(pk=plan.pk)
    if locked.status != PlanStatus.SUBMITTED:
        raise Conflict(_("This week plan is not waiting for approval."))
    text = clean_text("note", note, max_length=1000)
    if not approve and not text:
        raise ValidationError.single("note", _("Say what to change."))
    locked.status = PlanStatus.APPROVED if approve else PlanStatus.RETURNED
    locked.decided_by, locked.decided_at = user, timezone.now()
    if text:
        locked.note = text
    locked.version += 1
    locked.save()
    record(action="update", record=locked, actor=user, detail={"status": locked.status})
    return locked


# --- where customers are, where the day starts --------------------------------------------------------


def _weekdays(raw: Any) -> list[int]:
    if raw is None or raw == "":
        return []
    if not isinstance(raw, list) or any(isinstance(d, bool) or str(d).strip() not in "0123456" or str(d).strip() == "" for d in raw):
        raise ValidationError.single("closed_weekdays", _("Expected weekdays from 0 (Monday) to 6 (Sunday)."))
    return sorted({int(str(d).strip()) for d in raw})


@transaction.atomic
def set_site(*, user: User, card: Card, data: dict[str, Any], located_by: str = "entered") -> Site:
    """Records where a customer is (coordinates) and when it opens."""
    _refuse_unknown(data, {"latitude", "longitude", "opens_at", "closes_at", "closed_weekdays"})
    if not scope_for(user).may_write_card(card):
        raise PermissionDenied(_("Your role may read visits but not change them."))
    checked = _Checked()
    if "latitude" in data or "longitude" in data:
        checked.take("latitude", lambda: parse_coordinate("latitude", data.get("latitude"), 90))
        checked.take("longitude", lambda: parse_coordinate("longitude", data.get("longitude"), 180))
    if "opens_at" in data:
        checked.take("opens_at", lambda: parse_time("opens_at", data["opens_at"]))
    if "closes_at" in data:
        checked.take("closes_at", lambda: parse_time("closes_at", data["closes_at"]))
    if "closed_weekdays" in data:
        checked.take("closed_weekdays", lambda: _weekdays(data["closed_weekdays"]))
    checked.raise_if_any()
    v = checked.values
    if ("latitude" in v) and ((v["latitude"] is None) != (v["longitude"] is None)):
        raise ValidationError.single("longitude", _("Give both coordinates, or neither."))
    site, _created = Site.objects.select_for_update().get_or_create(card=card)
    for name in ("opens_at", "closes_at", "closed_weekdays"):
        if name in v:
            setattr(site, name, v[name])
    if site.opens_at and site.closes_at and site.closes_at <= site.opens_at:
        raise ValidationError.single("closes_at", _("The customer must close after it opens."))
    if "latitude" in v:
        site.latitude, site.longitude = v["latitude"], v["longitude"]
        site.located_by = located_by if v["latitude"] is not None else ""
        site.located_at = timezone.now() if v["latitude"] is not None else None
    site.save()
    record(action="update", record=card, actor=user, detail={"site": sorted(v)})
    return site


@transaction.atomic
def set_start_point(*, user: User, data: dict[str, Any]) -> StartPoint:
    """Where the user's day starts and when they leave."""
    _refuse_unknown(data, {"label", "latitude", "longitude", "leaves_at"})
    checked = _Checked()
    checked.take("label", lambda: clean_text("label", data.get("label"), max_length=120))
    checked.take("latitude", lambda: parse_coordinate("latitude", data.get("latitude"), 90))
    checked.take("longitude", lambda: parse_coordinate("longitude", data.get("longitude"), 180))
    checked.take("leaves_at", lambda: parse_time("leaves_at", data.get("leaves_at")))
    checked.raise_if_any()
    v = checked.values
    if v["latitude"] is None or v["longitude"] is None:
        raise ValidationError.single("latitude", _("Give both coordinates."))
    start, _created = StartPoint.objects.update_or_create(
        user=user, defaults={"label": v["label"], "latitude": v["latitude"], "longitude": v["longitude"],
                             "leaves_at": v["leaves_at"] or dt.time(8, 30)},
    )
    return start


# --- during the visit --------------------------------------------------------------------------------


@transaction.atomic
def check_in(*, user: User, visit: Visit, latitude: Any = None, longitude: Any = None) -> Visit:
    """The rep arrives: the time, and the place when the browser gives it. A customer without
    coordinates takes these as its location."""
    require_write(user, visit)
    locked = _locked(visit, None)
    if locked.status == Status.CANCELLED:
        raise Conflict(_("This visit is cancelled."))
    if locked.checked_in_at is not None:
        return locked
    checked = _Checked()
    checked.take("latitude", lambda: parse_coordinate("latitude", latitude, 90))
    checked.take("longitude", lambda: parse_coordinate("longitude", longitude, 180))
    checked.raise_if_any()
    lat, lon = checked.values["latitude"], checked.values["longitude"]
    locked.checked_in_at = timezone.now()
    locked.status = Status.IN_PROGRESS if locked.status == Status.PLANNED else locked.status
    fields = ["checked_in_at", "status"]
    if lat is not None and lon is not None:
        locked.check_in_latitude, locked.check_in_longitude = lat, lon
        fields += ["check_in_latitude", "check_in_longitude"]
        site = Site.objects.filter(card=locked.card).first()
        if site is None or site.latitude is None:
            Site.objects.update_or_create(card=locked.card, defaults={
                "latitude": lat, "longitude": lon, "located_by": "check_in", "located_at": timezone.now()})
    _touch(locked, fields)
    record(action="update", record=locked, actor=user, detail={"checked_in": locked.checked_in_at.isoformat()})
    return locked


@transaction.atomic
def check_out(*, user: User, visit: Visit) -> Visit:
    require_write(user, visit)
    locked = _locked(visit, None)
    if locked.checked_in_at is None:
        raise ValidationError.single("checked_out_at", _("Check in first."))
    if locked.checked_out_at is None:
        locked.checked_out_at = timezone.now()
        _touch(locked, ["checked_out_at"])
        record(action="update", record=locked, actor=user, detail={"checked_out": locked.checked_out_at.isoformat()})
    return locked


# --- promises -------------------------------------------------------------------------------------------


def _promise_rows(raw: Any, field: str = "promises") -> list[dict[str, Any]]:
    if raw is None or raw == "":
        return []
    if not isinstance(raw, list):
        raise ValidationError.single(field, _("Expected a list of promises."))
    if len(raw) > MAX_PROMISES:
        raise ValidationError.single(field, _("At most %(n)s promises at once.") % {"n": MAX_PROMISES})
    errors = Errors()
    rows = []
    for i, item in enumerate(raw):
        where = f"{field}[{i}]"
        if not isinstance(item, dict):
            errors.add(where, _("Expected an object."))
            continue
        by = errors.run(_choice, f"{where}.by", item.get("by"), PromiseBy)
        text = errors.run(clean_text, f"{where}.text", item.get("text"), required=True, max_length=500)
        due = None
        if item.get("due_on") not in (None, ""):
            due = errors.run(parse_date, f"{where}.due_on", item["due_on"])
        rows.append({"by": by, "text": text, "due_on": due})
    errors.raise_if_any()
    return rows


@transaction.atomic
def add_promise(*, user: User, card: Card, data: dict[str, Any], visit: Visit | None = None) -> Promise:
    """Records a promise made by us or by the customer, followed by the card's owner unless told."""
    _refuse_unknown(data, {"by", "text", "due_on", "owner"})
    if not scope_for(user).may_write_card(card):
        raise PermissionDenied(_("Your role may read visits but not change them."))
    row = _promise_rows([{k: data.get(k) for k in ("by", "text", "due_on")}])[0]
    owner = _owner(data["owner"], card, user) if data.get("owner") not in (None, "") else (visit.owner if visit else user)
    promise = Promise.objects.create(card=card, visit=visit, owner=owner, created_by=user,
                                     card_owner_id=card.owner_id or 0, card_team_id=card.team_id, **row)
    record(action="create", record=promise, actor=user, detail={"card": card.pk, "by": promise.by})
    return promise


@transaction.atomic
def keep_promise(*, user: User, promise: Promise, kept_on: Any = None, kept: bool = True) -> Promise:
    """Marks a promise kept (today unless a date is given), or open again."""
    if not scope_for(user).may_write_card(promise.card):
        raise PermissionDenied(_("Your role may read visits but not change them."))
    locked = Promise.objects.select_for_update().get(pk=promise.pk)
    if kept:
        day = timezone.localdate() if kept_on in (None, "") else parse_date("kept_on", kept_on)
        if day > timezone.localdate():
            raise ValidationError.single("kept_on", _("A promise is not kept in the future."))
        locked.kept_on = day
    else:
        locked.kept_on = None
    locked.version += 1
    locked.save(update_fields=["kept_on", "version"])
    record(action="update", record=locked, actor=user, detail={"kept_on": locked.kept_on.isoformat() if locked.kept_on else None})
    return locked


# --- the visit report ---------------------------------------------------------------------------------

REPORT_FIELDS = {"objectives", "outcome", "outcome_note", "strengths", "improve", "summary", "instructions_result",
                 "instructions_note", "promises", "retail_checks", "intelligence", "tools", "report_token"}


def _results(raw: Any, objectives: dict[int, Objective]) -> list[tuple[Objective, dict[str, Any]]]:
    if raw is None or raw == "":
        return []
    if not isinstance(raw, list):
        raise ValidationError.single("objectives", _("Expected a list of results."))
    errors = Errors()
    rows = []
    for i, item in enumerate(raw[:MAX_OBJECTIVES + 1]):
        where = f"objectives[{i}]"
        if not isinstance(item, dict):
            errors.add(where, _("Expected an object."))
            continue
        pk = errors.run(parse_id, f"{where}.id", item.get("id"))
        objective = objectives.get(pk) if pk is not None else None
        if pk is not None and objective is None:
            errors.add(f"{where}.id", _("This objective is not one of this visit's."))
            continue
        result = errors.run(_choice, f"{where}.result", item.get("result"), Result, blank=True)
        note = errors.run(clean_text, f"{where}.result_note", item.get("result_note"), max_length=500) or ""
        if result in (Result.PARTLY, Result.NOT_MET) and not note:
            errors.add(f"{where}.result_note", _("Say why."))
        achieved = None
        if item.get("achieved_amount") not in (None, "") and objective is not None:
            currency = objective.currency or str(item.get("currency") or "")
            cur = errors.run(money.parse_currency, currency, f"{where}.currency")
            if cur:
                achieved = errors.run(money.parse_amount, item["achieved_amount"], cur, f"{where}.achieved_amount", allow_zero=True)
                if not objective.currency:
                    item = {**item, "currency": cur}
        if objective is not None:
            rows.append((objective, {"result": result or "", "result_note": note, "achieved_amount": achieved,
                                     "currency": objective.currency or (str(item.get("currency") or "").upper() if achieved is not None else "")}))
    if len(raw) > MAX_OBJECTIVES:
        errors.add("objectives", _("At most %(n)s objectives per visit.") % {"n": MAX_OBJECTIVES})
    errors.raise_if_any()
    return rows


def _retail_rows(raw: Any) -> list[dict[str, str]]:
    if raw is None or raw == "":
        return []
    catalog = content.retail_checks()
    if isinstance(raw, dict):
        raw = [{"item": k, "state": v} for k, v in raw.items()]
    if not isinstance(raw, list) or len(raw) > len(catalog):
        raise ValidationError.single("retail_checks", _("Expected a list of checklist items."))
    errors = Errors()
    rows = []
    for i, item in enumerate(raw):
        where = f"retail_checks[{i}]"
        if not isinstance(item, dict):
            errors.add(where, _("Expected an object."))
            continue
        key = errors.run(_choice, f"{where}.item", item.get("item"), list(catalog))
        state = errors.run(_choice, f"{where}.state", item.get("state"), CheckState, blank=True)
        note = errors.run(clean_text, f"{where}.note", item.get("note"), max_length=300) or ""
        if key and state:
            rows.append({"item": key, "state": state, "note": note})
    errors.raise_if_any()
    return rows


def _intelligence_rows(raw: Any) -> list[dict[str, str]]:
    if raw is None or raw == "":
        return []
    if not isinstance(raw, list) or len(raw) > MAX_INTELLIGENCE:
        raise ValidationError.single("intelligence", _("Expected a list of at most %(n)s notes.") % {"n": MAX_INTELLIGENCE})
    errors = Errors()
    rows = []
    for i, item in enumerate(raw):
        where = f"intelligence[{i}]"
        if not isinstance(item, dict):
            errors.add(where, _("Expected an object."))
            continue
        kind = errors.run(_choice, f"{where}.kind", item.get("kind"), IntelligenceKind)
        text = errors.run(clean_text, f"{where}.text", item.get("text"), required=True, max_length=1000)
        competitor = errors.run(clean_text, f"{where}.competitor", item.get("competitor"), max_length=200) or ""
        if kind == IntelligenceKind.NEW_PROSPECT and text:
            errors.run(clean_text, f"{where}.text", text, required=True, max_length=300)
        rows.append({"kind": kind, "text": text, "competitor": competitor})
    errors.raise_if_any()
    return rows


def _record_intelligence(user: User, visit: Visit, row: dict[str, str]) -> Intelligence:
    """One piece of market intelligence: a fact on the card with source "visit" (when the
    card's kind has such an item), or for a new prospect a suspect card found on the visit."""
    from rapport.cards.services import add_fact, create_organization
    from rapport.catalog import selectors as catalog

    note = Intelligence(visit=visit, kind=row["kind"], competitor=row["competitor"], text=row["text"], created_by=user)
    if row["kind"] == IntelligenceKind.NEW_PROSPECT:
        prospect = create_organization(user=user, data={"name": row["text"][:300], "lifecycle_stage": "suspect"})
        source = catalog.sources().get("visit")
        if source is not None:
            Card.objects.filter(pk=prospect.pk).update(found_by_id=source.pk)
        note.prospect = prospect
    else:
        item_key = INTELLIGENCE_ITEMS[row["kind"]]
        item = catalog.items().get(item_key)
        if item is not None and item.applies_to in ("any", visit.card.kind):
            value = f"{row['competitor']}: {row['text']}" if row["competitor"] else row["text"]
            note.fact = add_fact(user=user, card=visit.card, item_key=item_key, value=value[:500], source_key="visit",
                                 observed_at=visit.checked_in_at or timezone.now())
    note.save()
    return note


@transaction.atomic
def add_intelligence(*, user: User, visit: Visit, data: dict[str, Any]) -> Intelligence:
    """Records one piece of market intelligence learnt on the visit."""
    require_write(user, visit)
    _refuse_unknown(data, {"kind", "text", "competitor"})
    row = _intelligence_rows([data])[0]
    note = _record_intelligence(user, visit, row)
    record(action="create", record=note, actor=user, detail={"visit": visit.pk, "kind": note.kind})
    return note


def _token(raw: Any) -> str:
    text = clean_text("report_token", raw, max_length=64)
    if text and not all(c.isalnum() or c in "-_" for c in text):
        raise ValidationError.single("report_token", _("Letters, digits, - and _ only."))
    return text


@transaction.atomic
def report_visit(*, user: User, visit: Visit, data: dict[str, Any], expected_version: int | None = None) -> Visit:
    """The visit report: results per objective, the review, whether the manager's instructions
    were carried out, promises made by both sides, the retail checklist and market
    intelligence. It closes the visit, logs it on the card's timeline and is sent once: a
    report sent again with the same ``report_token`` (a phone retrying) changes nothing."""
    from rapport.activities.services import log_activity

    require_write(user, visit)
    _refuse_unknown(data, REPORT_FIELDS)
    token = _token(data.get("report_token"))
    locked = Visit.objects.select_for_update().select_related("card", "owner").get(pk=visit.pk)
    if token and locked.status == Status.DONE and locked.report_token == token:
        return locked
    if locked.status == Status.CANCELLED:
        raise Conflict(_("This visit is cancelled."))
    if locked.status == Status.DONE:
        raise Conflict(_("This visit is reported already."))
    _check_version(locked, expected_version)
    objectives = {o.pk: o for o in Objective.objects.filter(visit=locked)}
    checked = _Checked()
    checked.take("results", lambda: _results(data.get("objectives"), objectives))
    checked.take("outcome", lambda: _choice("outcome", data.get("outcome"), Result))
    checked.take("outcome_note", lambda: clean_text("outcome_note", data.get("outcome_note"), max_length=1000))
    checked.take("strengths", lambda: clean_text("strengths", data.get("strengths"), max_length=4000))
    checked.take("improve", lambda: clean_text("improve", data.get("improve"), max_length=4000))
    checked.take("summary", lambda: clean_text("summary", data.get("summary"), max_length=10000))
    checked.take("instructions_result", lambda: _choice("instructions_result", data.get("instructions_result"), Result, blank=True))
    checked.take("instructions_note", lambda: clean_text("instructions_note", data.get("instructions_note"), max_length=500))
    checked.take("promises", lambda: _promise_rows(data.get("promises")))
    checked.take("retail_checks", lambda: _retail_rows(data.get("retail_checks")))
    checked.take("intelligence", lambda: _intelligence_rows(data.get("intelligence")))
    if "tools" in data:
        checked.take("tools", lambda: _tools(data["tools"]))
    checked.raise_if_any()
    v = checked.values
    if v["outcome"] in (Result.PARTLY, Result.NOT_MET) and not v["outcome_note"]:
        raise ValidationError.single("outcome_note", _("Say why."))
    if locked.instructions and not v["instructions_result"]:
        raise ValidationError.single("instructions_result", _("Say whether the manager's instructions were carried out."))
    now = timezone.now()
    for objective, values in v["results"]:
        for name, value in values.items():
            setattr(objective, name, value)
        objective.save(update_fields=list(values))
    for row in v["promises"]:
        Promise.objects.create(card=locked.card, visit=locked, owner=locked.owner, created_by=user,
                               card_owner_id=locked.card.owner_id or 0, card_team_id=locked.card.team_id, **row)
    RetailCheck.objects.filter(visit=locked).delete()
    RetailCheck.objects.bulk_create([RetailCheck(visit=locked, **row) for row in v["retail_checks"]])
    for row in v["intelligence"]:
        _record_intelligence(user, locked, row)
    locked.checked_in_at = locked.checked_in_at or now
    locked.checked_out_at = locked.checked_out_at or now
    summary_line = _("Visit: %(outcome)s") % {"outcome": dict(Result.choices)[v["outcome"]]}
    activity = log_activity(user=user, data={
        "kind": "visit", "summary": str(summary_line)[:300], "details": v["summary"], "cards": [locked.card_id],
        "occurred_at": locked.checked_in_at.isoformat(),
    })
    for name in ("outcome", "outcome_note", "strengths", "improve", "summary", "instructions_result", "instructions_note"):
        setattr(locked, name, v[name])
    if "tools" in v:
        locked.tools = v["tools"]
    locked.status = Status.DONE
    locked.reported_at = now
    locked.report_token = token
    locked.activity = activity
    _touch(locked, ["outcome", "outcome_note", "strengths", "improve", "summary", "instructions_result", "instructions_note",
                    "tools", "status", "reported_at", "report_token", "activity", "checked_in_at", "checked_out_at"])
    record(action="update", record=locked, actor=user, detail={
        "reported": True, "outcome": locked.outcome, "promises": len(v["promises"]),
    })
    return locked


# --- erasure --------------------------------------------------------------------------------------------


def erase_visits_of(card: Card, model: type[Any], fk: Any) -> int:
    """Data-subject erasure of a person who was a visit's customer: dates, times and results stay
    true for the reports, every text written about the visit goes."""
    visits = Visit.objects.filter(**{fk.attname: card.pk})
    ids = list(visits.values_list("pk", flat=True))
    if not ids:
        return 0
    Objective.objects.filter(visit_id__in=ids).update(note="", result_note="")
    Promise.objects.filter(card=card).update(text="—")
    RetailCheck.objects.filter(visit_id__in=ids).update(note="")
    Intelligence.objects.filter(visit_id__in=ids).delete()
    return visits.update(purpose="", instructions="", instructions_note="", outcome_note="", strengths="", improve="",
                         summary="", check_in_latitude=None, check_in_longitude=None)
