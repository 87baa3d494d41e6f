"""Read use-cases of the commercial record. Orders, invoices and payments are visible exactly as
their customer's card is: every query here starts from ``visible_to``."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Case, Count, DateField, DecimalField, F, FloatField, IntegerField, Min, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from rapport.core import sql
from rapport.cards.models import Card
from rapport.commerce.models import (
    MONEY,
    ZERO,
    Allocation,
    AccountCheck,
    Cell,
    CollectionPolicy,
    CreditProfile,
    OPEN_INVOICE,
    Invoice,
    InvoiceKind,
    Order,
    OrderStatus,
    Payment,
    PaymentKind,
    Product,
)
from rapport.core.visibility import disjoint_branches, get_visible, scope_for, visible_records, visible_to


def visible_orders(user: Any) -> QuerySet[Order]:
    return visible_records(user, Order.objects.all())


def visible_invoices(user: Any) -> QuerySet[Invoice]:
    return visible_records(user, Invoice.objects.all())


def visible_payments(user: Any) -> QuerySet[Payment]:
    return visible_records(user, Payment.objects.all())


def get_order(user: Any, order_id: Any) -> Order:
    return get_visible(visible_orders(user).select_related("card", "approved_by"), order_id, "order")


def get_invoice(user: Any, invoice_id: Any) -> Invoice:
    return get_visible(visible_invoices(user).select_related("card", "order"), invoice_id, "invoice")


def get_payment(user: Any, payment_id: Any) -> Payment:
    return get_visible(visible_payments(user).select_related("card"), payment_id, "payment")


def get_product(product_id: Any) -> Product:
    return get_visible(Product.objects.all(), product_id, "product")


def order_lines(order: Order) -> list[Any]:
    return list(order.lines.select_related("product"))


def credit_of(card: Card) -> CreditProfile | None:
    return CreditProfile.objects.filter(card=card).select_related("set_by").first()


@dataclass(frozen=True)
class CardRecord:
    """Which kinds of commercial rows one card has at all. Most cards have no orders, invoices or
    payments: the card page reads this first and skips the queries whose answer is then known."""

    orders: bool
    invoices: bool
    payments: bool
    credit: bool  # a credit profile is set


@functools.cache
def _card_record_sql() -> str:
    # Written once per process (``rapport.core.sql.exists``).
    return "SELECT " + ", ".join(sql.exists(m, f"{sql.column(m, 'card')} = %s") for m in (Order, Invoice, Payment, CreditProfile))


def card_record(card: Card) -> CardRecord:
    """What commercial rows ``card`` has, in one query; the caller has fetched the card through
    visibility, and its rows are visible exactly as it is."""
    orders, invoices, payments, credit = sql.one_row(_card_record_sql(), [card.pk] * 4)
    return CardRecord(orders=bool(orders), invoices=bool(invoices), payments=bool(payments), credit=bool(credit))


def pending_approvals(user: Any) -> QuerySet[Order]:
    """Orders waiting for a credit decision that this user may see."""
    return visible_orders(user).filter(approval="pending").select_related("card").order_by("ordered_on", "id")


# --- the account statement ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementLine:
    date: dt.date
    kind: str  # invoice | credit_note | payment | advance | deposit
    number: str
    due_on: dt.date | None
    debit: Decimal  # what the customer came to owe
    credit: Decimal  # what they paid or were credited
    balance: Decimal  # running balance after this line
    open_amount: Decimal | None  # invoices and credit notes: what is still open
    overdue_days: int  # 0 unless an invoice is open past its due date
    record_id: int


@dataclass
class Statement:
    card: Card
    currency: str
    currencies: list[str]
    date_from: dt.date | None
    date_to: dt.date
    opening_balance: Decimal
    lines: list[StatementLine]
    invoiced: Decimal = ZERO
    paid: Decimal = ZERO
    balance: Decimal = ZERO
    overdue: Decimal = ZERO
    advances: Decimal = ZERO  # unallocated advances
    deposits: Decimal = ZERO  # unallocated deposits
    last_check: AccountCheck | None = None
    aging: dict[str, Decimal] = field(default_factory=dict)


def statement_currencies(card: Card) -> list[str]:
    invoices = Invoice.objects.filter(card=card).order_by().values_list("currency", flat=True).distinct()
    payments = Payment.objects.filter(card=card).order_by().values_list("currency", flat=True).distinct()
    return sorted(set(invoices.union(payments)))


AGING_BUCKETS = ("current", "1_30", "31_60", "61_90", "over_90")


def bucket_of(days_overdue: int) -> str:
    if days_overdue <= 0:
        return "current"
    if days_overdue <= 30:
        return "1_30"
    if days_overdue <= 60:
        return "31_60"
    if days_overdue <= 90:
        return "61_90"
    return "over_90"


def account_statement(card: Card, *, currency: str | None = None, date_from: dt.date | None = None,
                      date_to: dt.date | None = None, as_of: dt.date | None = None,
                      currencies: list[str] | None = None, with_last_check: bool = True) -> Statement:
    """A customer's account in one currency: opening balance before ``date_from``, every invoice,
    credit note and payment in the period with the running balance, and what is overdue.

    Reads each of the customer's documents in that currency once (a customer has thousands at
    most) and sorts them out here: before the period, in it, and still open. The caller has
    already fetched ``card`` through visibility. A caller that knows the card's
    ``statement_currencies`` passes them; the card page's balance needs no ``last_check``.
    """
    if currencies is None:
        currencies = statement_currencies(card)
    cur = currency or (currencies[0] if currencies else "")
    today = as_of or timezone.localdate()
    end = date_to or today
    start = date_from or dt.date.min
    statement = Statement(card=card, currency=cur, currencies=currencies, date_from=date_from, date_to=end,
                          opening_balance=ZERO, lines=[])
    aging = {b: ZERO for b in AGING_BUCKETS}
    opening = ZERO
    # (date, payments after invoices of the same day, id, kind, number, due, debit, credit, open amount)
    entries: list[tuple[dt.date, int, int, str, str, dt.date | None, Decimal, Decimal, Decimal | None]] = []
    invoice_rows = Invoice.objects.filter(card=card, currency=cur, cancelled=False).order_by().values_list(
        "id", "kind", "external_id", "issued_on", "due_on", "amount", "open_amount", "is_open"
    )
    for pk, kind, number, issued, due, amount, open_amount, is_open in invoice_rows:
        is_invoice = kind == InvoiceKind.INVOICE
        if is_invoice and is_open:
            # What is overdue and how old, as of today, over every open invoice (not only the period's).
            aging[bucket_of((today - due).days)] += open_amount
        if issued > end:
            continue
        if issued < start:
            opening += amount if is_invoice else -amount
            continue
        entries.append((issued, 0, pk, kind, number or f"#{pk}", due if is_invoice else None,
                        amount if is_invoice else ZERO, ZERO if is_invoice else amount, open_amount))
    payment_rows = Payment.objects.filter(card=card, currency=cur).order_by().values_list(
        "id", "kind", "external_id", "received_on", "amount", "unallocated"
    )
    for pk, kind, number, received, amount, unallocated in payment_rows:
        if unallocated:
            if kind == PaymentKind.ADVANCE:
                statement.advances += unallocated
            elif kind == PaymentKind.DEPOSIT:
                statement.deposits += unallocated
        if received > end:
            continue
        if received < start:
            opening -= amount
            continue
        entries.append((received, 1, pk, kind, number or f"#{pk}", None, ZERO, amount, None))
    entries.sort(key=lambda e: (e[0], e[1], e[2]))
    balance = opening
    lines = statement.lines
    invoiced = paid = ZERO
    for when, _later, pk, kind, number, due_on, debit, credit, left in entries:
        balance += debit - credit
        overdue = (today - due_on).days if due_on is not None and left and due_on < today else 0
        lines.append(StatementLine(when, kind, number, due_on, debit, credit, balance, left, overdue, pk))
        invoiced += debit
        paid += credit
    statement.opening_balance, statement.balance, statement.invoiced, statement.paid = opening, balance, invoiced, paid
    statement.aging = aging
    statement.overdue = sum((v for k, v in aging.items() if k != "current"), ZERO)
    if with_last_check:
        statement.last_check = AccountCheck.objects.filter(card=card, currency=cur).order_by("-as_of", "-id").first()
    return statement


def allocations_of_invoice(invoice: Invoice) -> list[Allocation]:
    return list(invoice.allocations.select_related("invoice", "payment", "credit_note").order_by("created_at", "id"))


# --- receivables: aging and the collection matrix ----------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    long_after_days: int
    large_from: Decimal


DEFAULT_LONG_AFTER_DAYS = 30
AMOUNT_STEP = Decimal(1).scaleb(-MONEY["decimal_places"])  # the smallest amount an invoice carries


def thresholds(team_id: int | None, currency: str, policies: dict[tuple[int | None, str], Thresholds] | None = None) -> Thresholds | None:
    """The team's thresholds for a currency, else the currency's default; ``None`` when neither is set."""
    table = policies if policies is not None else policy_table()
    return table.get((team_id, currency)) or table.get((None, currency))


def policy_table() -> dict[tuple[int | None, str], Thresholds]:
    return {
        (p.team_id, p.currency): Thresholds(p.long_after_days, p.large_from)
        for p in CollectionPolicy.objects.all()
    }


def cell_of(days_overdue: int, amount: Decimal, limits: Thresholds | None) -> str:
    """The matrix cell of an overdue invoice; without thresholds every amount counts as small."""
    long_after = limits.long_after_days if limits else DEFAULT_LONG_AFTER_DAYS
    large = limits is not None and amount >= limits.large_from
    if days_overdue > long_after:
        return Cell.LONG_LARGE if large else Cell.LONG_SMALL
    return Cell.SHORT_LARGE if large else Cell.SHORT_SMALL


@dataclass
class CellTotal:
    count: int = 0
    amounts: dict[str, Decimal] = field(default_factory=dict)  # per currency


@dataclass
class Matrix:
    as_of: dt.date
    cells: dict[str, CellTotal]
    aging: dict[str, dict[str, Decimal]]  # bucket -> currency -> open amount
    aging_counts: dict[str, int]


def _invoice_parts(user: Any, *, team: int | None = None, rep: int | None = None, segment: int | None = None,
                   card: int | None = None) -> list[Q]:
    """Filters on open invoices (not credit notes) that the user may see, narrowed by the card's
    team, owner, a segment or one card, as disjoint parts whose union is the whole.

    Invoices carry copies of their card's owner and team, so each branch of the user's
    visibility (a team, their own cards, the people they manage, shares) reads an index range
    of its own instead of checking the card of every open invoice.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    base = OPEN_INVOICE  # an open invoice is never a cancelled one
    if team is not None:
        base &= Q(team_id=team)
    if rep is not None:
        base &= Q(owner_id=rep)
    if card is not None:
        base &= Q(card_id=card)
    if segment is not None:
        from rapport.segments.selectors import apply_segment

        base &= Q(card_id__in=apply_segment(user, visible_to(user), segment).values("id"))
    scope = scope_for(user)
    if scope.sees_everything:
        return [base]
    return [base & branch for branch in disjoint_branches(scope.card_q(id_field="card_id"))]


def open_invoices(user: Any, *, team: int | None = None, rep: int | None = None, segment: int | None = None,
                  card: int | None = None) -> QuerySet[Invoice]:
    """Open invoices (not credit notes) the user may see, narrowed by the card's team, owner or a segment."""
    parts = _invoice_parts(user, team=team, rep=rep, segment=segment, card=card)
    if not parts:
        return Invoice.objects.none()
    combined = parts[0]
    for part in parts[1:]:
        combined |= part
    return Invoice.objects.filter(combined)


def _by_policy(policies: dict[tuple[int | None, str], Thresholds], value: Any, default: Any, output_field: Any) -> Case:
    """An invoice's value of a threshold, by its team and currency: the team's own first, then the
    currency's default, else ``default``."""
    return Case(
        *[When(Q(team_id=t, currency=c), then=Value(value(limits))) for (t, c), limits in policies.items() if t is not None],
        *[When(Q(currency=c), then=Value(value(limits))) for (t, c), limits in policies.items() if t is None],
        default=Value(default), output_field=output_field,
    )


def _is_large(policies: dict[tuple[int | None, str], Thresholds]) -> Q:
    """An open invoice at or above the "large" threshold of its team and currency. One comparison
    per invoice, the thresholds as numbers, costs less than a count per threshold in force;
    without thresholds for its currency nothing is large."""
    # Above any amount (money.MAX_AMOUNT) rather than NULL, so that "not large" is plain SQL too.
    return Q(open_amount__gte=_by_policy(policies, lambda limits: float(limits.large_from), 1e15, FloatField()))


def _is_long(policies: dict[tuple[int | None, str], Thresholds], today: dt.date) -> Q:
    """An invoice overdue longer than its team's and currency's "long after" days."""
    cutoff = _by_policy(policies, lambda limits: today - dt.timedelta(days=limits.long_after_days),
                        today - dt.timedelta(days=DEFAULT_LONG_AFTER_DAYS), DateField())
    return Q(due_on__lt=cutoff)


def receivables_matrix(user: Any, *, as_of: dt.date | None = None, team: int | None = None, rep: int | None = None,
                       segment: int | None = None) -> Matrix:
    """Every overdue invoice in exactly one cell, with counts and amounts per currency, and the
    aging of every open invoice (current, 1–30, 31–60, 61–90, over 90 days).

    Someone who sees every invoice, unfiltered, gets the totals of one slice of the ledger at a
    time (``_matrix_by_slice``). Otherwise the database counts and sums the open invoices per
    currency and due date (and team, when some team has thresholds of its own), with the count
    and sum of those at or above each "large" threshold in force, streaming the groups out of
    an index in its own order; the groups are then placed in their cells here. A user who sees
    part of the data gets one such query per branch of their visibility, the branches being
    disjoint.
    """
    today = as_of or timezone.localdate()
    policies = policy_table()
    parts = _invoice_parts(user, team=team, rep=rep, segment=segment)
    if parts and team is None and rep is None and segment is None and scope_for(user).sees_everything:
        return _matrix_by_slice(today, policies)
    return _matrix_by_group(parts, today, policies)


def _matrix_by_group(parts: list[Q], today: dt.date, policies: dict[tuple[int | None, str], Thresholds]) -> Matrix:
    """The matrix and the aging of the open invoices matching any of ``parts`` (disjoint), one
    grouped query per part."""
    team_policies = any(team_id is not None for team_id, _c in policies)
    group = ["currency", "due_on"] + (["team_id"] if team_policies else [])
    is_large = _is_large(policies)
    sums: dict[str, Any] = {
        "n": Count("id"), "s": Sum("open_amount"),
        "n_large": Sum(Case(When(is_large, then=Value(1)), default=Value(0), output_field=IntegerField())),
        "s_large": Sum(Case(When(is_large, then=F("open_amount")), default=Value(0), output_field=DecimalField())),
    }
    totals = _Totals(today)
    for part in parts:
        qs = Invoice.objects.filter(part, issued_on__lte=today).values(*group).annotate(**sums).order_by()
        for row in _raw_rows(qs):
            currency = row["currency"]
            limits = thresholds(row.get("team_id"), currency, policies)
            totals.add(currency, row["due_on"], limits, 1, row["n"], row["s"], row["n_large"] or 0, row["s_large"])
    return totals.matrix()


class _Totals:
    """Counts and amounts per currency in the aging buckets and the matrix's cells, added up (or
    taken away: ``sign``) one due date at a time; the matrix keeps a currency in a bucket or a
    cell only when some invoice is there."""

    def __init__(self, today: dt.date) -> None:
        self.today = today
        self.aging: dict[tuple[str, str], list[Any]] = {}  # (bucket, currency) -> [count, amount]
        self.cells: dict[tuple[str, str], list[Any]] = {}  # (cell, currency) -> [count, amount]

    def add(self, currency: str, due_on: dt.date, limits: Thresholds | None, sign: int, n: int, s: Decimal,
            n_large: int, s_large: Decimal) -> None:
        days = (self.today - due_on).days
        self._put(self.aging, (bucket_of(days), currency), sign * n, sign * s)
        if days <= 0:
            return
        long_after = limits.long_after_days if limits else DEFAULT_LONG_AFTER_DAYS
        small_cell, large_cell = (Cell.LONG_SMALL, Cell.LONG_LARGE) if days > long_after else (Cell.SHORT_SMALL, Cell.SHORT_LARGE)
        self._put(self.cells, (small_cell, currency), sign * (n - n_large), sign * (s - s_large))
        self._put(self.cells, (large_cell, currency), sign * n_large, sign * s_large)

    @staticmethod
    def _put(into: dict[tuple[str, str], list[Any]], key: tuple[str, str], n: int, s: Decimal) -> None:
        total = into.get(key)
        if total is None:
            into[key] = [n, s]
        else:
            total[0] += n
            total[1] += s

    def matrix(self) -> Matrix:
        cells = {c: CellTotal() for c in Cell.values}
        aging: dict[str, dict[str, Decimal]] = {b: {} for b in AGING_BUCKETS}
        aging_counts = {b: 0 for b in AGING_BUCKETS}
        for (bucket, currency), (n, s) in sorted(self.aging.items(), key=lambda item: item[0][1]):
            if n:
                aging[bucket][currency] = ZERO + s
                aging_counts[bucket] += n
        for (cell, currency), (n, s) in sorted(self.cells.items(), key=lambda item: item[0][1]):
            _add(cells[cell], currency, n, ZERO + s)
        return Matrix(as_of=self.today, cells=cells, aging=aging, aging_counts=aging_counts)


def _matrix_by_slice(today: dt.date, policies: dict[tuple[int | None, str], Thresholds]) -> Matrix:
    """The matrix and the aging of every open invoice, one currency at a time: all its invoices
    with the currency's default thresholds, then, for each team with thresholds of its own in
    that currency, the team's invoices taken away as counted with the default and added back
    with the team's. Each slice has its thresholds as constants of its queries and is read in the
    order of an index (per currency, or per team and currency) grouped by due date only: no
    choice among every threshold in force per invoice, and a few hundred groups instead of one
    per currency, due date and team."""
    totals = _Totals(today)
    for currency in _open_currencies():
        default = policies.get((None, currency))
        for due_on, n, s, (n_large, s_large) in _day_totals(Q(currency=currency), today, [default]):
            totals.add(currency, due_on, default, 1, n, s, n_large, s_large)
        own = [(team_id, limits) for (team_id, c), limits in policies.items() if team_id is not None and c == currency]
        for team_id, limits in own:
            for due_on, n, s, as_default, as_own in _day_totals(Q(currency=currency, team_id=team_id), today, [default, limits]):
                totals.add(currency, due_on, default, -1, n, s, *as_default)
                totals.add(currency, due_on, limits, 1, n, s, *as_own)
    return totals.matrix()


def _open_currencies() -> list[str]:
    """The currencies of the open invoices, each found by one step along the receivables index
    (the smallest currency above the last one), not by reading the invoices."""
    found: list[str] = []
    base = Invoice.objects.filter(OPEN_INVOICE).order_by()
    while True:
        qs = base.filter(currency__gt=found[-1]) if found else base
        currency = qs.aggregate(c=Min("currency"))["c"]
        if currency is None:
            return found
        found.append(currency)


def _day_totals(where: Q, today: dt.date, limits: list[Thresholds | None]) -> list[tuple[Any, ...]]:
    """Open invoices issued by ``today`` matching ``where``, per due date: (due date, count, sum,
    then per thresholds in ``limits`` (count, sum) of those at or above its "large" amount;
    without thresholds nothing is large).

    The large ones are read apart, per due date from the threshold on: the receivables indexes
    order the amounts within a currency and due date, so they are a range of each due date's
    rows rather than a test of every invoice."""
    base = Invoice.objects.filter(OPEN_INVOICE, where, issued_on__lte=today).order_by()
    days = _raw_rows(base.values("due_on").annotate(n=Count("*"), s=Sum("open_amount")))
    large: list[dict[dt.date, tuple[int, Decimal]]] = []
    for each in limits:
        found: dict[dt.date, tuple[int, Decimal]] = {}
        if each is not None:
            above = base.filter(open_amount__gte=_amount_value(each.large_from))
            for start in range(0, len(days), DAYS_PER_QUERY):
                dates = [row["due_on"] for row in days[start:start + DAYS_PER_QUERY]]
                qs = above.filter(due_on__in=dates).values("due_on").annotate(n=Count("*"), s=Sum("open_amount"))
                found.update((row["due_on"], (row["n"], row["s"])) for row in _raw_rows(qs))
        large.append(found)
    return [
        (row["due_on"], row["n"], row["s"], *[found.get(row["due_on"], (0, ZERO)) for found in large])
        for row in days
    ]


DAYS_PER_QUERY = 2000  # due dates looked up per query (SQLite takes at most 32,766 parameters)


def _amount_value(amount: Decimal) -> Value:
    """A threshold as a constant of the query, of the type the amounts are read as: a number on
    SQLite (which keeps amounts as numbers), a decimal elsewhere."""
    if connection.vendor == "sqlite":
        return Value(float(amount), output_field=FloatField())
    return Value(amount, output_field=DecimalField())


def _raw_rows(qs: QuerySet[Any]) -> list[dict[str, Any]]:
    """The rows of a grouped query without Django's per-value converters, which cost more than
    the query itself over the few thousand groups of a large ledger; dates and sums are
    converted here (SQLite answers text dates and float sums, PostgreSQL dates and decimals)."""
    sql, params = qs.query.sql_with_params()
    names = [*qs.query.values_select, *qs.query.annotation_select]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    rows = []
    for values in fetched:
        row = dict(zip(names, values))
        if isinstance(row.get("due_on"), str):
            row["due_on"] = dt.date.fromisoformat(row["due_on"])
        for key, value in row.items():
            if isinstance(value, float):
                # Sums of amounts with four decimals, off by far less than a hundredth of one.
                row[key] = Decimal(repr(value)).quantize(AMOUNT_STEP)
            elif value is None and key.startswith("s"):
                row[key] = ZERO
        rows.append(row)
    return rows


def _add(total: CellTotal, currency: str, count: int, amount: Decimal) -> None:
    if count:
        total.count += count
        total.amounts[currency] = total.amounts.get(currency, ZERO) + amount


def cell_invoices(user: Any, cell: str, *, as_of: dt.date | None = None, team: int | None = None, rep: int | None = None,
                  segment: int | None = None, limit: int = 200) -> list[tuple[Invoice, int]]:
    """The overdue invoices of one matrix cell (the drill-down), per currency and oldest first, with
    days overdue (the order of the receivables index, so the first page is read, not sorted):
    chosen in SQL with the same thresholds as the matrix, so a rare cell of a large ledger is
    not looked for invoice by invoice."""
    today = as_of or timezone.localdate()
    policies = policy_table()
    is_long, is_large = _is_long(policies, today), _is_large(policies)
    in_cell = {
        Cell.SHORT_SMALL: ~is_long & ~is_large, Cell.SHORT_LARGE: ~is_long & is_large,
        Cell.LONG_SMALL: is_long & ~is_large, Cell.LONG_LARGE: is_long & is_large,
    }[Cell(cell)]
    qs = (
        open_invoices(user, team=team, rep=rep, segment=segment)
        .filter(in_cell, issued_on__lte=today, due_on__lt=today).select_related("card", "card__owner")
        .order_by("currency", "due_on", "id")
    )
    return [(invoice, (today - invoice.due_on).days) for invoice in qs[:limit]]


def aging_by(user: Any, *, by: str, as_of: dt.date | None = None) -> list[dict[str, Any]]:
    """Open receivables per customer, team or rep, in the five aging buckets, per currency."""
    today = as_of or timezone.localdate()
    key = {"customer": "card_id", "team": "team_id", "rep": "owner_id"}[by]
    band = Case(
        When(due_on__gte=today, then=Value("current")),
        When(due_on__gte=today - dt.timedelta(days=30), then=Value("1_30")),
        When(due_on__gte=today - dt.timedelta(days=60), then=Value("31_60")),
        When(due_on__gte=today - dt.timedelta(days=90), then=Value("61_90")),
        default=Value("over_90"),
    )
    rows = (
        open_invoices(user).filter(issued_on__lte=today)
        .annotate(bucket=band).values(key, "currency", "bucket").annotate(s=Sum("open_amount")).order_by()
    )
    table: dict[tuple[Any, str], dict[str, Decimal]] = {}
    for row in rows:
        buckets = table.setdefault((row[key], row["currency"]), {b: ZERO for b in AGING_BUCKETS})
        buckets[row["bucket"]] += row["s"]
    out = [
        {"key": k, "currency": cur, **buckets, "total": sum(buckets.values(), ZERO)}
        for (k, cur), buckets in table.items()
    ]
    out.sort(key=lambda r: (-(r["total"] - r["current"]), str(r["key"])))
    return out


def products(*, ours: bool | None = None, active: bool | None = True, q: str = "") -> QuerySet[Product]:
    qs = Product.objects.all()
    if ours is not None:
        qs = qs.filter(is_ours=ours)
    if active is not None:
        qs = qs.filter(active=active)
    if q:
        qs = qs.filter(Q(sku__icontains=q) | Q(name__icontains=q) | Q(brand__icontains=q) | Q(category__icontains=q))
    return qs.order_by("sku")


# --- the card's timeline ---------------------------------------------------------------------------


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def timeline_entries(user: Any, card: Card, limit: int, before: dt.datetime | None) -> list[Any]:
    """The card's orders, invoices, credit notes and payments as timeline entries (the card was
    fetched through visibility, and its commercial record is visible exactly as it is)."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from rapport.cards.selectors import TimelineEntry, timeline_rows
    from rapport.commerce.money import format_money

    until = before.date() if before else None
    record = card_record(card)
    entries = []
    if record.orders:
        statuses = dict(OrderStatus.choices)
        for pk, ordered_on, status, number, total, currency, by in timeline_rows(
            Order.objects.filter(card_id=card.pk), "ordered_on", until, limit,
            "id", "ordered_on", "status", "external_id", "total", "currency", "created_by__username",
        ):
            entries.append(TimelineEntry(
                _day_start(ordered_on), "order", status, f"{number or _('Order')} · {format_money(total, currency)}",
                str(statuses.get(status, status)), by or "", pk,
                label=_("Order"), url=reverse("commerce-order", args=[pk]), dated=True,
            ))
    if record.invoices:
        invoice_kinds = dict(InvoiceKind.choices)
        for pk, issued_on, kind, number, amount, currency, due_on, by in timeline_rows(
            Invoice.objects.filter(card_id=card.pk), "issued_on", until, limit,
            "id", "issued_on", "kind", "external_id", "amount", "currency", "due_on", "created_by__username",
        ):
            kind_label = str(invoice_kinds.get(kind, kind))
            entries.append(TimelineEntry(
                _day_start(issued_on), "invoice", kind, f"{number or kind_label} · {format_money(amount, currency)}",
                _("due %(date)s") % {"date": due_on.isoformat()} if kind == InvoiceKind.INVOICE else "",
                by or "", pk, label=kind_label, url=reverse("commerce-invoice", args=[pk]), dated=True,
            ))
    if record.payments:
        payment_kinds = dict(PaymentKind.choices)
        for pk, received_on, kind, amount, currency, method, by in timeline_rows(
            Payment.objects.filter(card_id=card.pk), "received_on", until, limit,
            "id", "received_on", "kind", "amount", "currency", "method", "created_by__username",
        ):
            entries.append(TimelineEntry(
                _day_start(received_on), "payment", kind, format_money(amount, currency), method,
                by or "", pk, label=str(payment_kinds.get(kind, kind)), dated=True,
            ))
    return entries
