"""Price and inventory audits on visits: what a distributor pays and charges for each product,
ours and competitors', and how much of each it holds.

Writes (keyword-only, one transaction, an audit entry, ``services.require_write`` first):

- ``record_price_audit(user=, visit=, rows=)``: rows ``{"product": id or SKU, "purchase_price"?,
  "retail_price"?, "currency", "on_promotion"?, "note"?}`` replace the visit's observations of
  those products (one per product and visit); the other products' observations stay.
- ``record_stock_audit(user=, visit=, rows=)``: rows ``{"product", "quantity"}``, the same way.
- ``create_suggested_order(user=, visit=)``: the inventory analysis's suggestion as a draft order,
  written by ``rapport.commerce.services.create_order``.

Every row is checked before anything is written and each error names its row and field
(``rows[3].retail_price``): negative prices or stock, a currency that is not ISO 4217 or that our
price lists do not use for that product on that day, an unknown product, a row without any price,
the same product twice, more than ``MAX_ROWS`` rows. An observation is dated the visit's check-in
day (else its planned day) and carries the card's owner and team as visibility copies.

Reads (visibility as the customer's card, through ``selectors.visible_prices`` and ``visible_stock``):

- ``price_comparison``: one product in one currency over a period across the customers the user
  sees: minimum, maximum, average and median of retail and purchase prices, each customer's latest
  observation, and the observations outside the price policy. Aggregated in SQL over the covering
  index ``visit_price_product`` (a handful of queries, whatever the number of observations).
- ``price_history``, ``visit_price_audit``, ``margin``, ``policy_flags``.
- ``inventory_analysis``: the two latest stock audits of a customer and our deliveries between
  them → sell-through, weekly sales, weeks of cover and its flags, fast and slow movers, our share
  of their stock, the change since the previous audit and a suggested order restoring a safety stock.
- ``latest_findings``: the last price audit and the inventory summary, read before the next visit.

Settings (read with ``getattr(settings, name, default)``): ``RAPPORT_COVER_LOW_WEEKS`` (2: less
cover is a stock-out risk), ``RAPPORT_COVER_HIGH_WEEKS`` (12: more is overstock) and
``RAPPORT_SAFETY_STOCK_WEEKS`` (4: the weeks of sales a suggested order restores).
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Avg, Count, F, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import RowNumber
from django.db.models.expressions import Window
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rapport.accounts.models import User
from rapport.audit.services import record
from rapport.cards.models import Card
from rapport.cards.services import Errors
from rapport.cards.values import clean_text, parse_date
from rapport.commerce import money
from rapport.commerce.models import COUNTED_ORDER, Order, OrderLine, OrderStatus, Price, Product
from rapport.commerce.services import find_product
from rapport.core.errors import Conflict, NotFound, ValidationError
from rapport.core.i18n import pick_label
from rapport.visits.models import PriceObservation, Status, StockObservation, Visit
from rapport.visits.selectors import visible_prices, visible_stock, visible_visits
from rapport.visits.services import require_write

MAX_ROWS = 500  # one audit: far above the products a shop shelves, small enough for one transaction
MAX_QUANTITY = Decimal("1e9")
MAX_PERIOD_DAYS = 3700  # a comparison period: ten years
CUSTOMERS_SHOWN = 200  # customers listed by a comparison; the figures count them all
HISTORY_POINTS = 120
MOVERS = 3  # fast and slow movers named by an inventory analysis
THOUSANDTH = Decimal("0.001")
HUNDRED = Decimal(100)
ZERO = Decimal(0)

# Policy and stock flags: stable keys for the API, labels for people.
BELOW_MIN = "below_min"  # retail below the policy's minimum retail price
ABOVE_MAX = "above_max"  # retail above the policy's maximum retail price
OUT_OF_STOCK = "out_of_stock"  # none on the shelf when counted
STOCK_OUT_RISK = "stock_out_risk"  # fewer weeks of cover than RAPPORT_COVER_LOW_WEEKS
OVERSTOCK = "overstock"  # more weeks of cover than RAPPORT_COVER_HIGH_WEEKS, or stock that did not sell
UNEXPLAINED = "unexplained"  # more stock than before plus our deliveries: bought elsewhere or miscounted
FLAG_LABELS = {
    BELOW_MIN: gettext_lazy("Below the minimum retail price"),
    ABOVE_MAX: gettext_lazy("Above the maximum retail price"),
    OUT_OF_STOCK: gettext_lazy("Out of stock"),
    STOCK_OUT_RISK: gettext_lazy("Stock-out risk"),
    OVERSTOCK: gettext_lazy("Overstock"),
    UNEXPLAINED: gettext_lazy("More stock than before plus our deliveries"),
}

PRICE_FIELDS = {"product", "purchase_price", "retail_price", "currency", "on_promotion", "note"}
STOCK_FIELDS = {"product", "quantity"}


def _setting(name: str, default: int) -> Decimal:
    value = getattr(settings, name, default)
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return Decimal(default)


def cover_low_weeks() -> Decimal:
    return _setting("RAPPORT_COVER_LOW_WEEKS", 2)


def cover_high_weeks() -> Decimal:
    return _setting("RAPPORT_COVER_HIGH_WEEKS", 12)


def safety_stock_weeks() -> Decimal:
    return _setting("RAPPORT_SAFETY_STOCK_WEEKS", 4)


def audit_day(visit: Visit) -> dt.date:
    """The day a visit's observations are dated: its check-in day, else its planned day."""
    if visit.checked_in_at is not None:
        return timezone.localdate(visit.checked_in_at)
    return visit.planned_on


def product_name(product: Product) -> str:
    """A product as people read it: its name in their language, else its own name."""
    return pick_label({"en": product.name, **(product.names or {})}) or product.name


# --- the price policy ----------------------------------------------------------------------------------


class PolicyBook:
    """The prices of some products in some currencies, with their lists' validity, loaded in one
    query; ``on`` answers the price in force on a day as ``commerce.services.price_for`` does
    (the valid list that started last)."""

    def __init__(self, product_ids: Iterable[int], currencies: Iterable[str] | None = None) -> None:
        prices = Price.objects.filter(product_id__in=set(product_ids)).select_related("price_list")
        if currencies is not None:
            prices = prices.filter(price_list__currency__in=set(currencies))
        self.prices: dict[tuple[int, str], list[Price]] = {}
        for p in prices:
            self.prices.setdefault((p.product_id, p.price_list.currency), []).append(p)
        for items in self.prices.values():
            items.sort(key=lambda p: (p.price_list.valid_from, p.price_list_id), reverse=True)

    def on(self, product_id: int, currency: str, day: dt.date) -> Price | None:
        for p in self.prices.get((product_id, currency), []):
            pl = p.price_list
            if pl.valid_from <= day and (pl.valid_until is None or pl.valid_until >= day):
                return p
        return None

    def currencies_on(self, product_id: int, day: dt.date) -> list[str]:
        """The currencies our lists price a product in on a day."""
        return sorted({c for (pid, c) in self.prices if pid == product_id and self.on(pid, c, day) is not None})

    def segments(self, product_id: int, currency: str, start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date, Price]]:
        """``[start, end]`` cut where the price in force changes: (first day, last day, price)."""
        cuts = {start}
        for p in self.prices.get((product_id, currency), []):
            pl = p.price_list
            for day in (pl.valid_from, pl.valid_until + dt.timedelta(days=1) if pl.valid_until else None):
                if day is not None and start < day <= end:
                    cuts.add(day)
        ordered = sorted(cuts)
        result = []
        for i, first in enumerate(ordered):
            last = ordered[i + 1] - dt.timedelta(days=1) if i + 1 < len(ordered) else end
            price = self.on(product_id, currency, first)
            if price is not None:
                result.append((first, last, price))
        return result


def policy_flags(retail: Decimal | None, price: Price | None) -> list[str]:
    """``below_min`` and ``above_max`` of a retail price against the policy in force."""
    if retail is None or price is None:
        return []
    flags = []
    if price.min_retail is not None and retail < price.min_retail:
        flags.append(BELOW_MIN)
    if price.max_retail is not None and retail > price.max_retail:
        flags.append(ABOVE_MAX)
    return flags


def margin(purchase: Decimal | None, retail: Decimal | None) -> tuple[Decimal | None, Decimal | None]:
    """The distributor's margin: retail − purchase, and that as a percentage of retail."""
    if purchase is None or retail is None:
        return None, None
    amount = retail - purchase
    percent = (amount / retail * HUNDRED).quantize(Decimal("0.1")) if retail else None
    return amount, percent


def flag_labels(flags: Iterable[str]) -> list[str]:
    return [str(FLAG_LABELS[f]) for f in flags]


# --- writing audits ------------------------------------------------------------------------------------


def _rows(rows: Any) -> list[Any]:
    if not isinstance(rows, list):
        raise ValidationError.single("rows", _("Expected a list of rows."))
    if not rows:
        raise ValidationError.single("rows", _("Enter at least one product."))
    if len(rows) > MAX_ROWS:
        raise ValidationError.single("rows", _("At most %(n)s rows per audit.") % {"n": MAX_ROWS})
    return rows


def _open_visit(user: User, visit: Visit) -> Visit:
    """The visit, if ``user`` sees its customer, locked so that two audits sent at once for it
    are written one after the other."""
    locked = visible_visits(user).select_for_update(of=("self",)).select_related("card").filter(pk=visit.pk).first()
    if locked is None:
        raise NotFound("visit")
    if locked.status == Status.CANCELLED:
        raise Conflict(_("This visit is cancelled."))
    return locked


def _bool(field_name: str, value: Any) -> bool:
    if value in (None, "", False, 0, "0", "false", "False", "off", "no"):
        return False
    if value in (True, 1, "1", "true", "True", "on", "yes"):
        return True
    raise ValidationError.single(field_name, _("Expected yes or no."))


def _row_start(errors: Errors, index: int, raw: Any, allowed: set[str], seen: dict[int, int]) -> Product | None:
    """The checks every audit row shares: an object, known fields, a known product seen once."""
    where = f"rows[{index}]"
    if not isinstance(raw, dict):
        errors.add(where, _("Expected an object."))
        return None
    for key in sorted(set(raw) - allowed):
        errors.add(f"{where}.{str(key)[:40]}", _("Unknown field."))
    product: Product | None = errors.run(find_product, raw.get("product"), f"{where}.product")
    if product is not None:
        if product.pk in seen:
            errors.add(f"{where}.product", _("This product is on row %(n)s already.") % {"n": seen[product.pk] + 1})
            return None
        seen[product.pk] = index
    return product


def check_price_rows(rows: Any, day: dt.date) -> list[dict[str, Any]]:
    """The rows of a price audit, checked and parsed; every bad field is named at once."""
    raw_rows = _rows(rows)
    errors = Errors()
    parsed: list[dict[str, Any]] = []
    seen: dict[int, int] = {}
    for i, raw in enumerate(raw_rows):
        where = f"rows[{i}]"
        product = _row_start(errors, i, raw, PRICE_FIELDS, seen)
        if not isinstance(raw, dict):
            continue
        currency = errors.run(money.parse_currency, raw.get("currency"), f"{where}.currency")
        prices: dict[str, Decimal | None] = {}
        for name in ("purchase_price", "retail_price"):
            value = raw.get(name)
            prices[name] = None
            if value not in (None, "") and currency:
                prices[name] = errors.run(money.parse_amount, value, currency, f"{where}.{name}")
            elif value not in (None, ""):  # still say a negative price is one, even without a currency
                errors.run(money.parse_decimal, value, f"{where}.{name}")
        if raw.get("purchase_price") in (None, "") and raw.get("retail_price") in (None, ""):
            errors.add(f"{where}.retail_price", _("Enter the retail price, the purchase price or both."))
        promotion = errors.run(_bool, f"{where}.on_promotion", raw.get("on_promotion"))
        note = errors.run(clean_text, f"{where}.note", raw.get("note"), max_length=300)
        if product is not None and currency:
            parsed.append({"product": product, "currency": currency, **prices, "on_promotion": bool(promotion),
                           "note": note or "", "where": where})
    # Our own products are priced in the currencies of the price lists in force (a typo such as
    # USD for EUR would otherwise split the comparison); competitors' products in any currency.
    book = PolicyBook([r["product"].pk for r in parsed if r["product"].is_ours])
    for r in parsed:
        if r["product"].is_ours:
            used = book.currencies_on(r["product"].pk, day)
            if used and r["currency"] not in used:
                errors.add(f"{r['where']}.currency", _("Our price lists price %(product)s in %(currencies)s on %(date)s.") % {
                    "product": r["product"].sku, "currencies": ", ".join(used), "date": day.isoformat()})
    errors.raise_if_any()
    return parsed


def check_stock_rows(rows: Any) -> list[dict[str, Any]]:
    raw_rows = _rows(rows)
    errors = Errors()
    parsed: list[dict[str, Any]] = []
    seen: dict[int, int] = {}
    for i, raw in enumerate(raw_rows):
        where = f"rows[{i}]"
        product = _row_start(errors, i, raw, STOCK_FIELDS, seen)
        if not isinstance(raw, dict):
            continue
        quantity = errors.run(money.parse_decimal, raw.get("quantity"), f"{where}.quantity", allow_zero=True, maximum=MAX_QUANTITY)
        if quantity is not None and quantity != quantity.quantize(THOUSANDTH):
            errors.add(f"{where}.quantity", _("At most three decimals."))
            quantity = None
        if product is not None and quantity is not None:
            parsed.append({"product": product, "quantity": quantity})
    errors.raise_if_any()
    return parsed


@transaction.atomic
def record_price_audit(*, user: User, visit: Visit, rows: Any) -> list[PriceObservation]:
    """Records the prices seen on a visit; each row replaces the visit's observation of its product."""
    require_write(user, visit)
    locked = _open_visit(user, visit)
    day = audit_day(locked)
    parsed = check_price_rows(rows, day)
    card = locked.card
    existing = {o.product_id: o for o in PriceObservation.objects.filter(visit=locked, product__in=[r["product"] for r in parsed])}
    changed, created = [], []
    for r in parsed:
        values = {"currency": r["currency"], "purchase_price": r["purchase_price"], "retail_price": r["retail_price"],
                  "on_promotion": r["on_promotion"], "note": r["note"], "observed_on": day,
                  "card_owner_id": card.owner_id or 0, "card_team_id": card.team_id}
        obs = existing.get(r["product"].pk)
        if obs is None:
            created.append(PriceObservation(visit=locked, card=card, product=r["product"], **values))
        else:
            for name, value in values.items():
                setattr(obs, name, value)
            changed.append(obs)
    PriceObservation.objects.bulk_create(created)
    if changed:
        PriceObservation.objects.bulk_update(changed, ["currency", "purchase_price", "retail_price", "on_promotion", "note",
                                                       "observed_on", "card_owner_id", "card_team_id"])
    record(action="update", record=locked, actor=user, detail={
        "price_audit": len(parsed), "created": len(created), "replaced": len(changed),
        "products": [r["product"].sku for r in parsed][:50],
    })
    return created + changed


@transaction.atomic
def record_stock_audit(*, user: User, visit: Visit, rows: Any) -> list[StockObservation]:
    """Records the stock counted on a visit; each row replaces the visit's count of its product."""
    require_write(user, visit)
    locked = _open_visit(user, visit)
    day = audit_day(locked)
    parsed = check_stock_rows(rows)
    card = locked.card
    existing = {o.product_id: o for o in StockObservation.objects.filter(visit=locked, product__in=[r["product"] for r in parsed])}
    changed, created = [], []
    for r in parsed:
        values = {"quantity": r["quantity"], "observed_on": day, "card_owner_id": card.owner_id or 0, "card_team_id": card.team_id}
        obs = existing.get(r["product"].pk)
        if obs is None:
            created.append(StockObservation(visit=locked, card=card, product=r["product"], **values))
        else:
            for name, value in values.items():
                setattr(obs, name, value)
            changed.append(obs)
    StockObservation.objects.bulk_create(created)
    if changed:
        StockObservation.objects.bulk_update(changed, ["quantity", "observed_on", "card_owner_id", "card_team_id"])
    record(action="update", record=locked, actor=user, detail={
        "stock_audit": len(parsed), "created": len(created), "replaced": len(changed),
        "products": [r["product"].sku for r in parsed][:50],
    })
    return created + changed


# --- reading prices ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceRow:
    """One observed price with what it means: margin, policy and flags."""

    product: Product
    currency: str
    observed_on: dt.date
    purchase_price: Decimal | None
    retail_price: Decimal | None
    on_promotion: bool
    note: str
    policy: Price | None
    flags: list[str]

    @property
    def margin(self) -> Decimal | None:
        return margin(self.purchase_price, self.retail_price)[0]

    @property
    def margin_percent(self) -> Decimal | None:
        return margin(self.purchase_price, self.retail_price)[1]

    # For templates: names, amounts and flags as the reader reads them (active language).
    @property
    def name(self) -> str:
        return product_name(self.product)

    @property
    def retail_display(self) -> str:
        return money.format_money(self.retail_price, self.currency)

    @property
    def purchase_display(self) -> str:
        return money.format_money(self.purchase_price, self.currency)

    @property
    def flag_labels(self) -> list[str]:
        return flag_labels(self.flags)


def visit_price_audit(user: User, visit: Visit) -> list[PriceRow]:
    """The prices recorded on a visit (fetched through visibility), ours first, by product."""
    observations = list(visible_prices(user).filter(visit=visit).select_related("product")
                        .order_by("-product__is_ours", "product__sku"))
    book = PolicyBook([o.product_id for o in observations])
    return [_price_row(o, book) for o in observations]


def _price_row(o: PriceObservation, book: PolicyBook) -> PriceRow:
    policy = book.on(o.product_id, o.currency, o.observed_on)
    return PriceRow(o.product, o.currency, o.observed_on, o.purchase_price, o.retail_price, o.on_promotion, o.note,
                    policy, policy_flags(o.retail_price, policy))


def price_history(user: User, card: Card, product: Product) -> list[PriceRow]:
    """One customer's prices of one product over time, oldest first (the latest ``HISTORY_POINTS``)."""
    observations = list(visible_prices(user).filter(card=card, product=product).select_related("product")
                        .order_by("-observed_on", "-id")[:HISTORY_POINTS])
    book = PolicyBook([product.pk])
    return [_price_row(o, book) for o in reversed(observations)]


@dataclass(frozen=True)
class Figures:
    """Minimum, maximum, average and median of one price over the observations that have it."""

    count: int
    minimum: Decimal | None
    maximum: Decimal | None
    average: Decimal | None
    median: Decimal | None


@dataclass(frozen=True)
class CustomerPrice:
    """A customer's latest observation in the period."""

    card_id: int
    name: str
    observed_on: dt.date
    retail_price: Decimal | None
    purchase_price: Decimal | None
    on_promotion: bool
    flags: list[str]

    @property
    def margin_percent(self) -> Decimal | None:
        return margin(self.purchase_price, self.retail_price)[1]


@dataclass(frozen=True)
class Comparison:
    product: Product
    currency: str
    date_from: dt.date
    date_to: dt.date
    observations: int
    customer_count: int
    retail: Figures
    purchase: Figures
    below_min: int  # observations in the period below the minimum retail price in force that day
    above_max: int
    policy: Price | None  # in force at the end of the period: the band the chart draws
    customers: list[CustomerPrice] = field(default_factory=list)  # cheapest retail first, at most CUSTOMERS_SHOWN

    @property
    def margin_percent(self) -> Decimal | None:
        """The margin of the average prices."""
        return margin(self.purchase.average, self.retail.average)[1]

    @property
    def more_customers(self) -> int:
        return max(0, self.customer_count - len(self.customers))


def comparison_period(date_from: Any, date_to: Any) -> tuple[dt.date, dt.date]:
    """The period of a comparison: the last 365 days unless told, at most ten years."""
    end = parse_date("to", date_to) if date_to not in (None, "") else timezone.localdate()
    start = parse_date("from", date_from) if date_from not in (None, "") else end - dt.timedelta(days=365)
    if start > end:
        raise ValidationError.single("to", _("The end of the period is before its start."))
    if (end - start).days > MAX_PERIOD_DAYS:
        raise ValidationError.single("from", _("Choose a period of at most ten years."))
    return start, end


def _median(qs: QuerySet[PriceObservation], column: str, count: int) -> Decimal | None:
    """The median from the sorted index range: one or two values read at the middle."""
    if not count:
        return None
    ordered = qs.filter(**{f"{column}__isnull": False}).order_by(column).values_list(column, flat=True)
    middle = list(ordered[(count - 1) // 2: count // 2 + 1])
    return sum(middle, ZERO) / len(middle) if middle else None


def _figures(agg: dict[str, Any], qs: QuerySet[PriceObservation], column: str, currency: str) -> Figures:
    count = agg[f"{column}_n"] or 0
    average = agg[f"{column}_avg"]
    median = _median(qs, column, count)
    return Figures(count, agg[f"{column}_min"], agg[f"{column}_max"],
                   money.round_money(Decimal(str(average)), currency) if average is not None else None,
                   money.round_money(median, currency) if median is not None else None)


def price_comparison(user: User, product: Any, currency: Any, date_from: Any = None, date_to: Any = None) -> Comparison:
    """One product's prices in one currency across the customers ``user`` sees, over a period.

    Every figure comes from the index range (product, currency, observed_on) with visibility
    read from the same index: one aggregate, the two medians, and each customer's latest
    observation through a window (the cheapest ``CUSTOMERS_SHOWN`` listed by name).
    """
    item = product if isinstance(product, Product) else find_product(product)
    code = money.parse_currency(currency)
    start, end = comparison_period(date_from, date_to)
    qs = visible_prices(user).filter(product=item, currency=code, observed_on__gte=start, observed_on__lte=end).order_by()
    book = PolicyBook([item.pk], [code])
    # Observations outside the policy, each against the price in force on its day: one
    # condition per stretch of the period with the same price.
    below: list[Q] = []
    above: list[Q] = []
    for first, last, price in book.segments(item.pk, code, start, end):
        within = Q(observed_on__gte=first, observed_on__lte=last)
        if price.min_retail is not None:
            below.append(within & Q(retail_price__lt=price.min_retail))
        if price.max_retail is not None:
            above.append(within & Q(retail_price__gt=price.max_retail))
    flag_counts: dict[str, Any] = {}
    for key, conditions in (("below", below), ("above", above)):
        if conditions:
            flag_counts[key] = Count("card", filter=functools.reduce(operator.or_, conditions))
    agg = qs.aggregate(
        n=Count("card"), customers=Count("card", distinct=True),
        retail_price_n=Count("retail_price"), retail_price_min=Min("retail_price"), retail_price_max=Max("retail_price"),
        retail_price_avg=Avg("retail_price"),
        purchase_price_n=Count("purchase_price"), purchase_price_min=Min("purchase_price"),
        purchase_price_max=Max("purchase_price"), purchase_price_avg=Avg("purchase_price"),
        **flag_counts,
    )
    customers: list[CustomerPrice] = []
    if agg["n"]:
        latest = (
            qs.annotate(rank=Window(RowNumber(), partition_by=[F("card_id")], order_by=[F("observed_on").desc(), F("id").desc()]))
            .filter(rank=1)
            .order_by(F("retail_price").asc(nulls_last=True), "card_id")
            .values_list("card_id", "observed_on", "retail_price", "purchase_price", "on_promotion")[:CUSTOMERS_SHOWN]
        )
        rows = list(latest)
        names = dict(Card.objects.filter(pk__in=[r[0] for r in rows]).values_list("pk", "display_name"))
        for card_id, observed_on, retail, purchase, promotion in rows:
            policy = book.on(item.pk, code, observed_on)
            customers.append(CustomerPrice(card_id, names.get(card_id, ""), observed_on, retail, purchase, promotion,
                                           policy_flags(retail, policy)))
    return Comparison(
        product=item, currency=code, date_from=start, date_to=end, observations=agg["n"], customer_count=agg["customers"],
        retail=_figures(agg, qs, "retail_price", code), purchase=_figures(agg, qs, "purchase_price", code),
        below_min=agg.get("below") or 0, above_max=agg.get("above") or 0, policy=book.on(item.pk, code, end),
        customers=customers,
    )


def audited_products(user: User, card: Card, *, text: str = "", category: str = "", brand: str = "",
                     limit: int = MAX_ROWS) -> list[Product]:
    """Active products for the audit forms, narrowed by a search text (SKU or name), category and
    brand: those audited most often at this customer first, then ours, then by SKU."""
    products = Product.objects.filter(active=True)
    if text:
        products = products.filter(Q(sku__icontains=text) | Q(name__icontains=text))
    if category:
        products = products.filter(category=category)
    if brand:
        products = products.filter(brand=brand)
    # The customer's own observations, read from the index (card, product, observed_on).
    counts = dict(visible_prices(user).filter(card=card).order_by().values("product").annotate(n=Count("card"))
                  .values_list("product", "n"))
    counts.update((pid, counts.get(pid, 0) + n) for pid, n in
                  visible_stock(user).filter(card=card).order_by().values("product").annotate(n=Count("card")).values_list("product", "n"))
    used = sorted(products.filter(pk__in=list(counts)[:limit]), key=lambda p: (-counts[p.pk], not p.is_ours, p.sku))
    rest = list(products.exclude(pk__in=[p.pk for p in used]).order_by("-is_ours", "sku")[: max(0, limit - len(used))])
    return used + rest


def product_facets() -> tuple[list[str], list[str]]:
    """The categories and brands of active products, for the forms' filters."""
    active = Product.objects.filter(active=True).order_by()
    categories = sorted(c for c in active.values_list("category", flat=True).distinct() if c)
    brands = sorted(b for b in active.values_list("brand", flat=True).distinct() if b)
    return categories, brands


# --- inventory -----------------------------------------------------------------------------------------


@dataclass
class StockLine:
    """One product in the inventory analysis (quantities in the product's unit)."""

    product: Product
    previous: Decimal | None  # None: no earlier audit to compare with
    delivered: Decimal
    current: Decimal
    sold: Decimal | None = None  # previous + delivered − current
    sell_through: Decimal | None = None  # sold as a % of what was available (previous + delivered)
    weekly_sales: Decimal | None = None
    weeks_of_cover: Decimal | None = None
    flags: list[str] = field(default_factory=list)
    mover: str = ""  # "fast" or "slow"

    @property
    def name(self) -> str:
        return product_name(self.product)


@dataclass(frozen=True)
class SuggestedLine:
    product: Product
    quantity: Decimal
    unit_price: Decimal | None  # from the price list in force; None: no price in the currency
    amount: Decimal | None


@dataclass
class InventoryAnalysis:
    card: Card
    current_on: dt.date | None
    previous_on: dt.date | None
    current_visit_id: int | None
    lines: list[StockLine]
    weeks: Decimal | None  # between the two audits
    our_share: Decimal | None  # % of their counted stock that is ours
    quantity_change: Decimal | None
    variety: int  # products on the shelf (quantity > 0)
    variety_change: int | None
    currency: str
    suggested: list[SuggestedLine]
    cover_low: Decimal
    cover_high: Decimal
    safety_weeks: Decimal

    @property
    def suggested_total(self) -> Decimal:
        return sum((s.amount for s in self.suggested if s.amount is not None), ZERO)

    def flagged(self, flag: str) -> list[StockLine]:
        return [line for line in self.lines if flag in line.flags]

    @property
    def out_of_stock(self) -> list[StockLine]:
        return self.flagged(OUT_OF_STOCK)

    @property
    def stock_out_risk(self) -> list[StockLine]:
        return self.flagged(STOCK_OUT_RISK)

    @property
    def overstock(self) -> list[StockLine]:
        return self.flagged(OVERSTOCK)

    @property
    def suggested_total_display(self) -> str:
        return money.format_money(self.suggested_total, self.currency)

    @property
    def fast_movers(self) -> list[StockLine]:
        return [line for line in self.lines if line.mover == "fast"]

    @property
    def slow_movers(self) -> list[StockLine]:
        return [line for line in self.lines if line.mover == "slow"]


def _order_currency(card: Card) -> str:
    """The currency to order in: the customer's latest order's, else the reporting currency."""
    orders = Order.objects.filter(card=card).exclude(status=OrderStatus.CANCELLED).order_by("-ordered_on", "-id")
    latest = orders.values_list("currency", flat=True).first()
    return latest or money.reporting_currency()


def _audits(stock: QuerySet[StockObservation]) -> list[tuple[int, dt.date]]:
    """The two latest stock audits of a card: (visit id, day), latest first."""
    return list(stock.values_list("visit_id", "observed_on").distinct().order_by("-observed_on", "-visit_id")[:2])


def _delivered(card: Card, after: dt.date, until: dt.date) -> dict[int, Decimal]:
    """Our deliveries to a customer after ``after`` up to ``until``, summed by product (confirmed
    and delivered orders with a delivery date; drafts and cancelled orders delivered nothing)."""
    rows = (OrderLine.objects.filter(order__card=card, order__delivered_on__gt=after, order__delivered_on__lte=until,
                                     order__status__in=COUNTED_ORDER, product__isnull=False)
            .values("product").annotate(q=Sum("quantity")).values_list("product", "q"))
    return {pid: q for pid, q in rows}


def inventory_analysis(user: User, card: Card, as_of: Any = None) -> InventoryAnalysis:
    """What a customer's two latest stock audits (up to ``as_of``) and our deliveries between them say.

    Sold = previous + delivered − current, over the weeks between the counts; weeks of cover =
    current ÷ weekly sales. A product the previous audit did not count had none then.
    """
    stock = visible_stock(user).filter(card=card)
    if as_of not in (None, ""):
        stock = stock.filter(observed_on__lte=as_of if isinstance(as_of, dt.date) else parse_date("as_of", as_of))
    audits = _audits(stock)
    low, high, safety = cover_low_weeks(), cover_high_weeks(), safety_stock_weeks()
    if not audits:  # none counted, or a customer out of the user's reach
        return InventoryAnalysis(card, None, None, None, [], None, None, None, 0, None, money.reporting_currency(), [],
                                 low, high, safety)
    currency = _order_currency(card)
    current_visit, current_on = audits[0]
    current = {o.product_id: o for o in stock.filter(visit_id=current_visit).select_related("product")}
    previous: dict[int, StockObservation] = {}
    previous_on = None
    delivered: dict[int, Decimal] = {}
    if len(audits) > 1:
        previous_visit, previous_on = audits[1]
        previous = {o.product_id: o for o in stock.filter(visit_id=previous_visit).select_related("product")}
        delivered = _delivered(card, previous_on, current_on)
    days = (current_on - previous_on).days if previous_on else 0
    weeks = (Decimal(days) / 7).quantize(Decimal("0.01")) if days > 0 else None
    lines: list[StockLine] = []
    for pid, obs in current.items():
        prev = (previous[pid].quantity if pid in previous else ZERO) if previous_on else None
        line = StockLine(obs.product, prev, delivered.get(pid, ZERO), obs.quantity)
        if prev is not None:
            line.sold = prev + line.delivered - line.current
            available = prev + line.delivered
            if line.sold < 0:
                line.flags.append(UNEXPLAINED)
            elif available > 0:
                line.sell_through = (line.sold / available * HUNDRED).quantize(Decimal("0.1"))
            if weeks and line.sold >= 0:
                line.weekly_sales = (line.sold / weeks).quantize(THOUSANDTH)
                if line.weekly_sales > 0:
                    line.weeks_of_cover = (line.current / line.weekly_sales).quantize(Decimal("0.1"))
        if line.current == 0:
            line.flags.append(OUT_OF_STOCK)
        elif line.weeks_of_cover is not None and line.weeks_of_cover < low:
            line.flags.append(STOCK_OUT_RISK)
        elif line.weeks_of_cover is not None and line.weeks_of_cover > high:
            line.flags.append(OVERSTOCK)
        elif line.weekly_sales == 0 and line.sold is not None and line.current > 0 and prev:
            line.flags.append(OVERSTOCK)  # nothing sold since the last audit
        lines.append(line)
    lines.sort(key=lambda ln: (not ln.product.is_ours, ln.product.sku))
    _movers(lines)
    total = sum((ln.current for ln in lines), ZERO)
    ours = sum((ln.current for ln in lines if ln.product.is_ours), ZERO)
    variety = sum(1 for ln in lines if ln.current > 0)
    return InventoryAnalysis(
        card=card, current_on=current_on, previous_on=previous_on, current_visit_id=current_visit, lines=lines, weeks=weeks,
        our_share=(ours / total * HUNDRED).quantize(Decimal("0.1")) if total > 0 else None,
        quantity_change=(total - sum((o.quantity for o in previous.values()), ZERO)) if previous_on else None,
        variety=variety,
        variety_change=(variety - sum(1 for o in previous.values() if o.quantity > 0)) if previous_on else None,
        currency=currency, suggested=_suggest(lines, currency, safety, current_on), cover_low=low, cover_high=high,
        safety_weeks=safety,
    )


def _movers(lines: list[StockLine]) -> None:
    """Fast and slow movers: the highest and lowest sell-through rates (no product is both)."""
    rated = sorted((ln for ln in lines if ln.sell_through is not None), key=lambda ln: (ln.sell_through, ln.product.sku))
    if len(rated) < 2:
        return
    n = min(MOVERS, len(rated) // 2)
    for ln in rated[:n]:
        ln.mover = "slow"
    for ln in rated[-n:]:
        ln.mover = "fast"


def _suggest(lines: list[StockLine], currency: str, safety: Decimal, day: dt.date) -> list[SuggestedLine]:
    """For each of our products that sells: what brings the stock back to ``safety`` weeks of
    sales, in whole units, priced from the list in force today (else on the audit day)."""
    wanted = [(ln, (ln.weekly_sales or ZERO) * safety - ln.current) for ln in lines
              if ln.product.is_ours and ln.product.active and ln.weekly_sales]
    wanted = [(ln, q.to_integral_value(rounding=ROUND_CEILING)) for ln, q in wanted if q > 0]
    book = PolicyBook([ln.product.pk for ln, _q in wanted], [currency])
    today = timezone.localdate()
    result = []
    for ln, quantity in wanted:
        price = book.on(ln.product.pk, currency, today) or book.on(ln.product.pk, currency, day)
        unit = price.list_price if price is not None else None
        result.append(SuggestedLine(ln.product, quantity, unit,
                                    money.round_money(quantity * unit, currency) if unit is not None else None))
    return result


@transaction.atomic
def create_suggested_order(*, user: User, visit: Visit) -> Order:
    """The inventory analysis's suggested order, as of the visit's audit, as a draft order of the
    customer (lines without a price in the order's currency are left out and named in the note)."""
    from rapport.commerce.services import create_order

    require_write(user, visit)
    locked = _open_visit(user, visit)
    earlier = Order.objects.filter(pk=locked.suggested_order_id).exclude(status=OrderStatus.CANCELLED).first() \
        if locked.suggested_order_id else None
    if earlier is not None:
        return earlier  # pressed twice, or sent again by a phone retrying: one order
    analysis = inventory_analysis(user, locked.card, as_of=audit_day(locked))
    priced = [s for s in analysis.suggested if s.unit_price is not None]
    if not analysis.suggested:
        raise ValidationError.single("order", _("Nothing to order: no product of ours is below its safety stock."))
    if not priced:
        raise ValidationError.single("order", _("None of the suggested products has a price in %(currency)s; set their prices first.")
                                     % {"currency": analysis.currency})
    note = _("Suggested by the inventory audit of %(date)s.") % {"date": (analysis.current_on or audit_day(locked)).isoformat()}
    unpriced = [s.product.sku for s in analysis.suggested if s.unit_price is None]
    if unpriced:
        note += " " + _("Without a price, left out: %(products)s.") % {"products": ", ".join(unpriced)}
    order = create_order(user=user, card=locked.card, data={
        "currency": analysis.currency, "status": OrderStatus.DRAFT, "note": note[:500],
        "lines": [{"product": s.product.pk, "quantity": str(s.quantity), "unit_price": str(s.unit_price)} for s in priced],
    })
    Visit.objects.filter(pk=locked.pk).update(suggested_order=order)
    record(action="update", record=locked, actor=user, detail={"suggested_order": order.pk, "lines": len(priced)})
    return order


# --- before the next visit -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Findings:
    """What the last audits of a customer found, for the reflection before the next visit."""

    price_on: dt.date | None
    prices: list[PriceRow]
    inventory: InventoryAnalysis

    @property
    def off_policy(self) -> list[PriceRow]:
        return [p for p in self.prices if p.flags]

    @property
    def is_empty(self) -> bool:
        return not self.prices and not self.inventory.lines


def latest_findings(user: User, card: Card) -> Findings:
    """The last price audit of the customer (with policy flags) and the inventory analysis."""
    last = visible_prices(user).filter(card=card).order_by("-observed_on", "-visit_id").values_list("visit_id", "observed_on").first()
    prices: list[PriceRow] = []
    if last is not None:
        observations = list(visible_prices(user).filter(visit_id=last[0]).select_related("product")
                            .order_by("-product__is_ours", "product__sku"))
        book = PolicyBook([o.product_id for o in observations])
        prices = [_price_row(o, book) for o in observations]
    return Findings(last[1] if last else None, prices, inventory_analysis(user, card))
