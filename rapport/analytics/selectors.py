"""Read-only analytics: the churn report of silent regulars.

Order dates come from the orders that count (``rapport.commerce.evidence.counted_orders``:
confirmed or delivered, not waiting for or refused a credit decision) of the live cards the
user may see. The population prior is learned from every customer the user sees as of the
date, so narrowing the report to a team or a rep changes which rows are shown, not how each
customer is judged.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count
from django.db.models import Q
from django.db.models import Sum
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.utils import timezone

from rapport.analytics import churn
from rapport.analytics import products
from rapport.analytics import profitability
from rapport.analytics import reps as reps_module
from rapport.analytics import columnar
from rapport.analytics import columns
from rapport.analytics import engine
from rapport.analytics import rfm
from rapport.analytics import retention
from rapport.commerce import money
from rapport.commerce.evidence import counted_orders
from rapport.core.visibility import visible_records, visible_to

# The columns of every churn export, in order (the API returns the same names).
CHURN_COLUMNS = (
    "card_id", "external_id", "name", "owner", "team", "orders", "purchase_days", "first_order_on", "last_order_on",
    "usual_interval_days", "days_silent", "chance", "risk", "flagged", "scored", "flag_after_days", "why",
)


@dataclass(frozen=True)
class ChurnRow:
    """One customer with at least one counted order up to the as-of date."""

    card_id: int
    external_id: str
    name: str
    kind: str
    owner_id: int
    owner: str
    team_id: int | None
    team: str
    orders: int  # counted orders up to the as-of date
    purchase_days: int  # distinct order days: the purchase occasions
    first_order_on: dt.date
    last_order_on: dt.date
    usual_interval_days: float | None  # None: a single occasion, not scored
    days_silent: int
    chance: float | None  # P(a silence this long while still buying at its usual pace)
    risk: float | None
    flagged: bool
    flag_after_days: int | None  # the silence at which it is (or will be) flagged
    why: str

    @property
    def scored(self) -> bool:
        return self.risk is not None

    def values(self) -> list[Any]:
        """The row in ``CHURN_COLUMNS`` order, for the exports."""
        return [getattr(self, column) for column in CHURN_COLUMNS]


@dataclass(frozen=True)
class ChurnReport:
    as_of: dt.date
    alert: float  # the risk at which a regular is flagged
    prior: churn.Prior
    rows: Sequence[ChurnRow]  # flagged first, then by risk, then by name
    flagged: int  # how many rows are flagged: the first ones

    def flagged_rows(self) -> Sequence[ChurnRow]:
        if isinstance(self.rows, columnar.Rows):  # read lazily, a page at a time, like the rows
            return self.rows.filter("flagged")
        return self.rows[:self.flagged]


def _percent(chance: float) -> str:
    return "< 1" if chance < 0.01 else str(round(chance * 100))


def _why_texts() -> tuple[str, str, str]:
    """The reasons in the active language, looked up once per report rather than once per row."""
    return (
        _("Usually orders every ~%(usual)s days; silent for %(silent)s days "
          "(at its usual pace a silence this long happens only %(chance)s %% of the time)."),
        _("Usually orders every ~%(usual)s days; silent for %(silent)s days "
          "(at its usual pace a silence this long happens %(chance)s %% of the time)."),
        _("One purchase so far: no usual interval yet, not scored."),
    )


def why(score: churn.Score | None, *, flagged: bool, texts: tuple[str, str, str] | None = None) -> str:
    """The reason in words: the usual rhythm, the silence, and how rare such a silence is."""
    flagged_text, quiet_text, single_text = texts or _why_texts()
    if score is None:
        return single_text
    values = {"usual": round(score.usual_interval_days), "silent": score.days_silent, "chance": _percent(score.chance)}
    return (flagged_text if flagged else quiet_text) % values


def churn_report(user: Any, *, as_of: dt.date, team: int | None = None, rep: int | None = None,
                 alert: float | None = None, segment: int | None = None) -> ChurnReport:
    """Every visible customer that ordered up to ``as_of``, scored against its own rhythm.

    Orders dated after ``as_of`` are ignored, so the report shows things as they stood on that
    day; a date before any order gives an empty report. A date in the future answers "if no
    order comes until then". Archived cards are left out: they are no longer worked. A saved
    ``segment``, like a team or a rep, narrows the rows, not the population the model learns from.
    """
    report = _churn_report(user, as_of=as_of, team=team, rep=rep, alert=alert)
    if segment is None:
        return report
    members = set(_in_segment(user, visible_to(user), segment).values_list("id", flat=True))
    rows = [row for row in report.rows if row.card_id in members]  # still flagged first
    return ChurnReport(as_of=report.as_of, alert=report.alert, prior=report.prior, rows=rows,
                       flagged=sum(1 for row in rows if row.flagged))


def _churn_report(user: Any, *, as_of: dt.date, team: int | None, rep: int | None, alert: float | None) -> ChurnReport:
    alert = churn.alert_level() if alert is None else alert
    if chosen := engine.plan(user):
        return columnar.churn_report(chosen, as_of=as_of, team=team, rep=rep, alert=alert)
    orders = visible_records(user, counted_orders().filter(ordered_on__lte=as_of, card__archived_at__isnull=True))
    # One row per customer and day: the occasions, and how many orders each day held.
    per_day = orders.values("card_id", "ordered_on").annotate(n=Count("id")).order_by().values_list("card_id", "ordered_on", "n")
    days: dict[int, list[dt.date]] = defaultdict(list)
    counts: dict[int, int] = defaultdict(int)
    for card_id, ordered_on, n in per_day.iterator(chunk_size=10_000):
        days[card_id].append(ordered_on)
        counts[card_id] += n
    histories = {card_id: h for card_id, dates in days.items() if (h := churn.history(dates)) is not None}
    prior = churn.fit_prior((h.intervals, h.span_days) for h in histories.values())

    cards = visible_to(user).filter(archived_at__isnull=True, pk__in=orders.values("card_id"))
    if team is not None:
        cards = cards.filter(team_id=team)
    if rep is not None:
        cards = cards.filter(owner_id=rep)
    texts = _why_texts()
    rows = []
    columns = ("id", "external_id", "display_name", "kind", "owner_id", "owner__username", "team_id", "team__name")
    for card_id, external_id, name, kind, owner_id, owner, team_id, team_name in cards.values_list(*columns):
        h = histories.get(card_id)
        if h is None:
            continue
        score = churn.score(h, as_of=as_of, prior=prior)
        flagged = score is not None and score.risk >= alert
        after = churn.silence_at_risk(h, prior=prior, risk=alert)
        rows.append(ChurnRow(
            card_id=card_id, external_id=external_id, name=name, kind=kind,
            owner_id=owner_id, owner=owner, team_id=team_id, team=team_name or "",
            orders=counts[card_id], purchase_days=h.occasions, first_order_on=h.first, last_order_on=h.last,
            usual_interval_days=round(score.usual_interval_days, 1) if score else None,
            days_silent=max((as_of - h.last).days, 0),
            chance=round(score.chance, 4) if score else None, risk=round(score.risk, 4) if score else None,
            flagged=flagged, flag_after_days=None if after is None else round(after),
            why=why(score, flagged=flagged, texts=texts),
        ))
    rows.sort(key=lambda r: (not r.flagged, -(r.risk if r.risk is not None else -1.0), r.name.lower(), r.card_id))
    return ChurnReport(as_of=as_of, alert=alert, prior=prior, rows=rows, flagged=sum(1 for row in rows if row.flagged))


# ---------------------------------------------------------------------------------------------
# RFM: recency, frequency and monetary quintile scores (``rapport.analytics.rfm``).

# The columns of every RFM export, in order (the API returns the same names).
RFM_COLUMNS = (
    "card_id", "external_id", "name", "owner", "team", "last_order_on", "recency_days", "frequency", "monetary",
    "currency", "r", "f", "m", "score", "segment", "note",
)


@dataclass(frozen=True)
class RfmRow:
    """One customer with at least one counted order up to the as-of date."""

    card_id: int
    external_id: str
    name: str
    kind: str
    owner_id: int
    owner: str
    team_id: int | None
    team: str
    last_order_on: dt.date
    recency_days: int  # as-of date − last order day
    frequency: int  # distinct order days in the window
    monetary: Decimal | None  # in the reporting currency; None: an order in a currency without a rate
    currency: str  # the reporting currency
    r: int
    f: int
    m: int | None
    score: str  # "545"; "54-" without a monetary score
    segment_key: str  # one of rfm.SEGMENTS
    segment: str  # the segment in words, in the active language
    note: str

    def values(self) -> list[Any]:
        """The row in ``RFM_COLUMNS`` order, for the exports."""
        return [getattr(self, column) for column in RFM_COLUMNS]


@dataclass(frozen=True)
class RfmReport:
    as_of: dt.date
    months: int
    window_start: dt.date  # first day of the frequency and monetary window
    currency: str  # the reporting currency
    rows: Sequence[RfmRow]  # best scores first, then by name
    segment_counts: dict[str, int]  # customers per segment key

    def segments(self) -> list[tuple[str, str, int]]:
        """(key, words, customers) per segment, in ``rfm.SEGMENTS`` order, empty ones included."""
        labels = rfm_segment_labels()
        return [(key, labels[key], self.segment_counts.get(key, 0)) for key in rfm.SEGMENTS]

    def in_segment(self, key: str) -> Sequence[RfmRow]:
        if isinstance(self.rows, columnar.Rows):
            return self.rows.filter("segment = ?", [key])
        return [row for row in self.rows if row.segment_key == key]


def rfm_segment_labels() -> dict[str, str]:
    """The segments in words, in the active language."""
    return {
        rfm.CHAMPIONS: _("Champions"),
        rfm.LOYAL: _("Loyal"),
        rfm.NEW: _("New"),
        rfm.NEEDS_ATTENTION: _("Needs attention"),
        rfm.AT_RISK: _("At risk"),
        rfm.HIBERNATING: _("Hibernating"),
    }


def rfm_report(user: Any, *, as_of: dt.date, months: int = rfm.DEFAULT_MONTHS, team: int | None = None,
               rep: int | None = None) -> RfmReport:
    """Every visible, live customer that ordered up to ``as_of``, scored on recency, frequency
    and monetary value against the other customers of the report.

    Orders after ``as_of`` are ignored; a date before any order gives an empty report, and a date
    in the future answers "if no order comes until then". ``team`` and ``rep`` narrow the
    customers, and so the population the quintiles rank. Totals are converted to the reporting
    currency with the rate valid on each order's date; a customer with an order in a currency
    without a rate gets no monetary value and a note instead of a wrong sum. A fixed number of
    queries, however many customers.
    """
    from rapport.commerce.evidence import _Rates

    if not 1 <= months <= rfm.MAX_MONTHS:
        raise ValueError(f"months must be between 1 and {rfm.MAX_MONTHS}")
    start = rfm.window_start(as_of, months)
    if chosen := engine.plan(user):
        return columnar.rfm_report(chosen, as_of=as_of, months=months, team=team, rep=rep)
    orders = visible_records(user, counted_orders().filter(ordered_on__lte=as_of, card__archived_at__isnull=True))
    if team is not None:
        orders = orders.filter(card__team_id=team)
    if rep is not None:
        orders = orders.filter(card__owner_id=rep)
    per_day = (orders.values("card_id", "ordered_on", "currency").annotate(s=Sum("total")).order_by()
               .values_list("card_id", "ordered_on", "currency", "s"))
    rates = _Rates()
    bought = rfm.purchases(per_day.iterator(chunk_size=10_000), as_of=as_of, start=start, rate=rates.rate)

    cards = visible_to(user).filter(archived_at__isnull=True, pk__in=orders.values("card_id"))
    if team is not None:
        cards = cards.filter(team_id=team)
    if rep is not None:
        cards = cards.filter(owner_id=rep)
    columns = ("id", "external_id", "display_name", "kind", "owner_id", "owner__username", "team_id", "team__name")
    found = [values for values in cards.values_list(*columns) if values[0] in bought]
    customers = {values[0]: bought[values[0]] for values in found}
    scores = rfm.score(customers, as_of=as_of)
    labels = rfm_segment_labels()
    quantum = money.quantum(rates.base)
    no_rate = _("No exchange rate for %(currencies)s: the monetary value is left out and the customer is "
                "scored on recency and frequency only.")
    rows = []
    for card_id, external_id, name, kind, owner_id, owner, team_id, team_name in found:
        p, s = customers[card_id], scores[card_id]
        rows.append(RfmRow(
            card_id=card_id, external_id=external_id, name=name, kind=kind,
            owner_id=owner_id, owner=owner, team_id=team_id, team=team_name or "",
            last_order_on=p.last, recency_days=(as_of - p.last).days, frequency=p.frequency,
            monetary=None if p.monetary is None else p.monetary.quantize(quantum, rounding=ROUND_HALF_UP),
            currency=rates.base, r=s.r, f=s.f, m=s.m, score=s.text, segment_key=s.segment, segment=labels[s.segment],
            note=no_rate % {"currencies": ", ".join(p.missing_rates)} if p.missing_rates else "",
        ))
    rows.sort(key=lambda row: (-row.r, -row.f, -(row.m or 0), row.name.lower(), row.card_id))
    counts = Counter(row.segment_key for row in rows)
    return RfmReport(as_of=as_of, months=months, window_start=start, currency=rates.base, rows=rows,
                     segment_counts={key: counts.get(key, 0) for key in rfm.SEGMENTS})


# ---------------------------------------------------------------------------------------------
# Persistence: retention by cohort of first-order month (``rapport.analytics.retention``).

# The columns of every persistence export, in order: one row per cohort and month offset.
RETENTION_COLUMNS = ("cohort", "cohort_customers", "month_offset", "month", "customers", "share", "loyalty")


def retention_report(user: Any, *, as_of: dt.date, cohorts: int = retention.DEFAULT_COHORTS, team: int | None = None,
                     rep: int | None = None, segment: int | None = None) -> retention.Retention[int]:
    """The visible, live customers grouped by the month of their first counted order up to
    ``as_of``, with the share of each cohort that ordered in each month after it.

    Orders after ``as_of`` are ignored; a date before any order gives an empty report. ``team``
    and ``rep`` narrow the customers. One query for the order days (plus the visibility scope),
    however many customers.
    """
    if not 1 <= cohorts <= retention.MAX_COHORTS:
        raise ValueError(f"cohorts must be between 1 and {retention.MAX_COHORTS}")
    orders = visible_records(user, counted_orders().filter(ordered_on__lte=as_of, card__archived_at__isnull=True))
    if team is not None:
        orders = orders.filter(card__team_id=team)
    if rep is not None:
        orders = orders.filter(card__owner_id=rep)
    if segment is not None:
        orders = orders.filter(card__in=_in_segment(user, visible_to(user), segment).values("id"))
    per_day = orders.order_by().values_list("card_id", "ordered_on").distinct()
    return retention.retention(per_day.iterator(chunk_size=10_000), as_of=as_of, cohorts=cohorts)


def retention_rows(report: retention.Retention[int]) -> list[list[Any]]:
    """The report in ``RETENTION_COLUMNS`` order, one row per cohort and month offset; a month
    that has not elapsed yet has empty ``customers`` and ``share``."""
    rows: list[list[Any]] = []
    for cohort in report.cohorts:
        label = cohort.month.strftime("%Y-%m")
        for offset, cell in enumerate(cohort.cells):
            month = retention.month_start(retention.month_index(cohort.month) + offset).strftime("%Y-%m")
            rows.append([label, cohort.size, offset, month, None if cell is None else cell.customers,
                         None if cell is None else round(cell.share, 4), round(cohort.loyalty, 4)])
    return rows


def _in_segment(user: Any, cards: Any, segment: int | None) -> Any:
    """Cards narrowed to a saved segment's members (422 for a segment out of the user's reach)."""
    if segment is None:
        return cards
    from rapport.segments.selectors import apply_segment

    return apply_segment(user, cards, segment)


# ---------------------------------------------------------------------------------------------
# Profitability per customer (``rapport.analytics.profitability``).

# The columns of every profitability export, in order (the API returns the same names).
PROFIT_COLUMNS = columns.PROFIT_COLUMNS
LEAST_PROFITABLE_PER_TIER = 5


@dataclass(frozen=True)
class ProfitRow:
    card_id: int
    external_id: str
    name: str
    kind: str
    owner_id: int
    owner: str
    team_id: int | None
    team: str
    tier: str  # "A", "B", "C" or "" (no tier)
    orders: int
    revenue: Decimal
    discounts: Decimal
    cost_of_goods: Decimal
    margin: Decimal
    margin_percent: float | None  # None without revenue
    activities: int
    cost_to_serve: Decimal
    net_profit: Decimal
    currency: str
    note: str

    def values(self) -> list[Any]:
        return [getattr(self, column) for column in PROFIT_COLUMNS]


@dataclass(frozen=True)
class TierTotals:
    tier: str
    label: str
    customers: int
    revenue: Decimal
    margin: Decimal
    cost_to_serve: Decimal
    net_profit: Decimal
    losing: int  # customers with a negative net profit
    least: list[ProfitRow]  # the least profitable, lowest first


@dataclass(frozen=True)
class ProfitReport:
    start: dt.date
    end: dt.date
    currency: str
    costs: dict[str, Decimal]  # unit cost to serve per activity kind
    rows: list[ProfitRow]  # most profitable first
    tiers: list[TierTotals]  # A, B, C, then customers without a tier
    losing: int = 0  # customers with a negative net profit (all of them, also when ``rows`` holds the least only)

    @property
    def as_of(self) -> dt.date:
        return self.end


def year_before(end: dt.date) -> dt.date:
    """The first day of the year that ends on ``end``: the default period of the profitability report."""
    return rfm.window_start(end, 12)


def tier_labels() -> dict[str, str]:
    from rapport.cards.models import Tier

    return {**{str(value): str(label) for value, label in Tier.choices}, "": _("No tier")}


def profitability_report(user: Any, *, start: dt.date, end: dt.date, team: int | None = None,
                         rep: int | None = None, segment: int | None = None, least: int | None = None) -> ProfitReport:
    """Every visible, live customer with a counted order or a logged activity between ``start``
    and ``end`` (both included), with revenue, discounts, cost of goods, margin, cost to serve
    and net profit in the reporting currency. A fixed number of queries, however many customers.

    With ``least``, ``rows`` holds only the ``least`` least profitable customers (the last rows
    of the full report, in its order), ``tiers`` is empty and ``losing`` still counts everyone:
    only those few rows are built. For a user the analytics engine serves (``engine.plan``) and
    no segment, those figures come from its snapshot (``columnar.least_profitable``), the cost to
    serve still from the activities in the database; the rows are the same."""
    from collections.abc import Collection

    from django.db.models import DecimalField, ExpressionWrapper, F, IntegerField, Min, OuterRef, Q, Subquery

    from rapport.activities.models import Participant
    from rapport.commerce.evidence import _Rates
    from rapport.commerce.models import OrderLine
    from rapport.core.visibility import visible_through

    if end < start:
        raise ValueError("the period ends before it starts")
    cards = visible_to(user).filter(archived_at__isnull=True)
    if team is not None:
        cards = cards.filter(team_id=team)
    if rep is not None:
        cards = cards.filter(owner_id=rep)
    cards = _in_segment(user, cards, segment)
    orders = _counted_orders_of(user, cards, team=team, rep=rep, segment=segment).filter(ordered_on__range=(start, end))
    rates = _Rates()
    quantum = money.quantum(rates.base)

    def q(value: Decimal) -> Decimal:
        return value.quantize(quantum, rounding=ROUND_HALF_UP)

    costs = profitability.unit_costs()
    chosen = engine.plan(user) if least is not None and segment is None else None
    # A customer's orders are summed per currency and rate period (the days one exchange rate holds), each
    # period named by its first order day: a row per customer, not per order day, at the same rates.
    order_rows = (orders.annotate(period=_rate_period(rates, "", start, end)).values("card_id", "currency", "period")
                  .annotate(n=Count("id"), s=Sum("total"), day=Min("ordered_on")).order_by()
                  .values_list("card_id", "currency", "day", "n", "s"))
    money_field = DecimalField(max_digits=30, decimal_places=8)
    line_rows = (
        OrderLine.objects.filter(order__in=orders.values("id"))
        .annotate(period=_rate_period(rates, "order__", start, end))
        .values("order__card_id", "order__currency", "period")
        .annotate(
            discounts=Sum(ExpressionWrapper(F("quantity") * F("unit_price") - F("amount"), output_field=money_field)),
            goods=Sum(ExpressionWrapper(F("quantity") * F("product__unit_cost"), output_field=money_field)),
            uncosted=Count("id", filter=Q(product__unit_cost__isnull=True)),
            day=Min("order__ordered_on"),
        ).order_by()
        .values_list("order__card_id", "order__currency", "day", "discounts", "goods", "uncosted")
    )
    shared_by = (Participant.objects.filter(activity_id=OuterRef("activity_id")).order_by()
                 .values("activity_id").annotate(n=Count("id")).values("n"))
    participants = Participant.objects.filter(activity__occurred_at__date__range=(start, end))
    if rep is not None and segment is None:  # the rep's own cards first (``card_owner_sort``), each checked by key
        participants = visible_through(user, participants.filter(
            card__owner_id=rep, card__archived_at__isnull=True, **({"card__team_id": team} if team is not None else {})),
            "card")
    else:
        participants = participants.filter(card__in=cards.values("id"))
    activity_rows = (
        participants
        .annotate(shared=Subquery(shared_by, output_field=IntegerField()))
        .values_list("card_id", "activity__kind", "shared")
    )
    wanted: Collection[int]
    if chosen is not None and least is not None:
        # The orders from the snapshot, the activities from the database: only the candidates come back.
        served = profitability.combine((), (), activity_rows.iterator(chunk_size=10_000), rate=rates.rate, costs=costs)
        profits, losing = columnar.least_profitable(chosen, start=start, end=end, team=team, rep=rep, least=least,
                                                    served=served, quantum=quantum)
    else:
        profits = profitability.combine(order_rows.iterator(chunk_size=10_000), line_rows.iterator(chunk_size=10_000),
                                        activity_rows.iterator(chunk_size=10_000), rate=rates.rate, costs=costs)
        losing = sum(1 for p in profits.values() if q(p.net_profit) < 0)
    wanted = profits.keys()
    if least is not None:
        # The rows that can be among the last ``least``: a net profit at most the least-th lowest
        # (ties on the edge are ordered by name below, as in the full report).
        nets = {card: q(p.net_profit) for card, p in profits.items()}
        edge = sorted(nets.values())[:least]
        wanted = {card for card, net in nets.items() if edge and net <= edge[-1]}
    no_rate = _("No exchange rate for %(currencies)s: those orders are left out of revenue.")
    columns = ("id", "external_id", "display_name", "kind", "owner_id", "owner__username", "team_id", "team__name", "tier")
    rows = []
    # Many customers are read with the visible cards rather than as a list of ids (SQLite takes at most
    # 250,000 values a query, and a long list costs more than the cards it skips).
    card_rows = (cards.filter(pk__in=wanted) if len(wanted) <= PROFIT_IDS_MAX else cards).values_list(*columns)
    for card_id, external_id, name, kind, owner_id, owner, team_id, team_name, tier in (
            card_rows.iterator(chunk_size=10_000) if wanted else []):
        if card_id not in profits or (least is not None and card_id not in wanted):
            continue
        p = profits[card_id]
        notes = []
        if p.missing_rates:
            notes.append(no_rate % {"currencies": ", ".join(sorted(p.missing_rates))})
        if p.uncosted_lines:
            notes.append(ngettext(
                "%(lines)s order line of a product without a unit cost: its cost of goods is missing, so the margin "
                "is overstated.",
                "%(lines)s order lines of products without a unit cost: their cost of goods is missing, so the margin "
                "is overstated.", p.uncosted_lines) % {"lines": p.uncosted_lines})
        share = p.margin_share
        rows.append(ProfitRow(
            card_id=card_id, external_id=external_id, name=name, kind=kind, owner_id=owner_id, owner=owner,
            team_id=team_id, team=team_name or "", tier=tier or "", orders=p.orders, revenue=q(p.revenue),
            discounts=q(p.discounts), cost_of_goods=q(p.cost_of_goods), margin=q(p.margin),
            margin_percent=None if share is None else round(share * 100, 1), activities=p.activities,
            cost_to_serve=q(p.cost_to_serve), net_profit=q(p.net_profit), currency=rates.base, note=" ".join(notes),
        ))
    rows.sort(key=lambda row: (-row.net_profit, row.name.lower(), row.card_id))
    if least is not None:
        return ProfitReport(start=start, end=end, currency=rates.base, costs=costs,
                            rows=rows[max(len(rows) - least, 0):] if least else [], tiers=[], losing=losing)
    labels = tier_labels()
    by_tier: dict[str, list[ProfitRow]] = defaultdict(list)
    for row in rows:
        by_tier[row.tier].append(row)
    tiers = []
    for tier in ("A", "B", "C", ""):
        members = by_tier.get(tier, [])
        if not members:
            continue
        tiers.append(TierTotals(
            tier=tier, label=labels.get(tier, tier), customers=len(members),
            revenue=sum((r.revenue for r in members), Decimal(0)), margin=sum((r.margin for r in members), Decimal(0)),
            cost_to_serve=sum((r.cost_to_serve for r in members), Decimal(0)),
            net_profit=sum((r.net_profit for r in members), Decimal(0)),
            losing=sum(1 for r in members if r.net_profit < 0),
            least=sorted(members, key=lambda r: (r.net_profit, r.card_id))[:LEAST_PROFITABLE_PER_TIER],
        ))
    return ProfitReport(start=start, end=end, currency=rates.base, costs=costs, rows=rows, tiers=tiers, losing=losing)


PROFIT_IDS_MAX = 20_000  # customers read by id; more are read with every visible card


RATE_PERIODS_MAX = 200  # rate changes within a period beyond which the sums are kept per day


def _rate_period(rates: Any, prefix: str, start: dt.date, end: dt.date) -> Any:
    """An order's rate period between ``start`` and ``end``: the number of its currency's rate
    changes on or before its day (0 for the reporting currency and currencies without a rate).
    Every day of one period converts at the same rate (``_Rates.rate``), so sums per period
    convert exactly as sums per day. With very many changes, the day itself."""
    from django.db.models import F, IntegerField, Q, Value, When
    from django.db.models import Case

    changes = [(currency, day) for currency, days in rates.dates.items() if currency != rates.base
               for day in days if start < day <= end]
    if len(changes) > RATE_PERIODS_MAX:
        return F(f"{prefix}ordered_on")
    if not changes:
        return Value(0, output_field=IntegerField())
    whens = []
    for currency in sorted({c for c, _d in changes}):
        days = sorted(d for c, d in changes if c == currency)
        whens += [When(Q(**{f"{prefix}currency": currency, f"{prefix}ordered_on__gte": day}), then=Value(i + 1))
                  for i, day in reversed(list(enumerate(days)))]
    return Case(*whens, default=Value(0), output_field=IntegerField())


def _counted_orders_of(user: Any, cards: Any, *, team: int | None, rep: int | None, segment: int | None) -> Any:
    """The counted orders of ``cards`` (the visible, live cards narrowed to ``team``, ``rep`` and
    ``segment``). For one rep, the rep's own cards are read first through ``card_owner_sort`` and
    each checked by key (``visible_records``), instead of reading the whole visible set (a team's
    cards) into an ``IN`` list; otherwise ``card_id IN`` that set."""
    if rep is None or segment is not None:
        return counted_orders().filter(card__in=cards.values("id"))
    orders = counted_orders().filter(card__owner_id=rep, card__archived_at__isnull=True)
    if team is not None:
        orders = orders.filter(card__team_id=team)
    return visible_records(user, orders)


# ---------------------------------------------------------------------------------------------
# Performance: sales by a dimension against the same period a year earlier.

PERFORMANCE_DIMENSIONS = reps_module.PERFORMANCE_DIMENSIONS
PERFORMANCE_COLUMNS = columns.PERFORMANCE_COLUMNS


@dataclass(frozen=True)
class PerformanceRow:
    key: str
    label: str
    revenue: Decimal
    previous_revenue: Decimal
    change: Decimal
    change_percent: float | None  # None: nothing sold in the earlier period
    orders: int
    previous_orders: int
    customers: int
    currency: str

    def values(self) -> list[Any]:
        return [getattr(self, column) for column in PERFORMANCE_COLUMNS]


@dataclass(frozen=True)
class PerformanceReport:
    start: dt.date
    end: dt.date
    previous_start: dt.date
    previous_end: dt.date
    dimension: str
    currency: str
    rows: list[PerformanceRow]  # highest revenue first
    total: PerformanceRow
    missing_rates: list[str]  # currencies left out for want of an exchange rate

    @property
    def as_of(self) -> dt.date:
        return self.end

    def export_rows(self) -> list[PerformanceRow]:
        """The files' rows: the groups, then the total."""
        return [*self.rows, self.total]


def dimension_labels() -> dict[str, str]:
    return {
        "category": _("Product category"), "product": _("Product"), "region": _("Region"), "country": _("Country"),
        "industry": _("Industry"), "tier": _("Tier"), "rep": _("Rep"), "team": _("Team"), "month": _("Month"),
    }


def year_earlier(day: dt.date) -> dt.date:
    """The same day a year earlier (28 February for 29 February)."""
    return rfm.months_before(day, 12)


def performance_report(user: Any, *, start: dt.date, end: dt.date, dimension: str = "category",
                       team: int | None = None, rep: int | None = None, segment: int | None = None,
                       customers: bool = True) -> PerformanceReport:
    """Revenue of the visible, live customers between ``start`` and ``end`` grouped by
    ``dimension``, beside the same period a year earlier. Product dimensions add up order lines;
    the others order totals. Amounts are converted to the reporting currency at the rate valid on
    each order's date; a currency without a rate is left out and named. ``customers=False``
    leaves the buying customers uncounted (0 in every row): two reads fewer. By month or by rep,
    for a user the analytics engine serves (``engine.plan``) and no segment, the sums come from
    its snapshot (``columnar.sales_sums``): the same rows."""
    from django.db.models import OuterRef, Subquery
    from django.db.models.functions import TruncMonth

    from rapport.cards.models import Address
    from rapport.commerce.evidence import _Rates
    from rapport.commerce.models import OrderLine

    if dimension not in PERFORMANCE_DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}")
    if end < start:
        raise ValueError("the period ends before it starts")
    previous_start, previous_end = year_earlier(start), year_earlier(end)
    chosen = engine.plan(user) if dimension in ("month", "rep") and segment is None else None
    if chosen is not None:
        return _performance_of(
            dimension, start, end, previous_start, previous_end, customers,
            *columnar.sales_sums(chosen, start=start, end=end, previous_start=previous_start, previous_end=previous_end,
                                 dimension=dimension, team=team, rep=rep, customers=customers))
    cards = visible_to(user).filter(archived_at__isnull=True)
    if team is not None:
        cards = cards.filter(team_id=team)
    if rep is not None:
        cards = cards.filter(owner_id=rep)
    cards = _in_segment(user, cards, segment)
    orders = _counted_orders_of(user, cards, team=team, rep=rep, segment=segment).filter(
        Q(ordered_on__range=(start, end)) | Q(ordered_on__range=(previous_start, previous_end)))
    if dimension in ("category", "product"):
        rows_qs: Any = OrderLine.objects.filter(order__in=orders.values("id"))
        prefix, amount = "order__", "amount"
        key = "product__category" if dimension == "category" else "product__sku"
    else:
        rows_qs, prefix, amount = orders, "", "total"
        key = {"industry": "card__industry", "tier": "card__tier", "rep": "card__owner__username",
               "team": "card__team__name", "month": "month", "region": "region", "country": "country"}[dimension]
        if dimension in ("region", "country"):
            first = Address.objects.filter(card_id=OuterRef("card_id")).order_by("position", "id").values(dimension)[:1]
            rows_qs = rows_qs.annotate(**{dimension: Subquery(first)})
        if dimension == "month":
            rows_qs = rows_qs.annotate(month=TruncMonth("ordered_on"))
    # Grouped by day anyway (each day's rate): a month is its days' key, so no month is computed in SQL; one
    # row per order outside the product dimensions, so the orders need no DISTINCT there.
    sum_key = f"{prefix}ordered_on" if dimension == "month" else key
    grouped = (orders if dimension == "month" else rows_qs).values(sum_key, f"{prefix}currency", f"{prefix}ordered_on")
    grouped = (grouped.annotate(s=Sum(amount), n=Count(f"{prefix}id", distinct=True) if prefix else Count("id"))
               .order_by().values_list(sum_key, f"{prefix}currency", f"{prefix}ordered_on", "s", "n"))
    rates = _Rates()
    sums: list[tuple[Any, ...]] = []
    missing: set[str] = set()
    for group, currency, day, total, count in grouped.iterator(chunk_size=10_000):
        factor = rates.rate(currency, day)
        if factor is None:
            missing.add(currency)
        sums.append((_group_key(group), start <= day <= end, None if factor is None else Decimal(total or 0) * factor,
                     count, 0))
    buyers = _customers_by_group(rows_qs, key, prefix, start, end) if customers else {}
    everyone = _customers_total(rows_qs, prefix, start, end) if customers else 0
    return _performance_of(dimension, start, end, previous_start, previous_end, customers, sums, sorted(missing),
                           everyone, buyers=buyers)


def _performance_of(dimension: str, start: dt.date, end: dt.date, previous_start: dt.date, previous_end: dt.date,
                    customers: bool, sums: Sequence[tuple[Any, ...]], missing: Sequence[str], everyone: int, *,
                    buyers: dict[str, int] | None = None) -> PerformanceReport:
    """The report from sums of (group, in the current period, revenue in the reporting currency or
    None without a rate, orders, customers), several rows of a group and period adding up: month
    groups given as "YYYY-MM" or as the number YYYYMM. ``buyers`` gives the customers per group
    instead of the sums."""
    from rapport.commerce import money

    now: dict[str, Decimal] = defaultdict(Decimal)
    before: dict[str, Decimal] = defaultdict(Decimal)
    now_orders: dict[str, int] = defaultdict(int)
    before_orders: dict[str, int] = defaultdict(int)
    counted: dict[str, int] = defaultdict(int)
    for group, current, revenue, count, buying in sums:
        label = f"{group // 100:04d}-{group % 100:02d}" if isinstance(group, int) else _group_key(group)
        if dimension == "month" and not current:  # beside the same month a year later
            label = f"{int(label[:4]) + 1}{label[4:]}"
        (now_orders if current else before_orders)[label] += count
        if current:
            counted[label] += buying
        if revenue is not None:
            (now if current else before)[label] += revenue
    if buyers is None:
        buyers = dict(counted) if customers else {}
    labels = _group_labels(dimension)
    base = money.reporting_currency()
    quantum = money.quantum(base)

    def row(group: str, label: str, revenue: Decimal, previous: Decimal, n: int, p: int, c: int) -> PerformanceRow:
        revenue, previous = revenue.quantize(quantum, ROUND_HALF_UP), previous.quantize(quantum, ROUND_HALF_UP)
        return PerformanceRow(
            key=group, label=label, revenue=revenue, previous_revenue=previous, change=revenue - previous,
            change_percent=round(float((revenue - previous) / previous * 100), 1) if previous else None,
            orders=n, previous_orders=p, customers=c, currency=base)

    groups = set(now) | set(before) | set(now_orders) | set(before_orders)
    rows = [row(g, labels(g), now.get(g, Decimal(0)), before.get(g, Decimal(0)), now_orders.get(g, 0),
                before_orders.get(g, 0), buyers.get(g, 0)) for g in groups]
    rows.sort(key=lambda r: (-r.revenue, -r.previous_revenue, r.label.lower()))
    if dimension == "month":
        rows.sort(key=lambda r: r.key)
    total = row("", _("Total"), sum(now.values(), Decimal(0)), sum(before.values(), Decimal(0)),
                sum(now_orders.values()), sum(before_orders.values()), everyone)
    return PerformanceReport(start=start, end=end, previous_start=previous_start, previous_end=previous_end,
                             dimension=dimension, currency=base, rows=rows, total=total, missing_rates=sorted(missing))


def _group_key(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m")
    return str(value)


def _group_labels(dimension: str) -> Any:
    """Turns a group's key into the words shown: the tier's name, the country's name, "Not set"."""
    unknown = _("Not set")
    if dimension == "tier":
        tiers = tier_labels()
        return lambda key: tiers.get(key, key) if key else unknown
    if dimension == "country":
        from rapport.commerce.money import babel_locale

        names = babel_locale().territories

        return lambda key: names.get(key.upper(), key) if key else unknown
    if dimension == "month":
        return lambda key: key
    return lambda key: key or unknown


def _customers_by_group(rows_qs: Any, key: str, prefix: str, start: dt.date, end: dt.date) -> dict[str, int]:
    """Distinct customers per group in the current period (one more query)."""
    current = rows_qs.filter(**{f"{prefix}ordered_on__range": (start, end)})
    pairs = current.values(key).annotate(c=Count(f"{prefix}card_id", distinct=True)).order_by().values_list(key, "c")
    result: dict[str, int] = defaultdict(int)
    for group, count in pairs:
        result[_group_key(group)] += count
    return dict(result)


def _customers_total(rows_qs: Any, prefix: str, start: dt.date, end: dt.date) -> int:
    return int(rows_qs.filter(**{f"{prefix}ordered_on__range": (start, end)})
               .aggregate(c=Count(f"{prefix}card_id", distinct=True))["c"] or 0)


# ---------------------------------------------------------------------------------------------
# Rep performance (``rapport.analytics.reps``).

REP_COLUMNS = columns.REP_COLUMNS


@dataclass(frozen=True)
class RepRow:
    rep_id: int
    rep: str
    teams: str
    revenue: Decimal
    orders: int
    customers: int
    new_customer_calls: int
    working_days: int
    calls_per_day: float | None
    call_target: int
    visits_done: int
    objectives_met_percent: float | None
    promises_kept_percent: float | None
    promises_due: int
    deals_won: int
    deals_lost: int
    conversion_percent: float | None
    won_amount: Decimal
    currency: str

    def values(self) -> list[Any]:
        return [getattr(self, column) for column in REP_COLUMNS]

    @property
    def on_target(self) -> bool:
        return self.calls_per_day is not None and self.calls_per_day >= self.call_target


@dataclass(frozen=True)
class RepReport:
    start: dt.date
    end: dt.date
    currency: str
    call_target: int
    rows: list[RepRow]  # highest revenue first

    @property
    def as_of(self) -> dt.date:
        return self.end


def _share_percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


def reps_report(user: Any, *, start: dt.date, end: dt.date, team: int | None = None,
                rep: int | None = None, segment: int | None = None) -> RepReport:
    """One row per rep the user may look at — themselves for a rep, the reps of the teams they
    manage for a manager, every active rep for an admin or analyst — over the cards the user may see.
    For a user the analytics engine serves (``engine.plan``) and no segment, the orders, revenue
    and customers come from its snapshot (``columnar.rep_sales``): the same figures."""
    from django.db.models import Min

    from rapport.accounts.models import User
    from rapport.activities.models import Participant
    from rapport.commerce.evidence import _Rates
    from rapport.core.visibility import scope_for, visible_through
    from rapport.deals.models import Deal
    from rapport.visits.models import Objective, Promise, PromiseBy, Result, Visit
    from rapport.visits.models import Status as VisitStatus

    if end < start:
        raise ValueError("the period ends before it starts")
    scope = scope_for(user)
    people = User.objects.filter(is_active=True, role="rep")
    if scope.role == "rep":
        people = people.filter(pk=user.id)
    elif not scope.sees_everything:
        people = people.filter(pk__in=scope.managed_user_ids)
    if team is not None:
        people = people.filter(teams__id=team)
    if rep is not None:
        people = people.filter(pk=rep)
    reps = {u.id: u for u in people.distinct().prefetch_related("teams")}
    seen = _in_segment(user, visible_to(user), segment)  # the customers the figures count
    rep_ids = list(reps)

    def counted(rows: Any, relation: str = "card") -> Any:
        """``rows`` whose card the user sees (and in the segment). Without a segment each row's
        card is checked by key: the rows are read through the reps' own indexes, never the
        whole visible set (a team's cards) first."""
        if segment is None:
            return visible_through(user, rows, relation)
        return rows.filter(**{f"{relation}__in": seen.values("id")})

    figures: dict[int, reps_module.RepFigures] = {rep_id: reps_module.RepFigures() for rep_id in rep_ids}
    rates = _Rates()
    chosen = engine.plan(user) if segment is None else None
    if chosen is not None:  # the orders from the snapshot; the archived cards the user sees from the database
        archived = [] if chosen.card_ids is None else list(
            visible_to(user).filter(owner_id__in=rep_ids, archived_at__isnull=False).values_list("id", flat=True))
        for owner_id, (n, revenue, buying) in columnar.rep_sales(chosen, start=start, end=end, rep_ids=rep_ids,
                                                                 archived_ids=archived).items():
            f = figures[owner_id]
            f.orders, f.revenue, f.customers = n, revenue, buying
    else:
        orders = counted(counted_orders().filter(card__owner_id__in=rep_ids, ordered_on__range=(start, end)))
        for owner_id, currency, day, n, total in (orders.values("card__owner_id", "currency", "ordered_on")
                                                  .annotate(n=Count("id"), s=Sum("total")).order_by()
                                                  .values_list("card__owner_id", "currency", "ordered_on", "n", "s")):
            f = figures[owner_id]
            f.orders += n
            factor = rates.rate(currency, day)
            if factor is not None:
                f.revenue += Decimal(total or 0) * factor
        for owner_id, n in (orders.values("card__owner_id").annotate(n=Count("card_id", distinct=True)).order_by()
                            .values_list("card__owner_id", "n")):
            figures[owner_id].customers = n
    calls = list(counted(Participant.objects.filter(
        activity__kind="call", activity__recorded_by_id__in=rep_ids, activity__occurred_at__date__range=(start, end),
    )).values_list("activity__recorded_by_id", "card_id", "activity__occurred_at"))
    call_rows = [(rep_id, card_id, timezone.localdate(at)) for rep_id, card_id, at in calls]
    firsts = dict(counted_orders().filter(card_id__in={card for _r, card, _d in call_rows}).values("card_id")
                  .annotate(first=Min("ordered_on")).order_by().values_list("card_id", "first")) if call_rows else {}
    for rep_id, n in reps_module.new_customer_calls(call_rows, firsts).items():
        figures[rep_id].new_customer_calls = n
    visits = counted(Visit.objects.filter(owner_id__in=rep_ids, planned_on__range=(start, end)))
    for owner_id, n in (visits.filter(status=VisitStatus.DONE).values("owner_id").annotate(n=Count("id")).order_by()
                        .values_list("owner_id", "n")):
        figures[owner_id].visits_done = n
    for owner_id, result, n in (Objective.objects.filter(visit__in=visits.values("id")).exclude(result="")
                                .values("visit__owner_id", "result").annotate(n=Count("id")).order_by()
                                .values_list("visit__owner_id", "result", "n")):
        f = figures[owner_id]
        f.objectives_judged += n
        f.objectives_met += n if result == Result.MET else n / 2 if result == Result.PARTLY else 0
    promises = counted(Promise.objects.filter(owner_id__in=rep_ids, by=PromiseBy.US, due_on__range=(start, end)))
    for owner_id, due_on, kept_on in promises.values_list("owner_id", "due_on", "kept_on"):
        f = figures[owner_id]
        f.promises_due += 1
        f.promises_kept += 1 if kept_on is not None and due_on is not None and kept_on <= due_on else 0
    deals = counted(Deal.objects.filter(owner_id__in=rep_ids, closed_at__date__range=(start, end)))
    for owner_id, status, currency, amount, closed_at in deals.values_list("owner_id", "status", "currency", "amount",
                                                                           "closed_at"):
        f = figures[owner_id]
        if status == "won":
            f.deals_won += 1
            factor = rates.rate(currency, timezone.localdate(closed_at))
            f.won_amount += Decimal(amount) * factor if factor is not None else Decimal(0)
        elif status == "lost":
            f.deals_lost += 1
    days = reps_module.working_days(start, min(end, timezone.localdate()))
    target = reps_module.call_target()
    quantum = money.quantum(rates.base)
    rows = []
    for rep_id, f in figures.items():
        person = reps[rep_id]
        rows.append(RepRow(
            rep_id=rep_id, rep=person.get_username(), teams=", ".join(sorted(t.name for t in person.teams.all())),
            revenue=f.revenue.quantize(quantum, ROUND_HALF_UP), orders=f.orders, customers=f.customers,
            new_customer_calls=f.new_customer_calls, working_days=days,
            calls_per_day=round(f.new_customer_calls / days, 2) if days else None, call_target=target,
            visits_done=f.visits_done, objectives_met_percent=_share_percent(f.objective_share),
            promises_kept_percent=_share_percent(f.promise_share), promises_due=f.promises_due, deals_won=f.deals_won,
            deals_lost=f.deals_lost, conversion_percent=_share_percent(f.conversion),
            won_amount=f.won_amount.quantize(quantum, ROUND_HALF_UP), currency=rates.base,
        ))
    rows.sort(key=lambda r: (-r.revenue, r.rep.lower()))
    return RepReport(start=start, end=end, currency=rates.base, call_target=target, rows=rows)


# ---------------------------------------------------------------------------------------------
# Products: ABC, bought together, cross-sell (``rapport.analytics.products``).

PRODUCT_COLUMNS = columns.PRODUCT_COLUMNS


@dataclass(frozen=True)
class ProductRow:
    product_id: int
    sku: str
    name: str
    category: str
    revenue: Decimal
    quantity: Decimal
    customers: int
    share_percent: float
    cumulative_percent: float
    abc: str
    currency: str

    def values(self) -> list[Any]:
        return [getattr(self, column) for column in PRODUCT_COLUMNS]


@dataclass(frozen=True)
class PairRow:
    first: str  # product names in the reader's language
    second: str
    first_sku: str
    second_sku: str
    orders: int
    confidence_percent: float
    lift: float


@dataclass(frozen=True)
class ProductReport:
    start: dt.date
    end: dt.date
    currency: str
    rows: list[ProductRow]  # by revenue, highest first
    pairs: list[PairRow]
    missing_rates: list[str]

    @property
    def as_of(self) -> dt.date:
        return self.end

    def classes(self) -> list[tuple[str, int, Decimal]]:
        """(class, products, revenue) for A, B and C."""
        return [(c, sum(1 for r in self.rows if r.abc == c), sum((r.revenue for r in self.rows if r.abc == c), Decimal(0)))
                for c in ("A", "B", "C")]


def product_label(name: str, names: dict[str, str] | None) -> str:
    """A product's name in the reader's language when it has one."""
    from django.utils import translation

    language = (translation.get_language() or "en").lower()
    return (names or {}).get(language) or name


def products_report(user: Any, *, start: dt.date, end: dt.date, team: int | None = None,
                    rep: int | None = None, segment: int | None = None) -> ProductReport:
    """Our products sold to the visible, live customers between ``start`` and ``end``: revenue,
    quantity and buyers per product with its ABC class, and the pairs most often bought together."""
    from rapport.commerce.evidence import _Rates
    from rapport.commerce.models import OrderLine, Product

    if end < start:
        raise ValueError("the period ends before it starts")
    cards = visible_to(user).filter(archived_at__isnull=True)
    if team is not None:
        cards = cards.filter(team_id=team)
    if rep is not None:
        cards = cards.filter(owner_id=rep)
    cards = _in_segment(user, cards, segment)
    lines = OrderLine.objects.filter(product__isnull=False, order__in=counted_orders().filter(
        card__in=cards.values("id"), ordered_on__range=(start, end)).values("id"))
    rates = _Rates()
    revenue: dict[int, Decimal] = defaultdict(Decimal)
    quantity: dict[int, Decimal] = defaultdict(Decimal)
    missing: set[str] = set()
    for product_id, currency, day, amount, qty in (
            lines.values("product_id", "order__currency", "order__ordered_on").annotate(a=Sum("amount"), q=Sum("quantity"))
            .order_by().values_list("product_id", "order__currency", "order__ordered_on", "a", "q")):
        quantity[product_id] += Decimal(qty or 0)
        factor = rates.rate(currency, day)
        if factor is None:
            missing.add(currency)
            revenue.setdefault(product_id, Decimal(0))
            continue
        revenue[product_id] += Decimal(amount or 0) * factor
    buyers = dict(lines.values("product_id").annotate(c=Count("order__card_id", distinct=True)).order_by()
                  .values_list("product_id", "c"))
    info = {p["id"]: p for p in Product.objects.filter(pk__in=list(revenue)).values("id", "sku", "name", "names", "category")}
    quantum = money.quantum(rates.base)
    rows = []
    for r in products.abc(revenue):
        p = info[r.product_id]
        rows.append(ProductRow(
            product_id=r.product_id, sku=p["sku"], name=product_label(p["name"], p["names"]), category=p["category"],
            revenue=r.revenue.quantize(quantum, ROUND_HALF_UP), quantity=quantity[r.product_id],
            customers=buyers.get(r.product_id, 0), share_percent=round(float(r.share) * 100, 1),
            cumulative_percent=round(float(r.cumulative) * 100, 1), abc=r.abc, currency=rates.base,
        ))
    together = products.bought_together(lines.values_list("order_id", "product_id").distinct().iterator(chunk_size=10_000))
    wanted = {p.first for p in together} | {p.second for p in together}
    names = {p["id"]: p for p in Product.objects.filter(pk__in=wanted).values("id", "sku", "name", "names")}
    pairs = [PairRow(first=product_label(names[p.first]["name"], names[p.first]["names"]),
                     second=product_label(names[p.second]["name"], names[p.second]["names"]),
                     first_sku=names[p.first]["sku"], second_sku=names[p.second]["sku"], orders=p.orders,
                     confidence_percent=round(p.confidence * 100, 1), lift=round(p.lift, 2)) for p in together]
    return ProductReport(start=start, end=end, currency=rates.base, rows=rows, pairs=pairs, missing_rates=sorted(missing))


@dataclass(frozen=True)
class CrossSellRow:
    product_id: int
    sku: str
    name: str
    buyers: int
    neighbours: int
    score: float


CROSS_SELL_DAYS = 365  # purchases of the last year make the neighbourhood
CROSS_SELL_NEIGHBOURS = 500  # the customers with most products in common, at most


def cross_sell(user: Any, card: Any, *, as_of: dt.date | None = None, limit: int = 5) -> list[CrossSellRow]:
    """What ``card`` does not buy yet that the customers buying what it buys do, among the
    customers ``user`` may see, over the last year of counted orders. Bounded work: the
    neighbours are at most the 500 customers with most products in common."""
    from rapport.commerce.models import OrderLine, Product

    as_of = as_of or timezone.localdate()
    since = as_of - dt.timedelta(days=CROSS_SELL_DAYS)
    recent = counted_orders().filter(ordered_on__range=(since, as_of))
    lines = OrderLine.objects.filter(product__isnull=False, product__is_ours=True)
    own = set(lines.filter(order__in=recent.filter(card_id=card.pk).values("id")).values_list("product_id", flat=True))
    if not own:
        return []
    visible = visible_to(user).filter(archived_at__isnull=True).values("id")
    neighbours = list(
        lines.filter(product_id__in=own, order__in=recent.filter(card__in=visible).exclude(card_id=card.pk).values("id"))
        .values("order__card_id").annotate(common=Count("product_id", distinct=True)).order_by("-common", "order__card_id")
        .values_list("order__card_id", flat=True)[:CROSS_SELL_NEIGHBOURS])
    if not neighbours:
        return []
    bought: dict[int, set[int]] = defaultdict(set)
    bought[card.pk] = own
    for card_id, product_id in (lines.filter(order__in=recent.filter(card_id__in=neighbours).values("id"))
                                .values_list("order__card_id", "product_id").distinct()):
        bought[card_id].add(product_id)
    suggestions = products.cross_sell(card.pk, bought, limit=limit)
    info = {p["id"]: p for p in Product.objects.filter(pk__in=[s.product_id for s in suggestions], active=True)
            .values("id", "sku", "name", "names")}
    return [CrossSellRow(product_id=s.product_id, sku=info[s.product_id]["sku"],
                         name=product_label(info[s.product_id]["name"], info[s.product_id]["names"]),
                         buyers=s.buyers, neighbours=s.neighbours, score=s.score)
            for s in suggestions if s.product_id in info]
