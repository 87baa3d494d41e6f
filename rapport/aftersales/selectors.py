"""Read use-cases of after-sales. Checks, cases and referral requests are visible exactly as their
customer's card is: every query here starts from ``visible_to``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.aftersales.models import (
    SATISFIED,
    ReferralOutcome,
    ReferralRequest,
    SatisfactionCheck,
    SatisfactionCheckQuerySet,
    ServiceCase,
    ServiceCaseQuerySet,
)
from rapport.cards.models import Card
from rapport.core.errors import ValidationError
from rapport.core.visibility import get_visible, visible_records, visible_to


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


def card_after_sales(user: Any, card: Card, *, limit: int = 20) -> CardAfterSales:
    """After-sales of one card the caller has checked the user may see."""
    card_checks = list(SatisfactionCheck.objects.filter(card=card).select_related("order").order_by("-due_on", "-id")[:limit])
    all_cases = ServiceCase.objects.filter(card=card).select_related("order", "assigned_to", "resolved_by")
    open_cases = list(all_cases.open().order_by("due_on", "opened_at", "id")[:limit])
    resolved = list(all_cases.resolved().order_by("-resolved_at", "-id")[:5])
    requests = list(referral_requests_with_referred(user, ReferralRequest.objects.filter(card=card)).select_related("asked_by")[:limit])
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
    from rapport.cards.selectors import TimelineEntry

    cases = ServiceCase.objects.filter(card=card).select_related("opened_by").order_by("-opened_at", "-id")
    checks = SatisfactionCheck.objects.filter(card=card, done_at__isnull=False).select_related("done_by").order_by("-done_at", "-id")
    if before:
        cases, checks = cases.filter(opened_at__lt=before), checks.filter(done_at__lt=before)
    entries = [
        TimelineEntry(c.opened_at, "case", c.kind, c.subject, c.resolution if c.resolved_at else _("Open"),
                      c.opened_by.get_username() if c.opened_by else "", c.pk, label=str(c.get_kind_display()))
        for c in cases[:limit]
    ]
    entries += [
        TimelineEntry(ch.done_at, "satisfaction", "check", _("Satisfaction %(score)s of 5") % {"score": ch.score}, ch.comment,
                      ch.done_by.get_username() if ch.done_by else "", ch.pk, label=_("Satisfaction"))
        for ch in checks[:limit] if ch.done_at is not None
    ]
    return entries
