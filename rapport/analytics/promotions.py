"""Promotions: sales during a promotion against the baseline just before it, per product and region.

Only the order lines the promotion covers count: its products and categories (none named: all
our products), sold to customers in its regions or countries (none named: everywhere), on the
counted orders of the live cards the user may see. Periods of different lengths are compared
per day: the uplift is the promotion's daily units (or revenue) against the baseline's, less
one. A promotion still running on the as-of date is compared over the days it has run.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rapport.analytics.reports import Column, Filters, ReportSpec, cards_for
from rapport.core.errors import NotFound, ValidationError

UNIT = Decimal("0.001")  # quantities are kept to three decimals (commerce.models.QUANTITY)

if TYPE_CHECKING:  # the command line lists the reports before Django is set up: no model import at the top
    from rapport.analytics.models import Promotion


@dataclass
class _Sums:
    units: list[Decimal] = field(default_factory=lambda: [Decimal(0), Decimal(0)])  # promotion, baseline
    revenue: list[Decimal] = field(default_factory=lambda: [Decimal(0), Decimal(0)])
    orders: list[set[int]] = field(default_factory=lambda: [set(), set()])
    customers: list[set[int]] = field(default_factory=lambda: [set(), set()])


@dataclass(frozen=True)
class PromotionRow:
    level: str  # product | region | total
    key: str  # the product's SKU, the region's name
    label: str
    level_label: str  # product, region or total in the reader's language
    promo_units: Decimal
    baseline_units: Decimal
    units_uplift_percent: float | None  # daily units against the baseline's; None: nothing sold in the baseline
    promo_revenue: Decimal
    baseline_revenue: Decimal
    revenue_uplift_percent: float | None
    promo_orders: int
    baseline_orders: int
    promo_customers: int
    baseline_customers: int
    currency: str

    def values(self) -> list[Any]:
        return [getattr(self, key) for key in SPEC.keys]


@dataclass(frozen=True)
class PromotionReport:
    promotion: "Promotion | None"
    as_of: dt.date
    currency: str
    promo_start: dt.date | None
    promo_end: dt.date | None  # the promotion's end, or the as-of date while it runs
    promo_days: int  # days compared: 0 before it starts
    baseline_start: dt.date | None
    baseline_end: dt.date | None
    baseline_days: int
    products: list[PromotionRow]  # most promotion units first
    regions: list[PromotionRow]
    total: PromotionRow | None
    missing_rates: list[str]
    note: str

    @property
    def rows(self) -> list[PromotionRow]:
        return [*self.products, *self.regions]

    def export_rows(self) -> list[PromotionRow]:
        return [*self.rows, *([self.total] if self.total else [])]


def uplift(promo: Decimal, promo_days: int, baseline: Decimal, baseline_days: int) -> float | None:
    """The promotion's daily rate against the baseline's, less one, in percent; None without a baseline."""
    if not promo_days or not baseline_days or not baseline:
        return None
    return round(float((promo / promo_days) / (baseline / baseline_days) - 1) * 100, 1)


def promotions_for(user: Any) -> Any:
    """Every promotion: they are the company's, not a customer's, so everyone may read them."""
    from rapport.analytics.models import Promotion

    return Promotion.objects.prefetch_related("products")


def get_promotion(user: Any, promotion_id: Any) -> "Promotion":
    from rapport.analytics.models import Promotion

    try:
        return promotions_for(user).get(pk=int(promotion_id))
    except (Promotion.DoesNotExist, TypeError, ValueError, OverflowError):
        raise NotFound("promotion") from None


def promotion_report(user: Any, flt: Filters) -> PromotionReport:
    """The promotion ``flt.promotion`` as of ``flt.end``, over the cards the user may see."""
    from rapport.commerce import money
    from rapport.commerce.evidence import _Rates, counted_orders
    from rapport.commerce.models import OrderLine, Product

    rates = _Rates()
    if flt.promotion is None:
        raise ValidationError.single("promotion", _("Choose a promotion."))
    promotion = get_promotion(user, flt.promotion)
    as_of = flt.end
    promo_end = min(promotion.ends_on, as_of)
    base_end = min(promotion.baseline_end, as_of)
    promo_days = max((promo_end - promotion.starts_on).days + 1, 0)
    base_days = max((base_end - promotion.baseline_start).days + 1, 0)
    note = ""
    if promo_days == 0:
        note = _("The promotion has not started on the as-of date: there is nothing to compare yet.")
    elif promotion.ends_on > as_of:
        note = _("The promotion is still running: its first %(days)s days are compared, per day, with the baseline.") % {
            "days": promo_days}

    cards = cards_for(user, flt)
    from rapport.cards.models import Address

    first = Address.objects.filter(card_id=OuterRef("order__card_id")).order_by("position", "id")
    lines = OrderLine.objects.filter(product__isnull=False, order__in=counted_orders().filter(
        card__in=cards.values("id")).filter(
        Q(ordered_on__range=(promotion.starts_on, promo_end)) | Q(ordered_on__range=(promotion.baseline_start, base_end))
    ).values("id")).annotate(region=Subquery(first.values("region")[:1]), country=Subquery(first.values("country")[:1]))
    product_ids = [p.pk for p in promotion.products.all()]
    if product_ids or promotion.categories:
        lines = lines.filter(Q(product_id__in=product_ids) | Q(product__category__in=promotion.categories))
    else:
        lines = lines.filter(product__is_ours=True)
    if promotion.regions or promotion.countries:
        lines = lines.filter(Q(region__in=promotion.regions) | Q(country__in=promotion.countries))

    by_product: dict[int, _Sums] = defaultdict(_Sums)
    by_region: dict[str, _Sums] = defaultdict(_Sums)
    total = _Sums()
    missing: set[str] = set()
    grouped = (lines.values("product_id", "order_id", "order__card_id", "order__currency", "order__ordered_on", "region",
                            "country").annotate(q=Sum("quantity"), a=Sum("amount"), n=Count("id")).order_by()
               .values_list("product_id", "order_id", "order__card_id", "order__currency", "order__ordered_on", "region",
                            "country", "q", "a"))
    if promo_days or base_days:
        for product_id, order_id, card_id, currency, day, region, country, qty, amount in grouped.iterator(chunk_size=10_000):
            period = 0 if promotion.starts_on <= day <= promo_end else 1
            factor = rates.rate(currency, day)
            if factor is None:
                missing.add(currency)
            where = (region or "").strip() or (country or "").upper()
            for sums in (by_product[product_id], by_region[where], total):
                sums.units[period] += Decimal(qty or 0)
                if factor is not None:
                    sums.revenue[period] += Decimal(amount or 0) * factor
                sums.orders[period].add(order_id)
                sums.customers[period].add(card_id)
    quantum = money.quantum(rates.base)
    levels = {"product": _("Product"), "region": _("Region"), "total": _("Total")}

    def row(level: str, key: str, label: str, s: _Sums) -> PromotionRow:
        revenue = [v.quantize(quantum, ROUND_HALF_UP) for v in s.revenue]
        units = [v.quantize(UNIT) for v in s.units]  # the same digits on every database
        return PromotionRow(
            level=level, key=key, label=label, level_label=levels[level], promo_units=units[0], baseline_units=units[1],
            units_uplift_percent=uplift(s.units[0], promo_days, s.units[1], base_days),
            promo_revenue=revenue[0], baseline_revenue=revenue[1],
            revenue_uplift_percent=uplift(s.revenue[0], promo_days, s.revenue[1], base_days),
            promo_orders=len(s.orders[0]), baseline_orders=len(s.orders[1]), promo_customers=len(s.customers[0]),
            baseline_customers=len(s.customers[1]), currency=rates.base)

    from rapport.analytics.selectors import product_label
    from rapport.commerce.money import babel_locale

    info = {p["id"]: p for p in Product.objects.filter(pk__in=list(by_product)).values("id", "sku", "name", "names")}
    products = [row("product", info[pid]["sku"], product_label(info[pid]["name"], info[pid]["names"]), s)
                for pid, s in by_product.items()]
    products.sort(key=lambda r: (-r.promo_units, -r.baseline_units, r.key))
    territories = babel_locale().territories

    def place(key: str) -> str:
        """A region's name; a customer without one is placed by its country, named in the reader's language."""
        if not key:
            return _("Not set")
        return str(territories.get(key, key)) if len(key) == 2 and key.isupper() else key

    regions = [row("region", key, place(key), s) for key, s in by_region.items()]
    regions.sort(key=lambda r: (-r.promo_units, -r.baseline_units, r.label.lower()))
    return PromotionReport(
        promotion=promotion, as_of=as_of, currency=rates.base,
        promo_start=promotion.starts_on, promo_end=promo_end, promo_days=promo_days,
        baseline_start=promotion.baseline_start, baseline_end=base_end, baseline_days=base_days,
        products=products, regions=regions, total=row("total", "", _("Total"), total) if promo_days or base_days else None,
        missing_rates=sorted(missing), note=note)


# --- the chart: units per day during the promotion against the baseline, per product ----------------------

BAR_LABEL, BAR_WIDTH, BAR_ROW, MAX_BARS = 110, 200, 34, 12


def chart(report: PromotionReport) -> dict[str, Any] | None:
    if not report.products or not report.promo_days:
        return None
    shown = report.products[:MAX_BARS]

    def daily(units: Decimal, days: int) -> float:
        return float(units) / days if days else 0.0

    top = max(max(daily(r.promo_units, report.promo_days), daily(r.baseline_units, report.baseline_days))
              for r in shown) or 1.0
    bars = []
    for i, r in enumerate(shown):
        now = round(BAR_WIDTH * daily(r.promo_units, report.promo_days) / top)
        before = round(BAR_WIDTH * daily(r.baseline_units, report.baseline_days) / top)
        y = i * BAR_ROW
        bars.append({"label": r.label[:16], "now": now, "before": before, "y_now": y + 4, "y_before": y + 18,
                     "text_y": y + 17, "now_x": BAR_LABEL + now + 6, "before_x": BAR_LABEL + before + 6,
                     "now_text_y": y + 14, "before_text_y": y + 28,
                     "now_value": round(daily(r.promo_units, report.promo_days), 1),
                     "before_value": round(daily(r.baseline_units, report.baseline_days), 1)})
    return {"bars": bars, "label_width": BAR_LABEL, "width": BAR_LABEL + BAR_WIDTH + 60, "height": len(bars) * BAR_ROW + 4}


def _columns() -> tuple[Column, ...]:
    return (
        Column("level", gettext_lazy("Level"), shown=False),
        Column("key", gettext_lazy("Key"), shown=False),
        Column("label", gettext_lazy("Product or region")),
        Column("level_label", gettext_lazy("Level"), exported=False),
        Column("promo_units", gettext_lazy("Units in the promotion"), "int"),
        Column("baseline_units", gettext_lazy("Units in the baseline"), "int"),
        Column("units_uplift_percent", gettext_lazy("Units uplift"), "uplift"),
        Column("promo_revenue", gettext_lazy("Revenue in the promotion"), "money"),
        Column("baseline_revenue", gettext_lazy("Revenue in the baseline"), "money"),
        Column("revenue_uplift_percent", gettext_lazy("Revenue uplift"), "uplift"),
        Column("promo_orders", gettext_lazy("Orders in the promotion"), "int", shown=False),
        Column("baseline_orders", gettext_lazy("Orders in the baseline"), "int", shown=False),
        Column("promo_customers", gettext_lazy("Customers in the promotion"), "int"),
        Column("baseline_customers", gettext_lazy("Customers in the baseline"), "int", shown=False),
        Column("currency", gettext_lazy("Currency"), shown=False),
    )


SPEC = ReportSpec(
    name="promotions", title=gettext_lazy("Promotions against their baseline"),
    summary="Sales in a promotion period against the baseline before it, per product and region",
    build=promotion_report, columns=_columns(), chart=chart, chart_template="analytics/_promotion_chart.html",
    filters=("promotion", "as_of", "team", "rep", "segment"),
    empty_text=gettext_lazy("Nothing the promotion covers was sold to a customer you can see in either period."),
    rows_word="row(s)",
)
