"""The customer profile: who the customers are and how they buy, group by group.

For one way of grouping the cards (tier, kind, region, country, industry, sales channel,
lifecycle stage or saved segment) each group has its cards, its buyers in the period, their
orders and revenue, the share of its regulars the churn model flags, and its buying habits:
when (the busiest weekday and month), how often (the median interval between purchase days)
and what (the product categories in most orders).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rapport.analytics.reports import Column, Filters, ReportSpec, cards_for, check_period, end_of_day

DIMENSIONS = ("tier", "kind", "region", "country", "industry", "channel", "stage", "segment")
CHANNEL_ITEMS = ("distribution_channels", "shopping_channel")  # how an organisation sells; where a person buys
MAX_SEGMENTS = 30  # saved segments shown as groups
TOP_CATEGORIES = 3


@dataclass
class _Group:
    cards: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class ProfileRow:
    dimension: str
    key: str
    label: str
    cards: int
    share_percent: float  # of the cards of the report
    buyers: int  # cards with a counted order in the period
    orders: int
    revenue: Decimal  # in the reporting currency; orders in a currency without a rate are left out
    currency: str
    scored: int  # regulars the churn model scores (two purchase days or more up to the as-of date)
    flagged: int  # of them, flagged as silent for too long
    risk_percent: float | None  # flagged / scored
    median_interval_days: float | None  # between consecutive purchase days of a customer, in the period
    busiest_weekday: str
    busiest_month: str
    top_categories: str
    weekdays: tuple[int, ...]  # orders per weekday, Monday first
    months: tuple[int, ...]  # orders per calendar month, January first

    def values(self) -> list[Any]:
        return [getattr(self, key) for key in SPEC.keys]


@dataclass(frozen=True)
class ProfileReport:
    start: dt.date
    end: dt.date
    dimension: str
    currency: str
    rows: list[ProfileRow]  # most cards first
    total: ProfileRow
    missing_rates: list[str]

    @property
    def as_of(self) -> dt.date:
        return self.end

    def export_rows(self) -> list[ProfileRow]:
        return [*self.rows, self.total]


def dimension_labels() -> dict[str, str]:
    return {"tier": _("Tier"), "kind": _("Organisation or person"), "region": _("Region"), "country": _("Country"),
            "industry": _("Industry"), "channel": _("Sales channel"), "stage": _("Lifecycle stage"),
            "segment": _("Saved segment")}


def weekday_names() -> list[str]:
    from django.utils.dates import WEEKDAYS

    return [str(WEEKDAYS[i]) for i in range(7)]


def month_names() -> list[str]:
    from django.utils.dates import MONTHS

    return [str(MONTHS[i]) for i in range(1, 13)]


def _membership(user: Any, cards: Any, dimension: str, as_of: dt.date) -> tuple[dict[str, set[int]], dict[str, str]]:
    """Cards per group key, and each key in words. A card may sit in several groups (channels, segments)."""
    from rapport.cards.models import Address, CurrentValue, Kind, Stage, StageChange

    groups: dict[str, set[int]] = defaultdict(set)
    labels: dict[str, str] = {}
    not_set = _("Not set")
    if dimension in ("tier", "kind", "industry"):
        column = {"tier": "tier", "kind": "kind", "industry": "industry"}[dimension]
        for card_id, key in cards.order_by().values_list("id", column).iterator(chunk_size=10_000):
            groups[key or ""].add(card_id)
        if dimension == "tier":
            from rapport.analytics.selectors import tier_labels

            labels = tier_labels()
        elif dimension == "kind":
            labels = {str(k): str(v) for k, v in Kind.choices}
    elif dimension == "stage":
        if as_of >= timezone.localdate():
            pairs = cards.order_by().values_list("id", "lifecycle_stage")
        else:  # the stage after the card's last move on or before the day, as the funnel report counts it
            last = (StageChange.objects.filter(card=OuterRef("pk"), changed_at__lte=end_of_day(as_of))
                    .order_by("-changed_at", "-id").values("to_stage")[:1])
            pairs = cards.order_by().annotate(stage_then=Subquery(last)).values_list("id", "stage_then")
        for card_id, key in pairs.iterator(chunk_size=10_000):
            groups[key or ""].add(card_id)
        labels = {str(k): str(v) for k, v in Stage.choices}
    elif dimension in ("region", "country"):
        first = Address.objects.filter(card_id=OuterRef("pk")).order_by("position", "id").values(dimension)[:1]
        for card_id, key in (cards.order_by().annotate(where=Subquery(first)).values_list("id", "where")
                             .iterator(chunk_size=10_000)):
            groups[(key or "").strip()].add(card_id)
        if dimension == "country":
            from rapport.commerce.money import babel_locale

            names = babel_locale().territories
            labels = {key: str(names.get(key.upper(), key)) for key in groups if key}
    elif dimension == "channel":
        from rapport.catalog import selectors as catalog

        items = {key: item for key in CHANNEL_ITEMS if (item := catalog.items().get(key)) is not None
                 and item.sensitivity in ("public", "internal")}  # readable on every card the user sees
        placed: set[int] = set()
        for card_id, item_id, text in (CurrentValue.objects.filter(card__in=cards.values("id"),
                                                                   item_id__in=[i.id for i in items.values()])
                                       .values_list("card_id", "item_id", "value_text").iterator(chunk_size=10_000)):
            item = next((i for i in items.values() if i.id == item_id), None)
            for key in (k for k in text.split("|") if k):
                groups[key].add(card_id)
                placed.add(card_id)
                if item is not None:
                    labels[key] = item.choice_label(key)
        rest = set(cards.order_by().values_list("id", flat=True)) - placed
        if rest:
            groups[""] |= rest
    elif dimension == "segment":
        from rapport.core.errors import DomainError
        from rapport.segments.selectors import filter_q, segments_for

        everyone = set(cards.order_by().values_list("id", flat=True))
        placed = set()
        for segment in segments_for(user)[:MAX_SEGMENTS]:
            try:
                members = set(cards.filter(filter_q(user, segment.kind, segment.conditions)).order_by()
                              .values_list("id", flat=True))
            except DomainError:  # a segment whose condition is no longer valid for this user
                continue
            key = str(segment.pk)
            groups[key] = members
            labels[key] = segment.name
            placed |= members
        if everyone - placed:
            groups[""] = everyone - placed
        labels[""] = _("In no saved segment")
    else:
        raise ValueError(f"unknown dimension {dimension!r}")
    labels.setdefault("", not_set)
    return dict(groups), {key: labels.get(key) or key for key in groups}


def _median_interval(days: Iterable[list[dt.date]]) -> float | None:
    gaps = [(b - a).days for ds in days for a, b in zip(ds, ds[1:])]
    return round(float(statistics.median(gaps)), 1) if gaps else None


def profile_report(user: Any, flt: Filters) -> ProfileReport:
    """The visible, live cards that existed (or had ordered) on the as-of date, grouped by ``flt.by``, with their
    buying habits over the period. A fixed number of queries per report (one more per saved
    segment when grouping by segment)."""
    from rapport.analytics.selectors import churn_report
    from rapport.commerce import money
    from rapport.commerce.evidence import _Rates, counted_orders
    from rapport.commerce.models import OrderLine

    check_period(flt)
    dimension = flt.by or "tier"
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}")
    # A card counts once it existed, or once it had ordered (history imported later still counts).
    cards = cards_for(user, flt).filter(Q(created_at__lte=end_of_day(flt.end)) | Q(
        pk__in=counted_orders().filter(ordered_on__lte=flt.end).values("card_id")))
    groups, labels = _membership(user, cards, dimension, flt.end)

    orders = counted_orders().filter(card__in=cards.values("id"), ordered_on__range=(flt.start, flt.end))
    rates = _Rates()
    days: dict[int, list[dt.date]] = defaultdict(list)
    order_count: dict[int, int] = defaultdict(int)
    revenue: dict[int, Decimal] = defaultdict(Decimal)
    weekdays: dict[int, Counter[int]] = defaultdict(Counter)
    months: dict[int, Counter[int]] = defaultdict(Counter)
    missing: set[str] = set()
    for card_id, day, currency, n, total in (
            orders.values("card_id", "ordered_on", "currency").annotate(n=Count("id"), s=Sum("total"))
            .order_by("card_id", "ordered_on").values_list("card_id", "ordered_on", "currency", "n", "s")
            .iterator(chunk_size=10_000)):
        if not days[card_id] or days[card_id][-1] != day:
            days[card_id].append(day)
        order_count[card_id] += n
        weekdays[card_id][day.weekday()] += n
        months[card_id][day.month] += n
        factor = rates.rate(currency, day)
        if factor is None:
            missing.add(currency)
        else:
            revenue[card_id] += Decimal(total or 0) * factor
    categories: dict[int, Counter[str]] = defaultdict(Counter)
    for card_id, category, n in (OrderLine.objects.filter(order__in=orders.values("id"), product__isnull=False)
                                 .exclude(product__category="").values("order__card_id", "product__category")
                                 .annotate(n=Count("order_id", distinct=True)).order_by()
                                 .values_list("order__card_id", "product__category", "n").iterator(chunk_size=10_000)):
        categories[card_id][category] += n
    churn = churn_report(user, as_of=flt.end, team=flt.team, rep=flt.rep)
    scored = {row.card_id for row in churn.rows if row.scored}
    flagged = {row.card_id for row in churn.rows if row.flagged}

    quantum = money.quantum(rates.base)
    weekday_words, month_words = weekday_names(), month_names()
    everyone = set().union(*groups.values()) if groups else set()

    def row(key: str, label: str, members: set[int]) -> ProfileRow:
        bought = [c for c in members if c in order_count]
        week: Counter[int] = Counter()
        year: Counter[int] = Counter()
        what: Counter[str] = Counter()
        for c in bought:
            week.update(weekdays[c])
            year.update(months[c])
            what.update(categories.get(c, Counter()))
        n_scored = len(members & scored)
        n_flagged = len(members & flagged)
        top_week = max(range(7), key=lambda d: (week[d], -d)) if week else None
        top_month = max(range(1, 13), key=lambda m: (year[m], -m)) if year else None
        return ProfileRow(
            dimension=dimension, key=key, label=label, cards=len(members),
            share_percent=round(len(members) / len(everyone) * 100, 1) if everyone else 0.0,
            buyers=len(bought), orders=sum(order_count[c] for c in bought),
            revenue=sum((revenue[c] for c in bought), Decimal(0)).quantize(quantum, ROUND_HALF_UP), currency=rates.base,
            scored=n_scored, flagged=n_flagged, risk_percent=round(n_flagged / n_scored * 100, 1) if n_scored else None,
            median_interval_days=_median_interval(days[c] for c in bought),
            busiest_weekday=weekday_words[top_week] if top_week is not None else "",
            busiest_month=month_words[top_month - 1] if top_month is not None else "",
            top_categories=", ".join(name for name, _n in sorted(what.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_CATEGORIES]),
            weekdays=tuple(week[d] for d in range(7)), months=tuple(year[m] for m in range(1, 13)),
        )

    rows = [row(key, labels[key], members) for key, members in groups.items() if members]
    rows.sort(key=lambda r: (r.key == "", -r.cards, r.label.lower()))
    total = row("", _("All customers"), everyone)
    return ProfileReport(start=flt.start, end=flt.end, dimension=dimension, currency=rates.base, rows=rows, total=total,
                         missing_rates=sorted(missing))


# --- the chart: cards per group, and the orders of every weekday ------------------------------------------

BAR_LABEL, BAR_WIDTH, BAR_ROW, MAX_BARS = 110, 200, 26, 12


def chart(report: ProfileReport) -> dict[str, Any] | None:
    if not report.rows:
        return None
    shown = report.rows[:MAX_BARS]
    top = max(r.cards for r in shown) or 1
    bars = []
    for i, r in enumerate(shown):
        width = round(BAR_WIDTH * r.cards / top)
        buyers = round(BAR_WIDTH * r.buyers / top)
        bars.append({"label": r.label[:16], "cards": r.cards, "buyers": r.buyers, "width": width, "buyers_width": buyers,
                     "y": i * BAR_ROW + 4, "text_y": i * BAR_ROW + 18, "value_x": BAR_LABEL + width + 6})
    week = report.total.weekdays
    peak = max(week) or 1
    names = weekday_names()
    columns = []
    for d in range(7):
        height = round(90 * week[d] / peak)
        columns.append({"label": names[d][:3], "orders": week[d], "x": 10 + d * 44, "height": height, "y": 110 - height,
                        "text_x": 10 + d * 44 + 16, "value_y": 104 - height})
    return {"bars": bars, "label_width": BAR_LABEL, "width": BAR_LABEL + BAR_WIDTH + 70, "height": len(bars) * BAR_ROW + 8,
            "weekdays": columns, "has_orders": any(week)}


def _columns() -> tuple[Column, ...]:
    return (
        Column("dimension", gettext_lazy("Grouped by"), shown=False),
        Column("key", gettext_lazy("Key"), shown=False),
        Column("label", gettext_lazy("Group")),
        Column("cards", gettext_lazy("Cards"), "int"),
        Column("share_percent", gettext_lazy("Share"), "percent"),
        Column("buyers", gettext_lazy("Buyers"), "int"),
        Column("orders", gettext_lazy("Orders"), "int"),
        Column("revenue", gettext_lazy("Revenue"), "money"),
        Column("currency", gettext_lazy("Currency"), shown=False),
        Column("scored", gettext_lazy("Regulars"), "int", shown=False),
        Column("flagged", gettext_lazy("Gone silent"), "int"),
        Column("risk_percent", gettext_lazy("Silent share"), "percent"),
        Column("median_interval_days", gettext_lazy("Usual interval"), "days"),
        Column("busiest_weekday", gettext_lazy("Busiest weekday")),
        Column("busiest_month", gettext_lazy("Busiest month")),
        Column("top_categories", gettext_lazy("Top categories")),
    )


SPEC = ReportSpec(
    name="profile", title=gettext_lazy("Customer profile"),
    summary="Customers by tier, kind, region, country, industry, sales channel, stage or saved segment, with risk and buying habits",
    build=profile_report, columns=_columns(), chart=chart, chart_template="analytics/_profile_chart.html",
    filters=("by", "period", "team", "rep", "segment"), by_keys=DIMENSIONS, by_choices=lambda: list(dimension_labels().items()),
    default_by="tier", empty_text=gettext_lazy("No card you can see matches these filters."), rows_word="group(s)",
)
