"""Read use-cases: the decision unit of an organisation as a graph with warnings, and the
relationship state of a contact. Visibility is applied here: a person the user may not see
is absent from every node, edge, warning and total."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.core import sql
from rapport.core.sql import column as _column
from rapport.activities.models import Activity, Participant
from rapport.cards.models import Card, Employment, Kind
from rapport.cards.selectors import get_card
from rapport.core.errors import NotFound
from rapport.core.i18n import normalise_language
from rapport.core.visibility import visible_through, visible_to
from rapport.relationships import content
from rapport.relationships.models import (
    STAGE_ORDER,
    ActivityTag,
    Attitude,
    BuyingRole,
    ContactProfile,
    DecisionUnit,
    Gift,
    GiftPolicy,
    Member,
    Relationship,
    StageMove,
    StyleCoaching,
)


QS = TypeVar("QS", bound=QuerySet[Any])


@dataclass(frozen=True)
class Warning:
    """Something about a decision unit that puts the sale at risk."""

    # influence_total, no_decision_level, decision_maker_not_supporter,
    # opponents_outweigh_supporters, no_coach, contact_left
    code: str
    message: str
    person: int | None = None


@dataclass
class Node:
    person: int
    name: str
    organization: int | None  # where the person works now (or last), for grouping on the map
    organization_name: str
    member: int | None  # Member id when the person belongs to this unit; None for people linked from outside
    level: str = ""
    function: str = ""
    roles: list[str] = field(default_factory=list)
    influence: int = 0
    attitude: str = ""
    coach: bool = False
    cares_about: str = ""
    has_left: bool = False
    version: int = 0


@dataclass
class Edge:
    id: int
    source: int
    target: int
    kind: str
    directed: bool
    strength: int
    note: str


@dataclass
class DecisionUnitGraph:
    organization: Card
    nodes: list[Node]
    edges: list[Edge]
    warnings: list[Warning]
    influence_total: int


def visible_people(user: Any) -> QuerySet[Card]:
    return visible_to(user).filter(kind=Kind.PERSON)


def _with_visible_people(user: Any, queryset: QS, *relations: str) -> QS:
    """Rows whose people (reached through each of ``relations``) the user may see; each row's
    cards are checked by primary key, never by reading every visible card."""
    for relation in relations:
        queryset = visible_through(user, queryset, relation).filter(**{f"{relation}__kind": Kind.PERSON})
    return queryset


def unit_of(organization: Card) -> DecisionUnit | None:
    return DecisionUnit.objects.filter(organization=organization).first()


def get_member(user: Any, member_id: Any) -> Member:
    """A member whose organisation and person the user may both see, or NotFound."""
    if isinstance(member_id, bool) or not str(member_id).isdigit() or int(member_id) > 2**62:
        raise NotFound("member")
    member = visible_through(
        user,
        _with_visible_people(user, Member.objects.select_related("unit__organization", "person").filter(pk=int(member_id)), "person"),
        "unit__organization",
    ).first()
    if member is None:
        raise NotFound("member")
    return member


def get_relationship(user: Any, relationship_id: Any) -> Relationship:
    """A relationship whose two people the user may both see, or NotFound."""
    if isinstance(relationship_id, bool) or not str(relationship_id).isdigit() or int(relationship_id) > 2**62:
        raise NotFound("relationship")
    rel = _with_visible_people(user, Relationship.objects.filter(pk=int(relationship_id)), "from_person", "to_person").first()
    if rel is None:
        raise NotFound("relationship")
    return rel


def _employment_state(organization_id: int, person_ids: list[int]) -> tuple[dict[int, Employment], set[int]]:
    """Each person's current employment at the organisation, and who has left it."""
    today = timezone.localdate()
    current: dict[int, Employment] = {}
    seen: set[int] = set()
    for job in Employment.objects.filter(organization_id=organization_id, person_id__in=person_ids):
        seen.add(job.person_id)
        if job.ended_on is None or job.ended_on >= today:
            current.setdefault(job.person_id, job)
    return current, seen - set(current)


def decision_unit(user: Any, organization_id: Any) -> DecisionUnitGraph:
    """The organisation's decision unit as the user may see it: members, the people linked
    to them, the relationships among those people, and the warnings."""
    return decision_unit_of(user, get_card(user, organization_id, Kind.ORGANIZATION))


def decision_unit_of(user: Any, org: Card) -> DecisionUnitGraph:
    """``decision_unit`` of an organisation card the user was given by ``get_card``."""
    members = list(
        _with_visible_people(user, Member.objects.filter(unit__organization=org), "person")
        .select_related("person")
        .order_by("id")
    )
    member_ids = [m.person_id for m in members]
    _current, left = _employment_state(org.pk, member_ids)
    ties = Relationship.objects.filter(Q(from_person_id__in=member_ids) | Q(to_person_id__in=member_ids))
    relationships = list(_with_visible_people(user, ties, "from_person", "to_person").order_by("id"))
    outside_ids = sorted({pid for r in relationships for pid in (r.from_person_id, r.to_person_id)} - set(member_ids))
    outside = {c.pk: c for c in Card.objects.filter(pk__in=outside_ids)}
    outside_org = _current_organizations(outside_ids)

    nodes = [
        Node(
            person=m.person_id,
            name=m.person.display_name,
            organization=org.pk,
            organization_name=org.display_name,
            member=m.pk,
            level=m.level,
            function=m.function,
            roles=list(m.roles),
            influence=m.influence,
            attitude=m.attitude,
            coach=m.is_coach,
            cares_about=m.cares_about,
            has_left=m.person_id in left,
            version=m.version,
        )
        for m in members
    ]
    for pid in outside_ids:
        card = outside[pid]
        job = outside_org.get(pid)
        nodes.append(
            Node(
                person=pid,
                name=card.display_name,
                organization=job.organization_id if job else None,
                organization_name=job.organization.display_name if job else "",
                member=None,
                level=job.level if job else "",
                function=job.function if job else "",
            )
        )
    edges = [
        Edge(r.pk, r.from_person_id, r.to_person_id, r.kind, r.directed, r.strength, r.note) for r in relationships
    ]
    active = [m for m in members if m.person_id not in left]
    return DecisionUnitGraph(
        organization=org,
        nodes=nodes,
        edges=edges,
        warnings=warnings_for(members, left),
        influence_total=sum(m.influence for m in active),
    )


def _current_organizations(person_ids: list[int]) -> dict[int, Employment]:
    """Each person's current (else latest) employment, to group outside people on the map."""
    result: dict[int, Employment] = {}
    today = timezone.localdate()
    jobs = Employment.objects.filter(person_id__in=person_ids).select_related("organization").order_by("person_id", "-started_on", "-id")
    for job in jobs:
        best = result.get(job.person_id)
        is_current = job.ended_on is None or job.ended_on >= today
        if best is None or (is_current and not (best.ended_on is None or best.ended_on >= today)):
            result[job.person_id] = job
    return result


def warnings_for(members: list[Member], left: set[int]) -> list[Warning]:
    """The risks in a unit. People who have left the organisation no longer count for it."""
    warnings: list[Warning] = []
    active = [m for m in members if m.person_id not in left]
    total = sum(m.influence for m in active)
    if active and total != 100:
        warnings.append(
            Warning("influence_total", _("Influence shares add up to %(total)s%%, not 100%%.") % {"total": total})
        )
    from rapport.cards.models import Level

    if not any(m.level == Level.DECISION for m in active):
        warnings.append(Warning("no_decision_level", _("Nobody is known at decision level.")))
    for m in active:
        if BuyingRole.DECISION_MAKER in m.roles and m.attitude != Attitude.SUPPORTER:
            warnings.append(
                Warning(
                    "decision_maker_not_supporter",
                    _("%(name)s decides, but is not a supporter.") % {"name": m.person.display_name},
                    m.person_id,
                )
            )
    supporters = sum(m.influence for m in active if m.attitude == Attitude.SUPPORTER)
    opponents = sum(m.influence for m in active if m.attitude == Attitude.OPPONENT)
    if opponents > supporters:
        warnings.append(
            Warning(
                "opponents_outweigh_supporters",
                _("Opponents hold more influence (%(opponents)s%%) than supporters (%(supporters)s%%).")
                % {"opponents": opponents, "supporters": supporters},
            )
        )
    if not any(m.is_coach for m in active):
        warnings.append(Warning("no_coach", _("No coach: nobody inside guides us and gives us information.")))
    for m in members:
        if m.person_id in left and is_relied_on(m):
            warnings.append(
                Warning(
                    "contact_left",
                    _("%(name)s, whom we rely on, has left the organisation.") % {"name": m.person.display_name},
                    m.person_id,
                )
            )
    return warnings


def is_relied_on(member: Member) -> bool:
    """We rely on coaches, supporters and decision makers."""
    return member.is_coach or member.attitude == Attitude.SUPPORTER or BuyingRole.DECISION_MAKER in member.roles


# --- what a card page shows: a summary of the unit, the relationship of a person -------------


@functools.cache
def _has_members_sql() -> str:
    # Written once per process (``rapport.core.sql.exists``).
    members, units = sql.table(Member), sql.table(DecisionUnit)
    unit_of_member = f"{members}.{_column(Member, 'unit')} = {units}.{_column(DecisionUnit, 'id')}"
    return f"SELECT EXISTS (SELECT 1 FROM {units} JOIN {members} ON {unit_of_member} WHERE {units}.{_column(DecisionUnit, 'organization')} = %s)"


def _has_members(organization: Card) -> bool:
    """Whether the organisation's decision unit has anyone in it, whoever may see them: most
    organisations have no unit, and the reads of its members are then skipped."""
    return bool(sql.one_row(_has_members_sql(), [organization.pk])[0])


@dataclass(frozen=True)
class DecisionUnitSummary:
    """What an organisation's card shows of its decision unit: ``decision_unit_of`` without the
    map's people from outside and their relationships."""

    members: int  # members the user may see
    warnings: list[Warning]
    influence_total: int


def decision_unit_summary(user: Any, org: Card) -> DecisionUnitSummary:
    """The summary of the decision unit of an organisation card the user was given by ``get_card``."""
    members: list[Member] = []
    if _has_members(org):
        # Only what the warnings and totals read: a whole card per member costs more to build than the query.
        members = list(
            _with_visible_people(user, Member.objects.filter(unit__organization=org), "person")
            .select_related("person")
            .only("id", "person_id", "level", "roles", "influence", "attitude", "is_coach", "person__display_name")
            .order_by("id")
        )
    left = _employment_state(org.pk, [m.person_id for m in members])[1] if members else set()
    return DecisionUnitSummary(
        members=len(members),
        warnings=warnings_for(members, left),
        influence_total=sum(m.influence for m in members if m.person_id not in left),
    )


def relationships_of(user: Any, person_id: Any) -> list[Relationship]:
    """The ties of one person with people the user may also see."""
    person = get_person(user, person_id)
    ties = Relationship.objects.filter(Q(from_person=person) | Q(to_person=person))
    return list(_with_visible_people(user, ties, "from_person", "to_person").order_by("id"))


def memberships_of(user: Any, person: Card) -> list[Member]:
    """The units a person belongs to, in organisations the user may see."""
    return list(visible_through(user, Member.objects.filter(person=person), "unit__organization").select_related("unit__organization"))


# --- relationship stage, style and gifts of one contact -------------------------------------


@dataclass(frozen=True)
class EvidenceItem:
    activity: int
    kind: str
    typical: str  # key of the typical activity it stands for
    stage: str
    summary: str
    occurred_at: dt.datetime


@dataclass
class ContactState:
    person: Card
    stage: str
    style: str
    evidence: list[EvidenceItem]
    evidence_by_stage: dict[str, int]
    moves: list[StageMove]
    coaching: StyleCoaching | None
    next_step: str
    last_activity_at: dt.datetime | None


def get_person(user: Any, person_id: Any) -> Card:
    return get_card(user, person_id, Kind.PERSON)


def evidence_for(person: Card) -> list[EvidenceItem]:
    """Logged activities with this contact that count as evidence of a relationship stage."""
    typical = content.typical_activities()
    by_kind: dict[str, content.TypicalActivity] = {}
    for t in typical.values():
        for kind in t.kinds:
            by_kind.setdefault(kind, t)
    activities = list(Activity.objects.filter(participants__card=person).order_by("-occurred_at", "-id")[:500])
    tags: dict[int, list[str]] = {}
    for tag in ActivityTag.objects.filter(activity_id__in=[a.pk for a in activities]):
        tags.setdefault(tag.activity_id, []).append(tag.typical)
    result: list[EvidenceItem] = []
    for activity in activities:
        keys = [k for k in tags.get(activity.pk, []) if k in typical]
        if not keys and activity.kind in by_kind:
            keys = [by_kind[activity.kind].key]
        for key in keys:
            t = typical[key]
            result.append(EvidenceItem(activity.pk, activity.kind, key, t.stage, activity.summary, activity.occurred_at))
    return result


def coaching_for(style: str, language: str | None = None) -> StyleCoaching | None:
    if not style:
        return None
    from django.utils.translation import get_language

    lang = normalise_language(language or get_language())
    rows = {c.language: c for c in StyleCoaching.objects.filter(style=style, language__in=[lang, "en"])}
    return rows.get(lang) or rows.get("en")


def contact_state(user: Any, person_id: Any) -> ContactState:
    return contact_state_of(get_person(user, person_id))


def contact_state_of(person: Card) -> ContactState:
    """The relationship state of a person card the user was given by ``get_card``."""
    profile = ContactProfile.objects.filter(person=person).first()
    stage = profile.stage if profile else ""
    style = profile.style if profile else ""
    evidence = evidence_for(person)
    by_stage = {s: 0 for s in STAGE_ORDER}
    for item in evidence:
        by_stage[item.stage] += 1
    last = Activity.objects.filter(participants__card=person).order_by("-occurred_at").values_list("occurred_at", flat=True).first()
    state = ContactState(
        person=person,
        stage=stage,
        style=style,
        evidence=evidence,
        evidence_by_stage=by_stage,
        moves=list(StageMove.objects.filter(person=person)[:50]),
        coaching=coaching_for(style),
        next_step="",
        last_activity_at=last,
    )
    state.next_step = next_step(state)
    return state


def next_step(state: ContactState) -> str:
    """What moves this relationship on, from the stage, the style and what has been logged."""
    return _next_step(stage=state.stage, last_activity_at=state.last_activity_at, evidence_by_stage=state.evidence_by_stage,
                      coaching=state.coaching)


def _next_step(*, stage: str, last_activity_at: dt.datetime | None, evidence_by_stage: Mapping[str, int],
               coaching: StyleCoaching | None) -> str:
    parts: list[str] = []
    if last_activity_at is None:
        parts.append(_("Nothing is logged with this contact yet: call or visit to get known by name."))
    elif timezone.now() - last_activity_at > dt.timedelta(days=60):
        parts.append(_("No contact for over two months: get back in touch before anything else."))
    if not stage:
        if last_activity_at is not None:
            parts.append(_("Set the relationship stage this contact has reached."))
    else:
        current = content.stage(stage)
        index = STAGE_ORDER.index(stage)
        if index + 1 < len(STAGE_ORDER):
            upcoming = content.stage(STAGE_ORDER[index + 1])
            if upcoming and evidence_by_stage.get(upcoming.key, 0) > 0:
                parts.append(
                    _("Activities of the %(stage)s stage are already logged: consider moving the contact on.")
                    % {"stage": upcoming.label}
                )
        if current:
            parts.append(current.next_step_text)
    if coaching is not None:
        parts.append(_("Style: %(tip)s") % {"tip": coaching.how_to_open})
    elif stage:
        parts.append(_("Record the communication style to get coaching for the conversation."))
    return " ".join(parts)


@functools.cache
def _contact_record_sql() -> str:
    # Written once per process (``rapport.core.sql.exists``).
    profiles, person = sql.table(ContactProfile), _column(ContactProfile, "person")
    stage, style = _column(ContactProfile, "stage"), _column(ContactProfile, "style")
    logged = sql.exists(Participant, f"{_column(Participant, 'card')} = %s")
    in_units = sql.exists(Member, f"{_column(Member, 'person')} = %s")
    return (
        f"SELECT (SELECT {stage} FROM {profiles} WHERE {person} = %s), (SELECT {style} FROM {profiles} WHERE {person} = %s),"
        f" {logged}, {in_units}"
    )


@dataclass(frozen=True)
class ContactSummary:
    """What a person's card shows of the relationship: ``contact_state_of`` without the evidence
    and the stage moves, and whether the person belongs to any decision unit at all."""

    stage: str
    style: str
    coaching: StyleCoaching | None
    next_step: str
    in_units: bool  # a member of some decision unit, whoever may see it


def contact_summary_of(person: Card) -> ContactSummary:
    """The summary of the relationship with a person card the user was given by ``get_card``.
    One probe reads the stage and style and tells whether anything is logged with the person:
    most people have nothing, and the reads that would find nothing are skipped."""
    stage, style, logged, in_units = sql.one_row(_contact_record_sql(), [person.pk] * 4)
    stage, style = stage or "", style or ""
    last = None
    by_stage: dict[str, int] = {}
    if logged:
        last = Activity.objects.filter(participants__card=person).order_by("-occurred_at").values_list("occurred_at", flat=True).first()
        if stage:  # only the next stage's evidence is read, and only when there is a stage
            for item in evidence_for(person):
                by_stage[item.stage] = by_stage.get(item.stage, 0) + 1
    coaching = coaching_for(style)
    return ContactSummary(stage=stage, style=style, coaching=coaching, in_units=bool(in_units),
                          next_step=_next_step(stage=stage, last_activity_at=last, evidence_by_stage=by_stage, coaching=coaching))


def gift_policy() -> GiftPolicy:
    return GiftPolicy.objects.order_by("id").first() or GiftPolicy()


def gifts_of(user: Any, person_id: Any) -> list[Gift]:
    person = get_person(user, person_id)
    return list(Gift.objects.filter(person=person).select_related("recorded_by"))


def gifts_total_in_year(person: Card, year: int, currency: str) -> Decimal:
    total = Gift.objects.filter(person=person, given_on__year=year, currency=currency).aggregate(s=Sum("value"))["s"]
    return total or Decimal("0")
