"""REST endpoints of price and inventory audits on visits, and the price comparison across customers.

A visit out of reach answers 404 exactly like a missing one. Writes go through
``rapport.visits.audits``, which refuses bad rows by name (422, ``rows[3].retail_price``) and
analysts' writes (403). Amounts are decimal strings in the currency's minor units.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Query, Router, Schema, Status
from pydantic import Field

from rapport.commerce import money
from rapport.core.http import AuthedHttpRequest
from rapport.visits import audits, selectors
from rapport.visits.models import Visit

router = Router(tags=["visits"])


# --- schemas -------------------------------------------------------------------------------------------


class AuditIn(Schema):
    """The rows of an audit; each replaces the visit's observation of its product."""

    rows: list[dict[str, Any]] = Field(..., max_length=audits.MAX_ROWS + 1)


class ProductRef(Schema):
    id: int
    sku: str
    name: str
    ours: bool

    @staticmethod
    def of(product: Any) -> dict[str, Any]:
        return {"id": product.pk, "sku": product.sku, "name": audits.product_name(product), "ours": product.is_ours}


class PolicyOut(Schema):
    min_retail: str | None
    max_retail: str | None
    recommended_retail: str | None
    purchase_price: str | None

    @staticmethod
    def of(price: Any, currency: str) -> dict[str, Any] | None:
        if price is None:
            return None
        return {name: money.text(getattr(price, name), currency)
                for name in ("min_retail", "max_retail", "recommended_retail", "purchase_price")}


class PriceRowOut(Schema):
    product: ProductRef
    currency: str
    observed_on: dt.date
    purchase_price: str | None
    retail_price: str | None
    on_promotion: bool
    note: str
    margin: str | None
    margin_percent: str | None
    policy: PolicyOut | None
    flags: list[str]

    @staticmethod
    def of(row: audits.PriceRow) -> dict[str, Any]:
        c = row.currency
        return {
            "product": ProductRef.of(row.product), "currency": c, "observed_on": row.observed_on,
            "purchase_price": money.text(row.purchase_price, c), "retail_price": money.text(row.retail_price, c),
            "on_promotion": row.on_promotion, "note": row.note, "margin": money.text(row.margin, c),
            "margin_percent": _text(row.margin_percent), "policy": PolicyOut.of(row.policy, c), "flags": row.flags,
        }


class PriceAuditOut(Schema):
    visit: int
    observed_on: dt.date
    items: list[PriceRowOut]
    count: int


class StockLineOut(Schema):
    product: ProductRef
    previous: str | None
    delivered: str
    current: str
    sold: str | None
    sell_through_percent: str | None
    weekly_sales: str | None
    weeks_of_cover: str | None
    flags: list[str]
    mover: str = Field(description='"fast", "slow" or ""')

    @staticmethod
    def of(line: audits.StockLine) -> dict[str, Any]:
        return {
            "product": ProductRef.of(line.product), "previous": _quantity(line.previous), "delivered": _quantity(line.delivered),
            "current": _quantity(line.current), "sold": _quantity(line.sold), "sell_through_percent": _text(line.sell_through),
            "weekly_sales": _quantity(line.weekly_sales), "weeks_of_cover": _text(line.weeks_of_cover), "flags": line.flags,
            "mover": line.mover,
        }


class SuggestedLineOut(Schema):
    product: ProductRef
    quantity: str
    unit_price: str | None
    amount: str | None


class SuggestedOrderOut(Schema):
    currency: str
    safety_stock_weeks: str
    lines: list[SuggestedLineOut]
    total: str


class AnalysisOut(Schema):
    current_on: dt.date | None
    previous_on: dt.date | None
    weeks_between: str | None
    our_share_percent: str | None
    quantity_change: str | None
    variety: int
    variety_change: int | None
    cover_low_weeks: str
    cover_high_weeks: str
    lines: list[StockLineOut]
    fast_movers: list[str]
    slow_movers: list[str]
    suggested_order: SuggestedOrderOut

    @staticmethod
    def of(a: audits.InventoryAnalysis) -> dict[str, Any]:
        c = a.currency
        return {
            "current_on": a.current_on, "previous_on": a.previous_on, "weeks_between": _text(a.weeks),
            "our_share_percent": _text(a.our_share), "quantity_change": _quantity(a.quantity_change), "variety": a.variety,
            "variety_change": a.variety_change, "cover_low_weeks": str(a.cover_low), "cover_high_weeks": str(a.cover_high),
            "lines": [StockLineOut.of(ln) for ln in a.lines],
            "fast_movers": [ln.product.sku for ln in a.fast_movers], "slow_movers": [ln.product.sku for ln in a.slow_movers],
            "suggested_order": {
                "currency": c, "safety_stock_weeks": str(a.safety_weeks), "total": money.text(a.suggested_total, c) or "0",
                "lines": [{"product": ProductRef.of(s.product), "quantity": _quantity(s.quantity),
                           "unit_price": money.text(s.unit_price, c), "amount": money.text(s.amount, c)} for s in a.suggested],
            },
        }


class StockRowOut(Schema):
    product: ProductRef
    quantity: str


class InventoryAuditOut(Schema):
    visit: int
    observed_on: dt.date
    items: list[StockRowOut]
    count: int
    analysis: AnalysisOut


class OrderCreatedOut(Schema):
    order: int
    status: str
    currency: str
    total: str


class ComparisonFilter(Schema):
    product: str = Field(..., max_length=64, description="A product id or SKU")
    currency: str = Field(..., max_length=3)
    from_: dt.date | None = Field(None, alias="from")
    to: dt.date | None = None


class FiguresOut(Schema):
    count: int
    minimum: str | None
    maximum: str | None
    average: str | None
    median: str | None


class CustomerPriceOut(Schema):
    customer: dict[str, Any]
    observed_on: dt.date
    retail_price: str | None
    purchase_price: str | None
    margin_percent: str | None
    on_promotion: bool
    flags: list[str]


class ComparisonOut(Schema):
    product: ProductRef
    currency: str
    from_: dt.date = Field(..., alias="from")
    to: dt.date
    observations: int
    customers_count: int
    retail: FiguresOut
    purchase: FiguresOut
    margin_percent: str | None
    below_min: int
    above_max: int
    policy: PolicyOut | None
    customers: list[CustomerPriceOut]


# --- helpers -------------------------------------------------------------------------------------------


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _quantity(value: Decimal | None) -> str | None:
    """A quantity without trailing zeros: "36", "2.5" (stored with three decimals)."""
    return None if value is None else format(value.normalize(), "f")


def _visit(request: AuthedHttpRequest, visit_id: int) -> Visit:
    return selectors.get_visit(request.user, visit_id)


def _price_audit(request: AuthedHttpRequest, visit: Visit) -> dict[str, Any]:
    items = [PriceRowOut.of(r) for r in audits.visit_price_audit(request.user, visit)]
    return {"visit": visit.pk, "observed_on": audits.audit_day(visit), "items": items, "count": len(items)}


def _inventory_audit(request: AuthedHttpRequest, visit: Visit) -> dict[str, Any]:
    rows = selectors.visible_stock(request.user).filter(visit=visit).select_related("product").order_by("-product__is_ours", "product__sku")
    items = [{"product": ProductRef.of(o.product), "quantity": _quantity(o.quantity)} for o in rows]
    analysis = audits.inventory_analysis(request.user, visit.card, as_of=audits.audit_day(visit))
    return {"visit": visit.pk, "observed_on": audits.audit_day(visit), "items": items, "count": len(items),
            "analysis": AnalysisOut.of(analysis)}


def _figures(f: audits.Figures, currency: str) -> dict[str, Any]:
    return {"count": f.count, **{name: money.text(getattr(f, name), currency) for name in ("minimum", "maximum", "average", "median")}}


# --- endpoints -----------------------------------------------------------------------------------------


@router.get("/visits/{visit_id}/price-audit", response=PriceAuditOut, summary="The prices recorded on a visit, with margins and policy flags")
def get_price_audit(request: AuthedHttpRequest, visit_id: int) -> dict[str, Any]:
    return _price_audit(request, _visit(request, visit_id))


@router.put("/visits/{visit_id}/price-audit", response=PriceAuditOut,
            summary="Record prices seen on a visit; each row replaces that product's observation")
def put_price_audit(request: AuthedHttpRequest, visit_id: int, payload: AuditIn) -> dict[str, Any]:
    visit = _visit(request, visit_id)
    audits.record_price_audit(user=request.user, visit=visit, rows=payload.rows)
    return _price_audit(request, _visit(request, visit_id))


@router.get("/visits/{visit_id}/inventory-audit", response=InventoryAuditOut,
            summary="The stock counted on a visit and the analysis against the previous audit, with the suggested order")
def get_inventory_audit(request: AuthedHttpRequest, visit_id: int) -> dict[str, Any]:
    return _inventory_audit(request, _visit(request, visit_id))


@router.put("/visits/{visit_id}/inventory-audit", response=InventoryAuditOut,
            summary="Record the stock counted on a visit; each row replaces that product's count")
def put_inventory_audit(request: AuthedHttpRequest, visit_id: int, payload: AuditIn) -> dict[str, Any]:
    visit = _visit(request, visit_id)
    audits.record_stock_audit(user=request.user, visit=visit, rows=payload.rows)
    return _inventory_audit(request, _visit(request, visit_id))


@router.post("/visits/{visit_id}/inventory-audit/order", response={201: OrderCreatedOut},
             summary="Turn the suggested order of the visit's inventory audit into a draft order")
def create_suggested_order(request: AuthedHttpRequest, visit_id: int) -> Status[dict[str, Any]]:
    order = audits.create_suggested_order(user=request.user, visit=_visit(request, visit_id))
    return Status(201, {"order": order.pk, "status": order.status, "currency": order.currency,
                        "total": money.text(order.total, order.currency) or "0"})


@router.get("/price-audits/comparison", response=ComparisonOut, by_alias=True,
            summary="One product's observed prices in one currency across the customers you may see, over a period")
def price_comparison(request: AuthedHttpRequest, flt: Query[ComparisonFilter]) -> dict[str, Any]:
    c = audits.price_comparison(request.user, flt.product, flt.currency, flt.from_, flt.to)
    code = c.currency
    return {
        "product": ProductRef.of(c.product), "currency": code, "from": c.date_from, "to": c.date_to,
        "observations": c.observations, "customers_count": c.customer_count,
        "retail": _figures(c.retail, code), "purchase": _figures(c.purchase, code), "margin_percent": _text(c.margin_percent),
        "below_min": c.below_min, "above_max": c.above_max, "policy": PolicyOut.of(c.policy, code),
        "customers": [{
            "customer": {"id": p.card_id, "name": p.name}, "observed_on": p.observed_on,
            "retail_price": money.text(p.retail_price, code), "purchase_price": money.text(p.purchase_price, code),
            "margin_percent": _text(p.margin_percent), "on_promotion": p.on_promotion, "flags": p.flags,
        } for p in c.customers],
    }
