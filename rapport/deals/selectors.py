"""Reads of deals: visibility, the exit checklist of a step, who matters now, warnings, the
board and the step history. Every query of deals starts from ``visible_deals``."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from rapport.core import sql
from rapport.core.sql import column as _column
from rapport.core.visibility import get_visible, scope_for
from rapport.segments.models import Segment
from rapport.deals.models import (
    STAGE_ROLE,
    STEP_ORDER,
    BuyingStage,
    Criterion,
    Deal,
    DealContact,
    EntryKind,
    NegotiationEntry,
    Proposal,
    Side,
    Status,
    Step,
    StepMove,
)


def visible_deals(user: Any) -> QuerySet[Deal]:
    """The deals whose customer card ``user`` may see, filtered on the card's owner and team
    copied onto each deal (``card_owner_id``, ``card_team_id``), so no card is read."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Deal.objects.none()
    scope = scope_for(user)
    if scope.sees_everything:
        return Deal.objects.all()
    return Deal.objects.filter(scope.card_q(prefix="card_"))


def get_deal(user: Any, deal_id: Any) -> Deal:
    """One visible deal, or NotFound (a missing deal and one out of reach answer the same)."""
    return get_visible(visible_deals(user).select_related("card", "owner", "team"), deal_id, "deal")


# --- the deal page ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """A person of the deal's decision unit as the deal page shows them."""

    contact: DealContact
    name: str
    roles: list[str]
    stage: str  # relationship stage, "" when unknown
    style: str
    attitude: str
    influence: int

    @property
    def role_labels(self) -> list[str]:
        from rapport.relationships.models import BuyingRole

        labels = dict(BuyingRole.choices)
        return [str(labels.get(r, r)) for r in self.roles]


def deal_people(deal: Deal) -> list[Person]:
    """The deal's decision unit: members of the organisation's unit with their roles in this deal."""
    from rapport.relationships.models import ContactProfile

    contacts = list(DealContact.objects.filter(deal=deal).select_related("member", "member__person"))
    profiles = {p.person_id: p for p in ContactProfile.objects.filter(person_id__in=[c.member.person_id for c in contacts])}
    people = []
    for c in contacts:
        profile = profiles.get(c.member.person_id)
        people.append(Person(
            contact=c, name=c.member.person.display_name, roles=list(c.roles or []),
            stage=profile.stage if profile else "", style=profile.style if profile else "",
            attitude=c.member.attitude, influence=c.member.influence,
        ))
    return people


@dataclass(frozen=True)
class WhoMatters:
    """The buying stage, the role that matters at it and the deal's people holding that role."""

    stage: str
    role: str
    people: list[Person]


def who_matters_now(deal: Deal, people: list[Person] | None = None) -> WhoMatters | None:
    """Who matters at the customer's current buying stage (None while the stage is unknown)."""
    if not deal.buying_stage:
        return None
    role = STAGE_ROLE[deal.buying_stage]
    people = deal_people(deal) if people is None else people
    return WhoMatters(stage=deal.buying_stage, role=role, people=[p for p in people if role in p.roles])


def deal_warnings(deal: Deal, people: list[Person] | None = None) -> list[str]:
    """What the rep should know: nobody holds the role that matters now, criteria weights that
    do not add up, concessions that grow, an expected close in the past."""
    from django.utils import timezone

    from rapport.relationships.models import BuyingRole

    warnings: list[str] = []
    people = deal_people(deal) if people is None else people
    now = who_matters_now(deal, people)
    if now is not None and not now.people:
        role = dict(BuyingRole.choices).get(now.role, now.role)
        stage = dict(BuyingStage.choices).get(now.stage, now.stage)
        warnings.append(_("Nobody in this deal's decision unit is the %(role)s, who matters at the %(stage)s stage.")
                        % {"role": str(role).lower(), "stage": str(stage).lower()})
    weights = list(Criterion.objects.filter(deal=deal).values_list("weight", flat=True))
    if weights and sum(weights) != 100:
        warnings.append(_("The criteria weights add up to %(total)s%%, not 100%%.") % {"total": sum(weights)})
    concessions = [e.value for e in NegotiationEntry.objects.filter(deal=deal, kind=EntryKind.CONCESSION, side=Side.OURS, value__isnull=False)]
    if any(later is not None and earlier is not None and later >= earlier for earlier, later in zip(concessions, concessions[1:])):
        warnings.append(_("Our concessions do not shrink: each should be smaller than the one before."))
    if deal.is_open and deal.expected_close is not None and deal.expected_close < timezone.localdate():
        warnings.append(_("The expected close date has passed: update it or close the deal."))
    return warnings


def step_history(deal: Deal) -> list[StepMove]:
    """Every move of the deal, oldest first, with who moved it."""
    return list(StepMove.objects.filter(deal=deal).select_related("moved_by").order_by("moved_at", "id"))


def time_in_steps(deal: Deal) -> dict[str, int]:
    """Seconds spent in each step so far, the current one included."""
    return _time_in_steps(deal, StepMove.objects.filter(deal=deal).exclude(from_step="").values_list("from_step", "seconds_in_previous"))


def time_in_steps_of(deal: Deal, moves: list[StepMove]) -> dict[str, int]:
    """``time_in_steps`` from the moves a page has read already (``step_history``)."""
    return _time_in_steps(deal, [(m.from_step, m.seconds_in_previous) for m in moves if m.from_step])


def _time_in_steps(deal: Deal, rows: Any) -> dict[str, int]:
    from django.utils import timezone

    spent: dict[str, int] = {}
    for from_step, seconds in rows:
        spent[from_step] = spent.get(from_step, 0) + int(seconds or 0)
    if deal.is_open or deal.followed_up_at is None:
        spent[deal.step] = spent.get(deal.step, 0) + max(0, int((timezone.now() - deal.step_entered_at).total_seconds()))
    return spent


def proposals_of(deal: Deal) -> list[Proposal]:
    """Every version of a (visible) deal's proposal, newest first, with who wrote it."""
    return list(Proposal.objects.filter(deal=deal).select_related("created_by").order_by("-version"))


def latest_proposal(deal: Deal) -> Proposal | None:
    """The newest version with its quotation lines."""
    return Proposal.objects.filter(deal=deal).order_by("-version").prefetch_related("lines__product").first()


def proposal_version(deal: Deal, version: Any) -> Proposal:
    """One version of the deal's proposal, or NotFound (a malformed number answers the same)."""
    from rapport.core.errors import NotFound

    if isinstance(version, bool) or not str(version).isdigit() or not 0 < int(str(version)) <= 2**31:
        raise NotFound("proposal")
    found = Proposal.objects.filter(deal=deal, version=int(str(version))).select_related("created_by", "deal__card").first()
    if found is None:
        raise NotFound("proposal")
    return found


@functools.cache
def _card_has_deals_sql() -> str:
    # Written once per process (``rapport.core.sql.exists``).
    card = _column(Deal, "card")
    return f"SELECT {sql.exists(Deal, f'{card} = %s')}"


def card_has_deals(card: Any) -> bool:
    """Whether ``card`` has any deal at all, in one cheap query: most cards have none, and the
    card page then skips the reads of its deals. It answers only whether to read them: each
    read that follows goes through ``visible_deals``."""
    return bool(sql.one_row(_card_has_deals_sql(), [card.pk])[0])


def deals_of_card(user: Any, card: Any) -> QuerySet[Deal]:
    """The deals of one customer, open first, then the most recently closed."""
    from django.db.models import Case, IntegerField, Value, When

    return (
        visible_deals(user).filter(card=card).select_related("owner")
        .annotate(open_first=Case(When(status=Status.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()))
        .order_by("open_first", "-updated_at", "-id")
    )


# --- the board ------------------------------------------------------------------------------------------


BOARD_COLUMN_LIMIT = 40  # cards drawn per step column at first; the column shows the full count and amount


@dataclass
class Column:
    step: str
    label: str
    deals: list[Deal]
    count: int
    amounts: dict[str, Decimal]  # per currency

    @property
    def more(self) -> int:
        return self.count - len(self.deals)


def board_base(user: Any, *, owner_id: int | None = None, team_id: int | None = None, segment: Segment | None = None,
               close_month: dt.date | None = None) -> QuerySet[Deal]:
    """The visible deals under a board's filters; each column then picks its own (``column_q``)."""
    qs = visible_deals(user)
    if owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    if close_month is not None:
        start = close_month.replace(day=1)
        end = (start + dt.timedelta(days=32)).replace(day=1)
        qs = qs.filter(expected_close__gte=start, expected_close__lt=end)
    if segment is not None:
        from rapport.segments.selectors import members_queryset

        qs = qs.filter(card_id__in=members_queryset(user, segment).values("id"))
    return qs


# A column of the board: open deals at a step, or the won deals still in follow-up service.
# Each is one equality on (status, step), so a board reads the deal_owner_board or
# deal_team_board index range in order, with no sort.
FOLLOW_UP_COLUMN = Q(status=Status.WON, step=Step.FOLLOW_UP, followed_up_at__isnull=True)


def column_q(step: str) -> Q:
    return FOLLOW_UP_COLUMN if step == Step.FOLLOW_UP else Q(status=Status.OPEN, step=step)


def board(user: Any, *, owner_id: int | None = None, team_id: int | None = None, segment: Segment | None = None,
          close_month: dt.date | None = None, limit: int = BOARD_COLUMN_LIMIT) -> list[Column]:
    """The kanban board: one column per step, deals by expected close (soonest first, deals
    without a date on top: they need one)."""
    from rapport.deals import content

    base = board_base(user, owner_id=owner_id, team_id=team_id, segment=segment, close_month=close_month)
    # Counts and totals are added up here from the board's rows (a few thousand at most):
    # a GROUP BY would tempt SQLite into the pipeline index, whose order matches the grouping,
    # and past the owner's or team's own index range.
    totals: dict[str, tuple[int, dict[str, Decimal]]] = {}
    for column in (Q(status=Status.OPEN), FOLLOW_UP_COLUMN):
        for step, currency, amount in base.filter(column).order_by().values_list("step", "currency", "amount"):
            n, amounts = totals.get(step, (0, {}))
            amounts[currency] = amounts.get(currency, Decimal("0")) + amount
            totals[step] = (n + 1, amounts)
    columns = []
    for step in STEP_ORDER:
        count, amounts = totals.get(step, (0, {}))
        deals = _column_page(base, step, 0, limit) if count else []
        columns.append(Column(step=step, label=content.step(step).label, deals=deals, count=count, amounts=amounts))
    return columns


def _column_page(base: QuerySet[Deal], step: str, offset: int, limit: int) -> list[Deal]:
    return list(
        base.filter(column_q(step)).select_related("card", "owner")
        .only("id", "name", "amount", "currency", "expected_close", "probability", "step", "status", "step_entered_at",
              "version", "card__id", "card__display_name", "card__kind", "owner__id", "owner__username",
              "owner__first_name", "owner__last_name")
        .order_by("expected_close", "id")[offset:offset + limit]
    )


def board_column(user: Any, step: str, *, offset: int, owner_id: int | None = None, team_id: int | None = None,
                 segment: Segment | None = None, close_month: dt.date | None = None,
                 limit: int = BOARD_COLUMN_LIMIT) -> tuple[list[Deal], int]:
    """The next deals of one board column, after the first ``offset``; and how many follow them."""
    base = board_base(user, owner_id=owner_id, team_id=team_id, segment=segment, close_month=close_month)
    deals = _column_page(base, step, offset, limit + 1)
    return deals[:limit], (base.filter(column_q(step)).count() - offset - limit if len(deals) > limit else 0)


# --- the deal page's sections and the card timeline (web pages) ----------------------------------------


@dataclass(frozen=True)
class DealDetails:
    """What the deal page shows besides the deal itself, each read in one query."""

    questions: dict[str, Any]  # QuestionKey value → OpportunityQuestion
    needs: list[Any]
    criteria: list[Any]
    competitors: list[Any]  # points prefetched
    plan: Any  # NegotiationPlan or None
    entries: list[Any]
    products: list[Any]  # DealProduct with product
    available_members: list[Any]  # members of the organisation's decision unit not yet in the deal


def deal_details(deal: Deal) -> DealDetails:
    from django.db.models import Prefetch

    from rapport.deals.models import CompetitivePoint, Competitor, DealProduct, NegotiationPlan, Need, OpportunityQuestion
    from rapport.relationships.models import Member

    members: list[Any] = []
    if deal.card.kind == "organization":
        taken = DealContact.objects.filter(deal=deal).values("member_id")
        members = list(Member.objects.filter(unit__organization_id=deal.card_id).exclude(pk__in=taken)
                       .select_related("person").order_by("person__display_name", "id")[:200])
    points = CompetitivePoint.objects.select_related("need", "contact__member__person")
    return DealDetails(
        questions={q.key: q for q in OpportunityQuestion.objects.filter(deal=deal)},
        needs=list(Need.objects.filter(deal=deal)),
        criteria=list(Criterion.objects.filter(deal=deal)),
        competitors=list(Competitor.objects.filter(deal=deal).prefetch_related(Prefetch("points", queryset=points))),
        plan=NegotiationPlan.objects.filter(deal=deal).first(),
        entries=list(NegotiationEntry.objects.filter(deal=deal).select_related("created_by", "confirmed_by")),
        products=list(DealProduct.objects.filter(deal=deal).select_related("product")),
        available_members=members,
    )


def deal_part(deal: Deal, kind: str, part_id: Any) -> Any:
    """One row hanging off a visible deal (a contact, need, criterion, competitor, point or
    negotiation entry), or NotFound: a row of another deal answers like a missing one."""
    from rapport.deals.models import CompetitivePoint, Competitor, Need

    models_by_kind: dict[str, Any] = {
        "contact": DealContact.objects.filter(deal=deal).select_related("member", "member__person"),
        "need": Need.objects.filter(deal=deal),
        "criterion": Criterion.objects.filter(deal=deal),
        "competitor": Competitor.objects.filter(deal=deal),
        "point": CompetitivePoint.objects.filter(competitor__deal=deal).select_related("competitor"),
        "entry": NegotiationEntry.objects.filter(deal=deal).select_related("created_by"),
    }
    row = get_visible(models_by_kind[kind], part_id, kind)
    # The services read the deal through the row: hand them the visible one already loaded.
    if kind == "point":
        row.competitor.deal = deal
    else:
        row.deal = deal
    return row


def timeline_entries(user: Any, card: Any, limit: int, before: dt.datetime | None) -> list[Any]:
    """Deal events of a card's timeline: each deal opened, moved from step to step, and closed
    (the card was fetched through visibility; the deals are filtered again). Most cards have
    no deal: one probe says so."""
    from django.urls import reverse

    from rapport.cards.selectors import TimelineEntry
    from rapport.deals import content

    if not card_has_deals(card):
        return []
    # Only the columns the events show, and the deals read once: each move finds its deal here.
    deals = {
        d["id"]: d for d in visible_deals(user).filter(card=card).order_by("-closed_at", "-id")
        .values("id", "name", "status", "closed_at", "close_reason", "close_note", "closed_by__username")
    }
    if not deals:
        return []
    moves = StepMove.objects.filter(deal_id__in=list(deals)).order_by("-moved_at", "-id")
    if before:
        moves = moves.filter(moved_at__lt=before)
    # A card has few deals: they are read through the card's index and the lost ones kept here.
    # A filter on status would let SQLite walk the index of every lost deal in the database.
    lost = [
        d for d in deals.values()
        if d["status"] == Status.LOST and d["closed_at"] is not None and (before is None or d["closed_at"] < before)
    ]
    steps = dict(Step.choices)
    entries = []
    rows = moves.values_list("id", "deal_id", "moved_at", "from_step", "to_step", "reason", "override_reason", "moved_by__username")
    for pk, deal_id, moved_at, from_step, to_step, reason, override_reason, moved_by in rows[:limit]:
        deal, by = deals[deal_id], moved_by or ""
        url = reverse("deal-detail", args=[deal_id])
        if not from_step:
            entries.append(TimelineEntry(moved_at, "deal", "created", deal["name"], _("Deal opened"), by, pk,
                                         label=_("Deal"), url=url))
            continue
        title = f"{deal['name']}: {steps.get(from_step, from_step)} → {steps.get(to_step, to_step)}"
        detail = reason
        if override_reason:
            detail = (detail + "\n" if detail else "") + _("Moved without its exit signals: %(reason)s") % {"reason": override_reason}
        if to_step == Step.FOLLOW_UP and deal["status"] == Status.WON and deal["close_reason"]:
            detail = (detail + "\n" if detail else "") + _("Won: %(reason)s") % {"reason": content.reason_label("won", deal["close_reason"])}
        entries.append(TimelineEntry(moved_at, "deal", "step", str(title), detail, by, pk, label=_("Deal"), url=url))
    for d in lost[:limit]:
        closed_at = d["closed_at"]
        if closed_at is None:
            continue
        reason = content.reason_label("lost", d["close_reason"])
        entries.append(TimelineEntry(closed_at, "deal", "lost", d["name"], reason + (f" — {d['close_note']}" if d["close_note"] else ""),
                                     d["closed_by__username"] or "", d["id"], label=_("Deal lost"),
                                     url=reverse("deal-detail", args=[d["id"]])))
    return entries
