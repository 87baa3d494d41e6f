"""Reports on deals: the weighted forecast by month of expected close, and the pipeline (open
deals per step, conversion between steps, time spent in each step, win rate and why deals
are lost). Read-only; every query starts from ``visible_deals``.

Both answer plain JSON-able data: amounts as strings with two decimals, months as ISO keys
("2026-12"), one series per currency (amounts in different currencies are never added up).
They aggregate in the database (GROUP BY over covering indexes: ``deal_forecast``,
``deal_pipeline``, ``deal_reached``, ``deal_closed``, ``deal_step_move_time``) and never walk
deals or moves one by one in Python. Timings at
300,000 deals and the indexes the reports need: bench/README.md, "Deals".
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.core.errors import ValidationError
from rapport.core.visibility import scope_for
from rapport.deals.content import reason_label
from rapport.deals.models import STEP_ORDER, Deal, Status, Step, StepMove
from rapport.deals.selectors import visible_deals

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MAX_MONTHS = 36


# --- shared helpers -----------------------------------------------------------------------------------


def _scoped(user: Any, owner_id: int | None, team_id: int | None) -> QuerySet[Deal]:
    """The visible deals, narrowed to one owner and/or one team (the deal's own, who works it)."""
    deals = visible_deals(user)
    if owner_id is not None:
        deals = deals.filter(owner_id=owner_id)
    if team_id is not None:
        deals = deals.filter(team_id=team_id)
    return deals.order_by()


def _money(value: Decimal | None) -> str:
    return str((value or ZERO).quantize(CENT))


def _add_months(first: dt.date, n: int) -> dt.date:
    months = first.year * 12 + first.month - 1 + n
    return dt.date(months // 12, months % 12 + 1, 1)


def _month_key(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in the site's time zone, so months follow local dates."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


# --- forecast -----------------------------------------------------------------------------------------


class _Bucket:
    """Count, amount and weighted amount of open deals, added up in Python from daily groups."""

    __slots__ = ("count", "amount", "weighted")

    def __init__(self) -> None:
        self.count = 0
        self.amount = ZERO
        self.weighted = ZERO

    def add(self, count: int, amount: Decimal | None, weighted: Decimal | None) -> None:
        self.count += count
        self.amount += amount or ZERO
        self.weighted += weighted or ZERO

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "amount": _money(self.amount), "weighted": _money(self.weighted)}


def forecast(
    user: Any,
    *,
    owner_id: int | None = None,
    team_id: int | None = None,
    start: dt.date | None = None,
    months: int = 12,
) -> dict[str, Any]:
    """The weighted forecast of the open deals ``user`` may see, by month of expected close,
    from the month of ``start`` (default: this month) for ``months`` months, per currency.

    Each month holds the open deals expected to close in it (count, amount, weighted amount:
    the amount times the deal's probability, kept on the deal) and what was won in it (deals
    won with ``closed_at`` in that month, local time). Open deals expected to close before
    ``start``'s month are "overdue", those with no expected close "no_date", those after the
    last month "later"; "open" totals every open deal of the currency. Two queries.
    """
    if not 1 <= months <= MAX_MONTHS:
        raise ValidationError.single("months", _("Choose between 1 and %(max)d months.") % {"max": MAX_MONTHS})
    first = (start or timezone.localdate()).replace(day=1)
    month_starts = [_add_months(first, i) for i in range(months + 1)]
    keys = [_month_key(m) for m in month_starts[:-1]]
    end = month_starts[-1]
    deals = _scoped(user, owner_id, team_id)

    # Grouped by day rather than by month: a day is a plain column of the deal_forecast index
    # (status, expected_close, currency, weighted, amount, …), read in order without a sort or
    # a per-row date function; the few hundred days are folded into months here.
    open_deals = deals.filter(status=Status.OPEN)
    if owner_id is not None or team_id is not None:
        # A rep's or a team's few rows, one by one: see _open_by_step.
        open_rows: Any = ((day, currency, 1, amount, weighted) for day, currency, amount, weighted
                          in open_deals.values_list("expected_close", "currency", "amount", "weighted"))
    else:
        open_rows = (
            open_deals.values_list("expected_close", "currency")
            .annotate(n=Count("id"), amount=Sum("amount"), weighted=Sum("weighted"))
            .values_list("expected_close", "currency", "n", "amount", "weighted")
        )
    buckets: dict[str, dict[str, _Bucket]] = defaultdict(lambda: defaultdict(_Bucket))
    for day, currency, n, amount, weighted in open_rows:
        if day is None:
            key = "no_date"
        elif day < first:
            key = "overdue"
        elif day >= end:
            key = "later"
        else:
            key = _month_key(day)
        buckets[currency][key].add(n, amount, weighted)
        buckets[currency]["open"].add(n, amount, weighted)

    # Won amounts: one conditional sum per month over the deals won in the window. Comparing
    # closed_at with each month's first instant keeps to the index-friendly column and to the
    # site's time zone, where truncating each row's datetime would call a function per row.
    bounds = [_day_start(m) for m in month_starts]
    won_aggregates: dict[str, Any] = {}
    for i, key in enumerate(keys):
        in_month = Q(closed_at__gte=bounds[i], closed_at__lt=bounds[i + 1])
        won_aggregates[f"n{i}"] = Count("id", filter=in_month)
        won_aggregates[f"a{i}"] = Sum("amount", filter=in_month)
    won_rows = (
        deals.filter(status=Status.WON, closed_at__gte=bounds[0], closed_at__lt=bounds[-1])
        .values("currency").annotate(**won_aggregates)
    )
    won: dict[str, dict[str, tuple[int, Decimal | None]]] = {}
    for won_row in won_rows:
        values: dict[str, Any] = dict(won_row)
        won[values["currency"]] = {key: (values[f"n{i}"], values[f"a{i}"]) for i, key in enumerate(keys)}

    series: dict[str, Any] = {}
    for currency in sorted(set(buckets) | set(won)):
        own = buckets.get(currency, {})
        won_here = won.get(currency, {})
        by_month = {}
        for key in keys:
            bucket = own.get(key) or _Bucket()
            won_count, won_amount = won_here.get(key, (0, None))
            by_month[key] = {**bucket.as_dict(), "won_count": won_count, "won_amount": _money(won_amount)}
        series[currency] = {
            "months": by_month,
            **{key: (own.get(key) or _Bucket()).as_dict() for key in ("overdue", "no_date", "later", "open")},
            "won_count": sum(count for count, _amount in won_here.values()),
            "won_amount": _money(sum((amount or ZERO for _count, amount in won_here.values()), ZERO)),
        }
    return {
        "start": first.isoformat(),
        "months": keys,
        "currencies": list(series),
        "series": series,
    }


# --- pipeline -----------------------------------------------------------------------------------------


def _check_period(since: dt.date | None, until: dt.date | None) -> None:
    if since is not None and until is not None and since > until:
        raise ValidationError.single("since", _("The start of the period is after its end."))


def _between(column: str, since: dt.date | None, until: dt.date | None) -> Q:
    """``column`` within the period, both ends included as whole local days."""
    q = Q()
    if since is not None:
        q &= Q(**{f"{column}__gte": _day_start(since)})
    if until is not None:
        q &= Q(**{f"{column}__lt": _day_start(until + dt.timedelta(days=1))})
    return q


def pipeline(
    user: Any,
    *,
    owner_id: int | None = None,
    team_id: int | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> dict[str, Any]:
    """The pipeline of the deals ``user`` may see, for the period from ``since`` to ``until``
    (inclusive, local dates; either end may be open).

    - ``steps``: per step, the open deals now, with count and amount per currency;
    - ``conversion``: per pair of consecutive steps, of the deals that ever reached step n (a
      step move into it), how many reached step n+1 or a later one, or were won — a deal counts
      once per step however often it came back to it; not limited to the period;
    - ``time_in_step``: per step, the moves that left it during the period and the average
      days spent in it before them (``seconds_in_previous`` of those moves);
    - ``win_rate``: won / (won + lost) among deals closed in the period;
    - ``lost_reasons``: the reasons of the deals lost in the period, most frequent first.

    Four queries.
    """
    _check_period(since, until)
    deals = _scoped(user, owner_id, team_id)

    steps: dict[str, dict[str, Any]] = {
        step: {"label": str(Step(step).label), "count": 0, "by_currency": {}} for step in STEP_ORDER
    }
    # Narrowed to a rep or a team, the rows are few and added up here (see _open_by_step); over
    # everything a user may see, SQL groups them from indexes that carry the visibility columns.
    filtered = owner_id is not None or team_id is not None
    narrowed = filtered or not scope_for(user).sees_everything
    for step, currency, n, amount in _open_by_step(deals, filtered):
        if step in steps:
            steps[step]["count"] += n
            steps[step]["by_currency"][currency] = {"count": n, "amount": _money(amount)}
    conversion = _conversion(deals, filtered)
    time_in_step = _time_in_step(deals, narrowed, since, until)

    closed = (
        deals.filter(Q(status=Status.WON) | Q(status=Status.LOST), _between("closed_at", since, until))
        .values_list("status", "close_reason").annotate(n=Count("id")).values_list("status", "close_reason", "n")
    )
    outcome = {Status.WON.value: 0, Status.LOST.value: 0}
    lost_reasons: dict[str, int] = defaultdict(int)
    for status, reason, n in closed:
        outcome[status] += n
        if status == Status.LOST:
            lost_reasons[reason] += n
    won, lost = outcome[Status.WON], outcome[Status.LOST]
    return {
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "steps": steps,
        "conversion": conversion,
        "time_in_step": time_in_step,
        "won": won,
        "lost": lost,
        "win_rate": _rate(won, won + lost),
        "lost_reasons": [
            {"reason": key, "label": reason_label("lost", key) if key else _("No reason given"), "count": n}
            for key, n in sorted(lost_reasons.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
    }


def _open_by_step(deals: QuerySet[Deal], filtered: bool) -> list[tuple[str, str, int, Decimal]]:
    """Open deals per (step, currency) with their count and amount.

    Over every deal a user may see, a GROUP BY read in order from the ``deal_pipeline`` index
    (which carries the visibility columns). Filtered to a rep or a team, the rows are few and
    added up here: a GROUP BY would tempt SQLite into that same index, past the owner's or
    team's own index range.
    """
    rows = deals.filter(status=Status.OPEN)
    if not filtered:
        return list(rows.values_list("step", "currency").annotate(n=Count("id"), amount=Sum("amount"))
                    .values_list("step", "currency", "n", "amount"))
    sums: dict[tuple[str, str], list[Any]] = {}
    for step, currency, amount in rows.values_list("step", "currency", "amount"):
        entry = sums.setdefault((step, currency), [0, Decimal("0")])
        entry[0] += 1
        entry[1] += amount
    return [(step, currency, n, amount) for (step, currency), (n, amount) in sorted(sums.items())]


def _conversion(deals: QuerySet[Deal], filtered: bool) -> list[dict[str, Any]]:
    """Of the deals that ever entered step n, how many entered a later step or were won.

    Each deal keeps the steps it has entered as a bit mask (``steps_reached``), so this is one
    count of deals by (mask, status) — at most a few hundred groups — read from the
    ``deal_reached`` index, whatever the number of moves.
    """
    entered = [0] * len(STEP_ORDER)
    converted = [0] * len(STEP_ORDER)
    if filtered:  # few rows: counted here, for the same reason as in _open_by_step
        counted: dict[tuple[int, str], int] = defaultdict(int)
        for key in deals.values_list("steps_reached", "status"):
            counted[key] += 1
        groups = [(mask, status, n) for (mask, status), n in counted.items()]
    else:
        groups = list(deals.values_list("steps_reached", "status").annotate(n=Count("id")).values_list("steps_reached", "status", "n"))
    for mask, status, n in groups:
        for i in range(len(STEP_ORDER)):
            if mask & (1 << i):
                entered[i] += n
                if mask >> (i + 1) or status == Status.WON:
                    converted[i] += n
    return [
        {"from": a, "to": b, "entered": entered[i], "converted": converted[i], "rate": _rate(converted[i], entered[i])}
        for i, (a, b) in enumerate(zip(STEP_ORDER, STEP_ORDER[1:]))
    ]


def _time_in_step(deals: QuerySet[Deal], narrowed: bool, since: dt.date | None, until: dt.date | None) -> dict[str, dict[str, Any]]:
    """Per step, the moves that left it in the period and the average days spent in it before
    them, read from the ``deal_step_move_time`` index."""
    moves = StepMove.objects.order_by().exclude(from_step="").filter(_between("moved_at", since, until), seconds_in_previous__isnull=False)
    if narrowed:
        moves = moves.filter(deal__in=deals.values("id"))
    left: dict[str, int] = defaultdict(int)
    seconds: dict[str, int] = defaultdict(int)
    for from_step, n, total in moves.values_list("from_step").annotate(n=Count("id"), seconds=Sum("seconds_in_previous")).values_list("from_step", "n", "seconds"):
        left[from_step] += n
        seconds[from_step] += total or 0
    return {
        step: {"moves": left[step], "average_days": round(seconds[step] / left[step] / 86400, 1) if left[step] else None}
        for step in STEP_ORDER
    }
