"""Write use-cases for decision units, relationships, stages, styles and gifts.

Views, the API, the CLI and the demo data call these; each validates all of its input first,
names every bad field, and writes nothing unless everything is valid.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from rapport.accounts.models import User
from rapport.activities import services as activities
from rapport.audit.services import record as central_audit
from rapport.cards.models import Card, Employment, Function, Kind, Level
from rapport.cards.selectors import get_card
from rapport.cards.services import Errors
from rapport.cards.values import clean_text, parse_date, parse_decimal
from rapport.core.errors import Conflict, PermissionDenied, ValidationError
from rapport.core.visibility import scope_for, visible_to
from rapport.relationships import content, selectors
from rapport.relationships.models import (
    DIRECTED_KINDS,
    ActivityTag,
    Attitude,
    AuditEntry,
    BuyingRole,
    ContactProfile,
    DecisionUnit,
    Gift,
    GiftKind,
    GiftPolicy,
    Member,
    Relationship,
    RelationshipKind,
    RelationshipStage,
    StageMove,
    Style,
)

MAX_NOTE = 1000


def _require_writer(user: User) -> None:
    if scope_for(user).role == "analyst":
        raise PermissionDenied("Your role may read but not change relationships.")


def _choice(errors: Errors, name: str, value: Any, choices: list[str], *, blank: bool = False) -> str:
    if value in (None, "") and blank:
        return ""
    if not isinstance(value, str) or value not in choices:
        errors.add(name, f"{value!r} is not one of: {', '.join(choices)}.")
        return ""
    return value


def _int_in(errors: Errors, name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().lstrip("-").isdigit():
        errors.add(name, f"{value!r} is not a whole number.")
        return low
    number = int(str(value).strip())
    if not low <= number <= high:
        errors.add(name, f"Must be between {low} and {high} (got {number}).")
    return number


def _bool(errors: Errors, name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "on", "1", 1):
        return True
    if value in ("false", "off", "0", 0, "", None):
        return False
    errors.add(name, f"{value!r} is not true or false.")
    return False


def _roles(errors: Errors, value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        errors.add("roles", "Expected a list of roles.")
        return []
    result: list[str] = []
    for raw in value:
        if raw not in BuyingRole.values:
            errors.add("roles", f"{raw!r} is not one of: {', '.join(BuyingRole.values)}.")
        elif raw not in result:
            result.append(raw)
    return result


def _person(errors: Errors, user: User, name: str, value: Any) -> Card | None:
    if isinstance(value, bool) or not str(value).isdigit() or int(str(value)) > 2**62:
        errors.add(name, f"{value!r} is not a person id.")
        return None
    card = visible_to(user).filter(pk=int(str(value)), kind=Kind.PERSON).first()
    if card is None:
        errors.add(name, "Unknown person.")
    return card


MEMBER_FIELDS = {"level", "function", "roles", "influence", "attitude", "coach", "cares_about"}


def _member_values(errors: Errors, data: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "level" in data:
        values["level"] = _choice(errors, "level", data["level"], Level.values, blank=True)
    if "function" in data:
        values["function"] = _choice(errors, "function", data["function"], Function.values, blank=True)
    if "roles" in data:
        values["roles"] = _roles(errors, data["roles"])
    if "influence" in data:
        values["influence"] = _int_in(errors, "influence", data["influence"], 0, 100)
    if "attitude" in data:
        values["attitude"] = _choice(errors, "attitude", data["attitude"], Attitude.values)
    if "coach" in data:
        values["is_coach"] = _bool(errors, "coach", data["coach"])
    if "cares_about" in data:
        values["cares_about"] = errors.run(clean_text, "cares_about", data["cares_about"], max_length=MAX_NOTE) or ""
    return values


def _unknown_fields(errors: Errors, data: dict[str, Any], allowed: set[str]) -> None:
    for key in sorted(set(data) - allowed):
        errors.add(key, "Unknown field.")


@transaction.atomic
def add_member(*, user: User, organization_id: Any, data: dict[str, Any]) -> Member:
    """Adds a person to an organisation's decision unit. Level and function default to the
    person's current employment there."""
    org = get_card(user, organization_id, Kind.ORGANIZATION)
    _require_writer(user)
    errors = Errors()
    _unknown_fields(errors, data, MEMBER_FIELDS | {"person"})
    person = _person(errors, user, "person", data.get("person"))
    values = _member_values(errors, data)
    errors.raise_if_any()
    assert person is not None
    # One unit per organisation; get_or_create under the unique constraint is race-safe.
    unit, _created = DecisionUnit.objects.get_or_create(organization=org)
    if Member.objects.filter(unit=unit, person=person).exists():
        raise ValidationError.single("person", "This person is already in the decision unit.")
    job = (
        Employment.objects.filter(organization=org, person=person, ended_on__isnull=True).order_by("-started_on").first()
    )
    if job is not None:
        values.setdefault("level", job.level)
        values.setdefault("function", job.function)
    try:
        with transaction.atomic():
            member = Member.objects.create(unit=unit, person=person, **values)
    except IntegrityError:
        raise ValidationError.single("person", "This person is already in the decision unit.") from None
    DecisionUnit.objects.filter(pk=unit.pk).update(updated_at=timezone.now())
    return member


@transaction.atomic
def update_member(*, user: User, member_id: Any, data: dict[str, Any], expected_version: int | None = None) -> Member:
    """Changes the given fields of a member; with ``expected_version``, only if nobody changed it since."""
    member = selectors.get_member(user, member_id)
    _require_writer(user)
    errors = Errors()
    _unknown_fields(errors, data, MEMBER_FIELDS | {"version"})
    if expected_version is None and "version" in data:
        expected_version = _int_in(errors, "version", data["version"], 0, 2**31)
    values = _member_values(errors, data)
    errors.raise_if_any()
    # The version check and the bump are one UPDATE, so two concurrent edits cannot both win.
    qs = Member.objects.filter(pk=member.pk)
    if expected_version is not None:
        qs = qs.filter(version=expected_version)
    if not qs.update(**values, version=F("version") + 1, updated_at=timezone.now()):
        raise Conflict("Someone else changed this member; reload and try again.")
    DecisionUnit.objects.filter(pk=member.unit_id).update(updated_at=timezone.now())
    member.refresh_from_db()
    return member


@transaction.atomic
def remove_member(*, user: User, member_id: Any) -> None:
    member = selectors.get_member(user, member_id)
    _require_writer(user)
    member.delete()


REL_FIELDS = {"from_person", "to_person", "kind", "directed", "strength", "note"}


@transaction.atomic
def add_relationship(*, user: User, data: dict[str, Any]) -> Relationship:
    """Records a tie between two people the user can see. Reports-to and influences read
    from ``from_person`` to ``to_person``; friend, rival and family hold both ways unless
    ``directed`` says otherwise."""
    _require_writer(user)
    errors = Errors()
    _unknown_fields(errors, data, REL_FIELDS)
    source = _person(errors, user, "from_person", data.get("from_person"))
    target = _person(errors, user, "to_person", data.get("to_person"))
    kind = _choice(errors, "kind", data.get("kind"), RelationshipKind.values)
    directed = _bool(errors, "directed", data["directed"]) if "directed" in data else kind in DIRECTED_KINDS
    strength = _int_in(errors, "strength", data.get("strength", 2), 1, 3)
    note = errors.run(clean_text, "note", data.get("note"), max_length=500) or ""
    if source is not None and target is not None and source.pk == target.pk:
        errors.add("to_person", "A person cannot have a relationship with themselves.")
    errors.raise_if_any()
    assert source is not None and target is not None
    duplicate = Relationship.objects.filter(from_person=source, to_person=target, kind=kind)
    if not directed:
        duplicate = duplicate | Relationship.objects.filter(from_person=target, to_person=source, kind=kind)
    if duplicate.exists():
        raise ValidationError.single("kind", "This relationship is already recorded.")
    try:
        with transaction.atomic():
            return Relationship.objects.create(
                from_person=source, to_person=target, kind=kind, directed=directed, strength=strength, note=note, created_by=user
            )
    except IntegrityError:
        raise ValidationError.single("kind", "This relationship is already recorded.") from None


@transaction.atomic
def update_relationship(*, user: User, relationship_id: Any, data: dict[str, Any]) -> Relationship:
    rel = selectors.get_relationship(user, relationship_id)
    _require_writer(user)
    errors = Errors()
    _unknown_fields(errors, data, {"kind", "directed", "strength", "note"})
    if "kind" in data:
        rel.kind = _choice(errors, "kind", data["kind"], RelationshipKind.values)
    if "directed" in data:
        rel.directed = _bool(errors, "directed", data["directed"])
    if "strength" in data:
        rel.strength = _int_in(errors, "strength", data["strength"], 1, 3)
    if "note" in data:
        rel.note = errors.run(clean_text, "note", data["note"], max_length=500) or ""
    errors.raise_if_any()
    clash = Relationship.objects.filter(from_person_id=rel.from_person_id, to_person_id=rel.to_person_id, kind=rel.kind)
    if clash.exclude(pk=rel.pk).exists():
        raise ValidationError.single("kind", "This relationship is already recorded.")
    rel.save()
    return rel


@transaction.atomic
def delete_relationship(*, user: User, relationship_id: Any) -> None:
    rel = selectors.get_relationship(user, relationship_id)
    _require_writer(user)
    rel.delete()


# --- stage, style ------------------------------------------------------------------------------


def _profile_for_update(person: Card) -> ContactProfile:
    # Locks the profile row so two stage moves cannot both read the same "from" stage.
    ContactProfile.objects.get_or_create(person=person)
    return ContactProfile.objects.select_for_update().get(person=person)


@transaction.atomic
def set_stage(*, user: User, person_id: Any, stage: Any, note: Any = "") -> StageMove:
    """Moves a contact to a relationship stage and records the move with the logged
    activities that count as evidence for the new stage."""
    person = selectors.get_person(user, person_id)
    _require_writer(user)
    errors = Errors()
    target = _choice(errors, "stage", stage, RelationshipStage.values)
    clean_note = errors.run(clean_text, "note", note, max_length=500) or ""
    errors.raise_if_any()
    profile = _profile_for_update(person)
    if profile.stage == target:
        raise ValidationError.single("stage", "The contact is already at this stage.")
    evidence = [
        {"activity": e.activity, "kind": e.kind, "typical": e.typical, "at": e.occurred_at.isoformat()}
        for e in selectors.evidence_for(person)
        if e.stage == target
    ][:50]
    move = StageMove.objects.create(
        person=person, from_stage=profile.stage, to_stage=target, evidence=evidence, note=clean_note, changed_by=user
    )
    profile.stage = target
    profile.updated_at = timezone.now()
    profile.updated_by = user
    profile.save(update_fields=["stage", "updated_at", "updated_by"])
    return move


@transaction.atomic
def set_style(*, user: User, person_id: Any, style: Any, answers: dict[str, str] | None = None) -> ContactProfile:
    person = selectors.get_person(user, person_id)
    _require_writer(user)
    errors = Errors()
    value = _choice(errors, "style", style, Style.values, blank=True)
    errors.raise_if_any()
    profile = _profile_for_update(person)
    profile.style = value
    profile.style_answers = answers or {}
    profile.updated_at = timezone.now()
    profile.updated_by = user
    profile.save(update_fields=["style", "style_answers", "updated_at", "updated_by"])
    return profile


def suggest_style(answers: dict[str, Any]) -> str:
    """The style the questionnaire answers point to (validates every answer, naming the question)."""
    errors = Errors()
    axes = {"assertiveness": 0, "responsiveness": 0}
    for question in content.questions():
        answer = answers.get(question.key)
        allowed = [value for value, _labels in question.options]
        if answer not in allowed:
            errors.add(question.key, f"Choose one of: {', '.join(allowed)}.")
            continue
        # The first option of each question is the "tells" / "task" end of its axis.
        axes[question.axis] += 1 if answer == allowed[0] else -1
    for key in sorted(set(answers) - {q.key for q in content.questions()}):
        errors.add(key, "Unknown question.")
    errors.raise_if_any()
    # A tie leans to the first question of the axis, answered above.
    tells = axes["assertiveness"] > 0 or (axes["assertiveness"] == 0 and answers.get("pace") == "tells")
    task = axes["responsiveness"] > 0 or (axes["responsiveness"] == 0 and answers.get("topic") == "task")
    if tells:
        return Style.DRIVER if task else Style.EXPRESSIVE
    return Style.ANALYTICAL if task else Style.AMIABLE


@transaction.atomic
def log_relationship_activity(*, user: User, person_id: Any, data: dict[str, Any]) -> Any:
    """Logs an activity with a contact, tagged as one of the typical relationship activities."""
    person = selectors.get_person(user, person_id)
    _require_writer(user)
    typical = content.typical_activities().get(str(data.get("typical", "")))
    if typical is None:
        raise ValidationError.single("typical", f"{data.get('typical')!r} is not a typical relationship activity.")
    kind = typical.kinds[0] if typical.kinds else "event"
    activity = activities.log_activity(
        user=user,
        data={
            "kind": kind,
            "summary": data.get("summary") or typical.label,
            "details": data.get("details", ""),
            "occurred_at": data.get("occurred_at"),
            "cards": [person.pk],
        },
    )
    ActivityTag.objects.create(activity=activity, typical=typical.key)
    return activity


# --- gifts and hospitality ---------------------------------------------------------------------


@transaction.atomic
def set_gift_policy(*, user: User, data: dict[str, Any]) -> GiftPolicy:
    """Admins set the value limits on gifts and hospitality; every change is audited."""
    if scope_for(user).role != "admin":
        raise PermissionDenied("Only administrators set the gift policy.")
    errors = Errors()
    _unknown_fields(errors, data, {"currency", "per_gift_limit", "per_contact_year_limit"})
    currency = data.get("currency", "EUR")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        errors.add("currency", f"{currency!r} is not a three-letter currency code.")
    limits: dict[str, Decimal | None] = {}
    for name in ("per_gift_limit", "per_contact_year_limit"):
        raw = data.get(name)
        if raw in (None, ""):
            limits[name] = None
            continue
        amount = errors.run(parse_decimal, name, raw)
        if amount is not None and amount < 0:
            errors.add(name, "A limit cannot be negative.")
        limits[name] = amount.quantize(Decimal("0.01")) if amount is not None else None
    errors.raise_if_any()
    policy = GiftPolicy.objects.select_for_update().order_by("id").first() or GiftPolicy()
    before = {"currency": policy.currency, **{k: _money(getattr(policy, k)) for k in limits}}
    policy.currency = str(currency).upper()
    policy.per_gift_limit = limits["per_gift_limit"]
    policy.per_contact_year_limit = limits["per_contact_year_limit"]
    policy.updated_by = user
    policy.updated_at = timezone.now()
    policy.save()
    after = {"currency": policy.currency, **{k: _money(getattr(policy, k)) for k in limits}}
    AuditEntry.objects.create(user=user, action="gift_policy_changed", details={"before": before, "after": after})
    central_audit(action="update", record=policy, actor=user, field="gift_policy", old=before, new=after)
    return policy


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


@transaction.atomic
def record_gift(*, user: User, person_id: Any, data: dict[str, Any]) -> tuple[Gift, list[str]]:
    """Records a gift or hospitality given to a contact, with its value.

    Above the admin's limits it is refused with a warning naming the limit, unless the rep
    confirms with a justification: then it is saved, flagged and written to the audit log.
    Returns the gift and the warnings that applied.
    """
    person = selectors.get_person(user, person_id)
    _require_writer(user)
    errors = Errors()
    _unknown_fields(errors, data, {"kind", "description", "value", "currency", "given_on", "confirm_over_limit", "justification"})
    kind = _choice(errors, "kind", data.get("kind"), GiftKind.values)
    description = errors.run(clean_text, "description", data.get("description"), required=True, max_length=300) or ""
    value = errors.run(parse_decimal, "value", data.get("value"))
    if value is not None and value < 0:
        errors.add("value", "A value cannot be negative.")
    if value is not None and value >= Decimal("1e10"):
        errors.add("value", "The value is too large.")
    policy = selectors.gift_policy()
    currency = data.get("currency") or policy.currency
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        errors.add("currency", f"{currency!r} is not a three-letter currency code.")
    elif _has_limits(policy) and currency.upper() != policy.currency:
        errors.add("currency", f"The gift policy is set in {policy.currency}; record the value in {policy.currency}.")
    given_on = timezone.localdate()
    if data.get("given_on") not in (None, ""):
        given_on = errors.run(parse_date, "given_on", data["given_on"]) or given_on
        if given_on > timezone.localdate():
            errors.add("given_on", "A gift is recorded once given; this date is in the future.")
    confirmed = _bool(errors, "confirm_over_limit", data.get("confirm_over_limit", False))
    justification = errors.run(clean_text, "justification", data.get("justification"), max_length=500) or ""
    errors.raise_if_any()
    assert value is not None
    value = value.quantize(Decimal("0.01"))
    currency = str(currency).upper()
    # Serialises gifts to one contact so two at once cannot both slip under the yearly limit.
    Card.objects.select_for_update().filter(pk=person.pk).first()
    warnings = _limit_warnings(policy, person, value, currency, given_on)
    if warnings and not confirmed:
        raise ValidationError({"value": warnings})
    if warnings and not justification:
        raise ValidationError.single("justification", "Give a reason for exceeding the gift limit.")
    gift = Gift.objects.create(
        person=person,
        kind=kind,
        description=description,
        value=value,
        currency=currency,
        given_on=given_on,
        over_limit=bool(warnings),
        justification=justification,
        recorded_by=user,
    )
    occurred = timezone.make_aware(dt.datetime.combine(given_on, dt.time(12)))
    activity = activities.log_activity(
        user=user,
        data={"kind": "gift", "summary": description, "occurred_at": occurred.isoformat(), "cards": [person.pk]},
    )
    gift.activity = activity
    gift.save(update_fields=["activity"])
    if warnings:
        AuditEntry.objects.create(
            user=user,
            action="gift_over_limit",
            person=person,
            gift=gift,
            details={"value": str(value), "currency": currency, "warnings": warnings, "justification": justification},
        )
        central_audit(action="update", record=person, actor=user, field="gift_over_limit",
                      detail={"gift": gift.pk, "value": str(value), "currency": currency, "warnings": warnings})
    return gift, warnings


def _has_limits(policy: GiftPolicy) -> bool:
    return policy.pk is not None and (policy.per_gift_limit is not None or policy.per_contact_year_limit is not None)


def _limit_warnings(policy: GiftPolicy, person: Card, value: Decimal, currency: str, given_on: dt.date) -> list[str]:
    warnings: list[str] = []
    if not _has_limits(policy):
        return warnings
    if policy.per_gift_limit is not None and value > policy.per_gift_limit:
        warnings.append(f"{value} {currency} is above the limit of {policy.per_gift_limit} {currency} per gift.")
    if policy.per_contact_year_limit is not None:
        so_far = selectors.gifts_total_in_year(person, given_on.year, currency)
        if so_far + value > policy.per_contact_year_limit:
            warnings.append(
                f"With this one, gifts to this contact in {given_on.year} reach {so_far + value} {currency}, "
                f"above the yearly limit of {policy.per_contact_year_limit} {currency}."
            )
    return warnings
