"""Read use-cases of after-sales. Checks, cases and referral requests are visible exactly as their
customer's card is: every query here starts from ``visible_to``."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.accounts.models import User
from rapport.aftersales.models import (
    SATISFIED,
    CaseKind,
    ReferralOutcome,
    ReferralRequest,
    SatisfactionCheck,
    SatisfactionCheckQuerySet,
    ServiceCase,
    ServiceCaseQuerySet,
)
from rapport.cards.models import Card
from rapport.commerce.models import Order
from rapport.core.errors import ValidationError
from rapport.core.visibility import get_visible, visible_records, visible_to
from rapport.core import sql
from rapport.core.sql import column as _column


def visible_checks(user: Any) -> SatisfactionCheckQuerySet:
    return visible_records(user, SatisfactionCheck.objects.all())


def visible_cases(user: Any) -> ServiceCaseQuerySet:
    return visible_records(user, ServiceCase.objects.all())


def visible_referral_requests(user: Any) -> QuerySet[ReferralRequest]:
    return visible_records(user, ReferralRequest.objects.all())


def get_case(user: Any, case_id: Any) -> ServiceCase:
    return get_visible(visible_cases(user).select_related("card", "order", "assigned_to", "opened_by", "resolved_by"), case_id, "case")


def get_check(user: Any, check_id: Any) -> SatisfactionCheck:
    return get_visible(visible_checks(user).select_related("card", "order", "done_by"), check_id, "satisfaction check")


def get_referral_request(user: Any, request_id: Any) -> ReferralRequest:
    return get_visible(
        referral_requests_with_referred(user, visible_referral_requests(user).select_related("card", "asked_by")),
        request_id, "referral request",
    )


def referral_requests_with_referred(user: Any, qs: QuerySet[ReferralRequest]) -> QuerySet[ReferralRequest]:
    """Each request's referred cards, only those the user may see (a referral may cross teams)."""
    return qs.prefetch_related(Prefetch("referred", queryset=visible_to(user).order_by("sort_name", "id")))


# --- the filters shared by the team page, the API and the command line ---------------------------------

CASE_STATUSES = ("open", "resolved", "all")
CHECK_STATES = ("due", "pending", "done", "all")


@dataclass
class AfterSalesFilter:
    """Which cases and checks to list. ``today`` decides what is due or overdue."""

    status: str = "open"  # cases: open | resolved | all
    state: str = "due"  # checks: due (pending and its day has come) | pending | done | all
    card: int | None = None
    team: int | None = None
    assigned_to: int | None = None
    today: dt.date = field(default_factory=timezone.localdate)


def _team_q(user: Any, team: int | None) -> Q:
    if not team:
        return Q()
    from rapport.accounts import selectors as people

    if team not in {t.id for t in people.reachable_teams(user)}:
        raise ValidationError.single("team", _("Unknown team."))
    return Q(card__team_id=team)


def cases(user: Any, flt: AfterSalesFilter) -> QuerySet[ServiceCase]:
    """Cases by the filter: open ones by due day (no day last), resolved ones newest first."""
    if flt.status not in CASE_STATUSES:
        raise ValidationError.single("status", _("Expected open, resolved or all."))
    qs = visible_cases(user).filter(_team_q(user, flt.team)).select_related("card", "order", "assigned_to", "resolved_by")
    if flt.status == "open":
        qs = qs.open().order_by("due_on", "opened_at", "id")
    elif flt.status == "resolved":
        qs = qs.resolved().order_by("-resolved_at", "-id")
    if flt.card:
        qs = qs.filter(card_id=flt.card)
    if flt.assigned_to:
        qs = qs.filter(assigned_to_id=flt.assigned_to)
    return qs


def checks(user: Any, flt: AfterSalesFilter) -> QuerySet[SatisfactionCheck]:
    """Satisfaction checks by the filter, the oldest due day first."""
    if flt.state not in CHECK_STATES:
        raise ValidationError.single("state", _("Expected due, pending, done or all."))
    qs = visible_checks(user).filter(_team_q(user, flt.team)).select_related("card", "order", "done_by")
    if flt.state == "due":
        qs = qs.due(flt.today)
    elif flt.state == "pending":
        qs = qs.pending()
    elif flt.state == "done":
        qs = qs.done().order_by("-done_at", "-id")
    if flt.card:
        qs = qs.filter(card_id=flt.card)
    return qs


def referral_requests(user: Any, *, card: int | None = None, outcome: str = "") -> QuerySet[ReferralRequest]:
    if outcome and outcome not in ReferralOutcome.values:
        raise ValidationError.single("outcome", _("Expected asked, given or declined."))
    qs = visible_referral_requests(user).select_related("card", "asked_by")
    if card:
        qs = qs.filter(card_id=card)
    if outcome:
        qs = qs.filter(outcome=outcome)
    return referral_requests_with_referred(user, qs)


# --- one customer ----------------------------------------------------------------------------------

ASSIGNEES_SHOWN = 200  # far above the people of one team


@functools.cache
def _assignees_sql(named: int, with_team: bool) -> str:
    # Written by hand, and once per process, like ``accounts.selectors.team_ids_of``: the card
    # page offers this list on every customer, and compiling the queryset (two many-to-many
    # joins made distinct) cost several times the query. Names come from the models.
    pk, username = _column(User, "id"), _column(User, "username")
    reach = [f"u.{pk} IN ({', '.join(['%s'] * named)})"]
    if with_team:
        for relation in ("teams", "managed_teams"):
            through: Any = getattr(User, relation).through
            reach.append(
                f"u.{pk} IN (SELECT m.{_column(through, 'user')} FROM {sql.table(through)} m "
                f"WHERE m.{_column(through, 'team')} = %s)"
            )
    return (
        f"SELECT u.{pk}, u.{username} FROM {sql.table(User)} u "
        f"WHERE u.{_column(User, 'is_active')} = %s AND u.{_column(User, 'role')} <> %s "
        f"AND ({' OR '.join(reach)}) ORDER BY u.{username} LIMIT %s"
    )


def case_assignees(user: Any, card: Card) -> list[tuple[int, str]]:
    """Who may work on a case of ``card``, as (id, username) by username: active people of the
    customer's team and its managers, the card's owner and ``user``, never an analyst. The
    service checks the choice again."""
    named = [pk for pk in dict.fromkeys((user.pk, card.owner_id)) if pk is not None]
    params: list[Any] = [True, "analyst", *named]
    if card.team_id:
        params += [card.team_id, card.team_id]
    with connection.cursor() as cursor:
        cursor.execute(_assignees_sql(len(named), bool(card.team_id)), [*params, ASSIGNEES_SHOWN])
        return [(pk, name) for pk, name in cursor.fetchall()]


@dataclass(frozen=True)
class CardAfterSales:
    """What the card page shows of after-sales: deliveries with their checks, cases, referrals."""

    checks: list[SatisfactionCheck]
    open_cases: list[ServiceCase]
    resolved_cases: list[ServiceCase]
    referral_requests: list[ReferralRequest]
    satisfied_check: SatisfactionCheck | None  # the latest recorded check, when it scored 4 or 5
    waiting_request: ReferralRequest | None  # asked, no answer yet

    @property
    def may_ask_for_referrals(self) -> bool:
        return self.satisfied_check is not None and self.waiting_request is None


@dataclass(frozen=True)
class CardRecord:
    """Which kinds of after-sales rows one card has at all (and whether it has orders, which a case
    may name). Most cards have none: the card page reads this first and skips the queries whose
    answer is then known."""

    checks: bool
    done_checks: bool  # checks with a recorded result
    open_cases: bool
    resolved_cases: bool
    referral_requests: bool
    orders: bool


@functools.cache
def _card_record_sql() -> str:
    # Written once per process (``rapport.core.sql.exists``).
    def probe(model: Any, also: str = "") -> str:
        return sql.exists(model, f"{_column(model, 'card')} = %s{also}")

    done_at, resolved_at = _column(SatisfactionCheck, "done_at"), _column(ServiceCase, "resolved_at")
    probes = [  # in the order of CardRecord's fields
        probe(SatisfactionCheck),
        probe(SatisfactionCheck, f" AND {done_at} IS NOT NULL"),
        probe(ServiceCase, f" AND {resolved_at} IS NULL"),
        probe(ServiceCase, f" AND {resolved_at} IS NOT NULL"),
        probe(ReferralRequest),
        probe(Order),
    ]
    return "SELECT " + ", ".join(probes)


def card_record(card: Card) -> CardRecord:
    """What after-sales rows ``card`` has, in one query; the caller has fetched the card through
    visibility, and its rows are visible exactly as it is."""
    return CardRecord(*(bool(value) for value in sql.one_row(_card_record_sql(), [card.pk] * 6)))


def card_after_sales(user: Any, card: Card, *, limit: int = 20, record: CardRecord | None = None) -> CardAfterSales:
    """After-sales of one card the caller has checked the user may see. A caller that has read
    the card's ``card_record`` passes it."""
    if record is None:
        record = card_record(card)
    card_checks = (
        list(SatisfactionCheck.objects.filter(card=card).select_related("order").order_by("-due_on", "-id")[:limit])
        if record.checks else []
    )

    def all_cases() -> ServiceCaseQuerySet:
        return ServiceCase.objects.filter(card=card).select_related("order", "assigned_to", "resolved_by")

    open_cases = list(all_cases().open().order_by("due_on", "opened_at", "id")[:limit]) if record.open_cases else []
    resolved = list(all_cases().resolved().order_by("-resolved_at", "-id")[:5]) if record.resolved_cases else []
    requests = (
        list(referral_requests_with_referred(user, ReferralRequest.objects.filter(card=card)).select_related("asked_by")[:limit])
        if record.referral_requests else []
    )
    latest = max((c for c in card_checks if c.done_at is not None), key=lambda c: (c.done_at, c.pk), default=None)
    if latest is None and len(card_checks) == limit:
        latest = SatisfactionCheck.objects.done().filter(card=card).order_by("-done_at", "-id").first()
    return CardAfterSales(
        checks=card_checks,
        open_cases=open_cases,
        resolved_cases=resolved,
        referral_requests=requests,
        satisfied_check=latest if latest is not None and (latest.score or 0) >= SATISFIED else None,
        waiting_request=next((r for r in requests if r.outcome == ReferralOutcome.ASKED), None),
    )


def timeline_entries(user: Any, card: Card, limit: int, before: dt.datetime | None) -> list[Any]:
    """Complaints and service cases opened, and satisfaction checks answered, as entries of the
    card's timeline (the card was fetched through visibility)."""
    from rapport.cards.selectors import TimelineEntry, timeline_rows

    record = card_record(card)
    entries = []
    if record.open_cases or record.resolved_cases:
        kinds = dict(CaseKind.choices)
        for pk, opened_at, kind, subject, resolution, resolved_at, by in timeline_rows(
            ServiceCase.objects.filter(card_id=card.pk), "opened_at", before, limit,
            "id", "opened_at", "kind", "subject", "resolution", "resolved_at", "opened_by__username",
        ):
            entries.append(TimelineEntry(opened_at, "case", kind, subject, resolution if resolved_at else _("Open"),
                                         by or "", pk, label=str(kinds.get(kind, kind))))
    if record.done_checks:
        for pk, done_at, score, comment, by in timeline_rows(
            SatisfactionCheck.objects.filter(card_id=card.pk, done_at__isnull=False), "done_at", before, limit,
            "id", "done_at", "score", "comment", "done_by__username",
        ):
            entries.append(TimelineEntry(done_at, "satisfaction", "check", _("Satisfaction %(score)s of 5") % {"score": score},
                                         comment, by or "", pk, label=_("Satisfaction")))
    return entries
