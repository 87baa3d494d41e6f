"""Read use-cases of the funnel: stage history, qualification with its treatment, funnel and method reports.

Reports are read-only and start from ``visible_to``: a card the user cannot see never counts.
"""

from __future__ import annotations

import datetime as dt
import functools
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.cards.models import Card, Stage, StageChange
from rapport.catalog import selectors as catalog
from rapport.catalog.models import SourceGroup
from rapport.core.errors import ValidationError
from rapport.core.i18n import pick_label
from rapport.core.visibility import visible_to
from rapport.funnel import rules
from rapport.funnel.models import NEAR_TERM, Intent, Power, Qualification
from rapport.core import sql
from rapport.core.sql import column as _column

# The funnel's forward order; dormant counts as having reached "customer", lost has no rank.
FUNNEL = [Stage.SUSPECT, Stage.PROSPECT, Stage.TARGET, Stage.CUSTOMER, Stage.REGULAR]
RANK: dict[str, int] = {Stage.SUSPECT: 0, Stage.PROSPECT: 1, Stage.TARGET: 2, Stage.CUSTOMER: 3, Stage.REGULAR: 4, Stage.DORMANT: 3}


def stage_history(card: Card, *, limit: int = 500) -> list[StageChange]:
    """Every move of a card (the caller has checked the card is visible), newest first."""
    return list(StageChange.objects.filter(card=card).select_related("changed_by").order_by("-changed_at", "-id")[:limit])


def recent_moves(card: Card, *, limit: int) -> list[dict[str, Any]]:
    """The card's last ``limit`` moves as the card page lists them (the caller has checked the
    card is visible), newest first: ``changed_at``, ``from_stage`` and ``from_label``,
    ``to_label``, ``reason``, ``rule`` and ``by`` (who moved it; "" for an automatic move)."""
    labels = dict(Stage.choices)
    moves = (StageChange.objects.filter(card=card).order_by("-changed_at", "-id")
             .values("changed_at", "from_stage", "to_stage", "reason", "rule", "changed_by__username")[:limit])
    return [
        {"changed_at": m["changed_at"], "from_stage": m["from_stage"], "from_label": labels.get(m["from_stage"], m["from_stage"]),
         "to_label": labels.get(m["to_stage"], m["to_stage"]), "reason": m["reason"], "rule": m["rule"],
         "by": m["changed_by__username"] or ""}  # no one: an automatic move
        for m in moves
    ]


@dataclass(frozen=True)
class CardFunnelRecord:
    """Whether a card has a qualification and has brought us any card, whoever may see those:
    most cards have neither, and the card page then skips their reads."""

    qualification: bool
    referrals: bool


@functools.cache
def _card_record_sql() -> str:
    # Written once per process (``rapport.core.sql.exists``).
    qualification = sql.exists(Qualification, f"{_column(Qualification, 'card')} = %s")
    referral = sql.exists(Card, f"{_column(Card, 'referred_by')} = %s")
    return f"SELECT {qualification}, {referral}"


def card_record(card: Card) -> CardFunnelRecord:
    """What funnel rows ``card`` has, in one query. It answers only whether to read them: the
    referrals that follow are read through ``visible_to``."""
    qualification, referrals = sql.one_row(_card_record_sql(), [card.pk, card.pk])
    return CardFunnelRecord(qualification=bool(qualification), referrals=bool(referrals))


# --- qualification and treatment ------------------------------------------------------------------


@dataclass(frozen=True)
class Treatment:
    """What the seeds recommend doing with a qualified prospect."""

    key: str  # invest | keep_in_touch | park | qualify | none
    label: str
    detail: str


def qualification_of(card: Card) -> Qualification | None:
    return Qualification.objects.filter(card=card).first()


def treatment_for(q: Qualification | None) -> Treatment:
    """The seeds' three situations of a prospect with clear intent, and what to do otherwise.

    clear intent + strong power + near term → invest time now; clear intent + weak power →
    keep in touch; clear intent but cannot buy now → park and check back on a date.
    """
    if q is None or q.intent in ("", Intent.UNCLEAR):
        return Treatment("qualify", _("Find out more"), _("Ask about intent, purchasing power and timeframe."))
    if q.intent == Intent.NONE:
        return Treatment("none", _("No effort now"), _("No purchase intent: check again at the next natural contact."))
    if q.power == Power.WEAK:
        return Treatment("keep_in_touch", _("Keep in touch"), _("Clear intent but weak purchasing power: stay in regular contact."))
    if q.timeframe not in NEAR_TERM:
        when = q.check_back_on.isoformat() if q.check_back_on else _("a date to agree")
        return Treatment("park", _("Park and check back"), _("Clear intent but cannot buy now: check back on %(date)s.") % {"date": when})
    if q.power == Power.STRONG:
        return Treatment("invest", _("Invest time now"), _("Clear intent, strong purchasing power and a near-term purchase."))
    return Treatment("qualify", _("Find out more"), _("Ask about purchasing power."))


# --- referrals -------------------------------------------------------------------------------------


def referrals_of(user: Any, card: Card, *, limit: int = 200) -> list[Card]:
    """The cards this card brought to us, among those the user may see."""
    return list(visible_to(user).filter(referred_by=card).order_by("sort_name", "id")[:limit])


def referrer_of(user: Any, card: Card) -> Card | None:
    """Who referred this card, when the user may see the referrer."""
    if card.referred_by_id is None:
        return None
    return visible_to(user).filter(pk=card.referred_by_id).first()


# --- reports ---------------------------------------------------------------------------------------


@dataclass
class ReportFilter:
    """Filters shared by the funnel, method and referrer reports (web page and API)."""

    kind: str = ""
    team: int | None = None
    owner: int | None = None
    method: str = ""
    segment: int | None = None
    as_of: dt.date | None = None


def report_cards(user: Any, flt: ReportFilter) -> QuerySet[Card]:
    qs = visible_to(user).filter(archived_at__isnull=True)
    if flt.kind:
        if flt.kind not in ("organization", "person"):
            raise ValidationError.single("kind", "Expected organization or person.")
        qs = qs.filter(kind=flt.kind)
    from rapport.accounts import selectors as people

    if flt.team:
        if flt.team not in {t.id for t in people.reachable_teams(user)}:
            raise ValidationError.single("team", "Unknown team.")
        qs = qs.filter(team_id=flt.team)
    if flt.owner:
        if flt.owner not in {u.id for u in people.filter_owners(user)}:
            raise ValidationError.single("rep", "Unknown user.")
        qs = qs.filter(owner_id=flt.owner)
    if flt.method:
        source = catalog.sources().get(flt.method)
        if source is None or source.group != SourceGroup.METHOD:
            raise ValidationError.single("method", f"Unknown prospecting method {flt.method!r}.")
        qs = qs.filter(found_by_id=source.id)
    if flt.segment:
        from rapport.segments.selectors import apply_segment

        qs = apply_segment(user, qs, flt.segment)
    return qs


def _end_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min)) - dt.timedelta(microseconds=1)


@dataclass
class FunnelReport:
    as_of: dt.date
    counts: dict[str, int]
    conversions: list[dict[str, Any]]
    time_in_stage: dict[str, dict[str, float | int | None]]
    total: int
    reasons_lost: list[dict[str, Any]] = field(default_factory=list)


REPORT_CACHE_SECONDS = 120


def funnel_report(user: Any, flt: ReportFilter) -> FunnelReport:
    """The funnel report, cached per user and filter for two minutes.

    It replays the stage history of every card in reach, which takes seconds for an admin
    over hundreds of thousands of cards; people reload and re-filter the page often.
    """
    from django.core.cache import cache

    report_cards(user, flt)  # checks the filters (and the user's reach) before any cached answer
    # The newest stage move is part of the key, so a move shows up at once.
    last_move = StageChange.objects.order_by("-id").values_list("id", flat=True).first()
    key = (
        f"rapport:funnel:{user.id}:{flt.kind}:{flt.team}:{flt.owner}:{flt.method}:{flt.segment}:{flt.as_of}:"
        f"{timezone.localdate()}:{last_move}"
    )
    found = cache.get(key)
    if found is None:
        found = _funnel_report(user, flt)
        cache.set(key, found, REPORT_CACHE_SECONDS)
    return found


def _funnel_report(user: Any, flt: ReportFilter) -> FunnelReport:
    """Counts per stage (now or at ``as_of``), conversion between stages and time spent in each.

    - count at a past date: the stage of each card after its last move on or before that day
      (cards created later do not count);
    - conversion X → Y: of the cards that ever reached X, the share that later reached Y or
      beyond (a dormant card has been a customer);
    - time in stage: days between entering a stage and leaving it (or the report date for
      cards still there), median and mean.
    """
    today = timezone.localdate()
    as_of = flt.as_of or today
    if as_of > today:
        raise ValidationError.single("as_of", "The date is in the future.")
    cards = report_cards(user, flt)
    end = _end_of(as_of)
    counts = {s: 0 for s in Stage.values}
    if flt.as_of is None or as_of == today:
        rows = cards.order_by().values("lifecycle_stage").annotate(n=Count("id"))
        for row in rows:
            counts[row["lifecycle_stage"]] = row["n"]
    else:
        last = StageChange.objects.filter(card=OuterRef("pk"), changed_at__lte=end).order_by("-changed_at", "-id").values("to_stage")[:1]
        past = (
            cards.filter(created_at__lte=end).order_by().annotate(stage_then=Subquery(last))
            .values_list("stage_then").annotate(n=Count("id")).values_list("stage_then", "n")
        )
        for stage_then, n in past:
            if stage_then:
                counts[stage_then] += n
    changes = (
        StageChange.objects.filter(card__in=cards.values("pk"), changed_at__lte=end)
        .order_by("card_id", "changed_at", "id").values_list("card_id", "to_stage", "changed_at", "reason", "from_stage")
    )
    reached: dict[str, set[int]] = defaultdict(set)
    best_after: dict[tuple[int, str], int] = {}
    durations: dict[str, list[float]] = defaultdict(list)
    lost_reasons: dict[str, int] = defaultdict(int)
    current: tuple[int, str, dt.datetime] | None = None
    order_seen: dict[int, list[tuple[str, dt.datetime]]] = defaultdict(list)
    for card_id, to_stage, at, reason, _from in changes.iterator(chunk_size=5000):
        if current is not None and current[0] == card_id:
            durations[current[1]].append((at - current[2]).total_seconds() / 86400)
        elif current is not None:
            durations[current[1]].append((end - current[2]).total_seconds() / 86400)
        current = (card_id, to_stage, at)
        order_seen[card_id].append((to_stage, at))
        if to_stage == Stage.LOST and reason:
            lost_reasons[reason[:80]] += 1
    if current is not None:
        durations[current[1]].append((end - current[2]).total_seconds() / 86400)
    for card_id, moves in order_seen.items():
        top_rank = -1
        # Walk backwards so each stage knows the highest rank reached at or after it.
        for to_stage, _at in reversed(moves):
            top_rank = max(top_rank, RANK.get(to_stage, -1))
            if to_stage in RANK:
                reached[to_stage].add(card_id)
                key = (card_id, to_stage)
                best_after[key] = max(best_after.get(key, -1), top_rank)
    conversions = []
    for a, b in zip(FUNNEL, FUNNEL[1:]):
        entered = reached.get(a, set())
        converted = sum(1 for c in entered if best_after.get((c, a), -1) >= RANK[b])
        conversions.append({
            "from": a, "to": b, "entered": len(entered), "converted": converted,
            "rate": round(converted / len(entered), 4) if entered else None,
        })
    time_in_stage = {
        s: {
            "cards": len(durations.get(s, [])),
            "median_days": round(statistics.median(durations[s]), 1) if durations.get(s) else None,
            "mean_days": round(statistics.fmean(durations[s]), 1) if durations.get(s) else None,
        }
        for s in Stage.values
    }
    reasons = [{"reason": r, "count": n} for r, n in sorted(lost_reasons.items(), key=lambda kv: -kv[1])[:10]]
    return FunnelReport(as_of, counts, conversions, time_in_stage, sum(counts.values()), reasons)


def _first_customer_days(cards: QuerySet[Card]) -> dict[int, float]:
    """Days from a card's creation to its first move into "customer", per card that has one."""
    first = (
        StageChange.objects.filter(card__in=cards.values("pk"), to_stage=Stage.CUSTOMER)
        .order_by("card_id", "changed_at").values_list("card_id", "changed_at", "card__created_at")
    )
    result: dict[int, float] = {}
    for card_id, at, created in first.iterator(chunk_size=5000):
        if card_id not in result:
            result[card_id] = max(0.0, (at - created).total_seconds() / 86400)
    return result


def _revenue(card_ids: list[int]) -> dict[int, float] | None:
    provider = rules.order_evidence()
    if provider is None:
        return None
    return provider.revenue(card_ids)


BOUGHT_Q = Q(lifecycle_stage__in=list(rules.BOUGHT))


def method_report(user: Any, flt: ReportFilter, *, by: str = "method") -> list[dict[str, Any]]:
    """Per prospecting method: cards found, how many became customers, conversion time, revenue.

    ``by="source"`` groups instead by the sources of the facts recorded on the cards (a card
    counts once under each source that contributed a fact).
    """
    cards = report_cards(user, flt)
    if by == "source":
        from rapport.cards.models import Fact

        groups_qs = (
            Fact.objects.filter(card__in=cards.values("pk")).order_by().values_list("source_id", "card_id").distinct()
        )
        members: dict[Any, set[int]] = defaultdict(set)
        for source_id, card_id in groups_qs.iterator(chunk_size=5000):
            members[source_id].add(card_id)
        labels = {s.id: (s.key, s.label) for s in catalog.sources().values()}
    elif by == "method":
        members = defaultdict(set)
        for found_by, card_id in cards.order_by().values_list("found_by_id", "pk").iterator(chunk_size=5000):
            members[found_by].add(card_id)
        labels = {s.id: (s.key, s.label) for s in catalog.sources().values() if s.group == SourceGroup.METHOD}
    else:
        raise ValidationError.single("by", "Expected method or source.")
    rows: list[dict[str, Any]] = []
    bought = set(cards.filter(BOUGHT_Q).values_list("pk", flat=True))
    days = _first_customer_days(cards)
    all_ids = sorted(set().union(*members.values())) if members else []
    revenue = _revenue(all_ids)
    for group_id, ids in members.items():
        key, label = labels.get(group_id, ("", _("Not recorded"))) if group_id is not None else ("", _("Not recorded"))
        customers = ids & bought
        conv_days = [days[c] for c in customers if c in days]
        rows.append({
            "key": key, "label": str(label), "found": len(ids), "customers": len(customers),
            "conversion_rate": round(len(customers) / len(ids), 4) if ids else None,
            "median_days_to_customer": round(statistics.median(conv_days), 1) if conv_days else None,
            "revenue": round(sum(revenue.get(c, 0.0) for c in ids), 2) if revenue is not None else None,
        })
    rows.sort(key=lambda r: (-(r["revenue"] or 0), -r["customers"], -r["found"], r["label"]))
    return rows


def referrer_report(user: Any, flt: ReportFilter, *, limit: int = 100) -> list[dict[str, Any]]:
    """Referrers ranked by the value of what they brought: revenue once orders exist, then customers."""
    cards = report_cards(user, flt)
    # Filters apply to the referred cards ("what did North's referrers bring"); a referrer the
    # user cannot see is left out rather than named.
    referred = cards.filter(referred_by__isnull=False)
    rows: dict[int, dict[str, Any]] = {}
    for ref_id, card_id, stage in referred.order_by().values_list("referred_by_id", "pk", "lifecycle_stage").iterator(chunk_size=5000):
        row = rows.setdefault(ref_id, {"brought": 0, "customers": 0, "ids": []})
        row["brought"] += 1
        row["ids"].append(card_id)
        if stage in rules.BOUGHT:
            row["customers"] += 1
    revenue = _revenue([c for r in rows.values() for c in r["ids"]])
    visible = {pk: (name, kind) for pk, name, kind in visible_to(user).filter(pk__in=list(rows)).values_list("pk", "display_name", "kind")}
    result: list[dict[str, Any]] = []
    for ref_id, row in rows.items():
        if ref_id not in visible:
            continue
        result.append({
            "id": ref_id, "name": visible[ref_id][0], "kind": visible[ref_id][1],
            "brought": row["brought"], "customers": row["customers"],
            "revenue": round(sum(revenue.get(c, 0.0) for c in row["ids"]), 2) if revenue is not None else None,
        })
    result.sort(key=lambda r: (-(r["revenue"] or 0), -r["customers"], -r["brought"], r["name"]))
    return result[:limit]


def methods() -> list[tuple[str, str]]:
    """Prospecting methods of the catalogue as (key, translated label), in catalogue order."""
    return [(s.key, pick_label(s.labels)) for s in catalog.sources().values() if s.group == SourceGroup.METHOD]
