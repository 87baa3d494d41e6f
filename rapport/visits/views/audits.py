"""Pages of price and inventory audits: the entry forms of a visit (phone first), the comparison
across customers and the history for this customer, the inventory analysis with its weeks of
cover and suggested order, and the manager's price comparison.

Forms post through ``rapport.visits.audits``; a refused row is shown next to itself. Figures
come from ``audits``; this module formats them and computes the geometry of the server-drawn
SVG charts (no script, no CDN), as the deal reports do.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from rapport.commerce.models import Product
from rapport.commerce.money import babel_locale, format_money, reporting_currency
from rapport.core.errors import ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.web import web_view
from rapport.visits import audits, selectors
from rapport.visits.models import PriceObservation, StockObservation, Visit

def number(value: Decimal | None) -> str:
    """A quantity or a count of weeks as the reader writes numbers: "36", "2,5", "1,234.5"."""
    return "" if value is None else format_decimal(value, locale=babel_locale())


def _plain(value: Decimal) -> str:
    """A quantity as a form field holds it: a dot for decimals, no trailing zeros."""
    return format(value.normalize(), "f")


ROW_ERROR = re.compile(r"^rows\[(\d+)\]\.?(.*)$")
FORM_ROWS = 60  # products listed by an entry form; the search finds the others
CHART_WIDTH = 360  # drawn for a phone; the viewBox scales it up on wider screens


# --- what the forms show -------------------------------------------------------------------------------


def _filtered_products(request: AuthedHttpRequest, visit: Visit) -> tuple[list[Product], dict[str, Any]]:
    """The products of the entry form: most audited at this customer first, narrowed by the
    search text, category and brand from the query string. A posted form keeps its rows."""
    text = request.GET.get("q", "").strip()[:60]
    category = request.GET.get("category", "").strip()[:120]
    brand = request.GET.get("brand", "").strip()[:120]
    categories, brands = audits.product_facets()
    products = audits.audited_products(request.user, visit.card, text=text, category=category, brand=brand, limit=FORM_ROWS)
    if request.method == "POST":
        posted = _posted_ids(request)
        shown = {p.pk for p in products}
        products += list(Product.objects.filter(pk__in=[pk for pk in posted if pk not in shown]).order_by("sku"))
    return products, {"q": text, "category": category, "brand": brand, "categories": categories, "brands": brands,
                      "limited": len(products) >= FORM_ROWS}


def _row_errors(exc: ValidationError, ids: list[int]) -> tuple[dict[int, list[str]], list[str]]:
    """A service's ``rows[3].retail_price`` errors by product id; the others for the whole form."""
    by_row: dict[int, list[str]] = {}
    general: list[str] = []
    for key, messages in exc.errors.items():
        match = ROW_ERROR.match(key)
        if match and int(match.group(1)) < len(ids):
            by_row.setdefault(ids[int(match.group(1))], []).extend(messages)
        else:
            general.extend(messages)
    return by_row, general


def _posted_ids(request: AuthedHttpRequest) -> list[int]:
    return [int(v) for v in request.POST.getlist("product")[: audits.MAX_ROWS + 1] if v.isdigit() and len(v) < 18]


# --- charts --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """Maps amounts to the chart's y: ``top`` for the highest value, ``bottom`` for the lowest."""

    low: Decimal
    high: Decimal
    top: int
    bottom: int

    def y(self, value: Decimal) -> int:
        span = self.high - self.low
        if span <= 0:
            return (self.top + self.bottom) // 2
        return round(self.bottom - (value - self.low) / span * (self.bottom - self.top))


def _scale(values: list[Decimal], top: int, bottom: int) -> Scale | None:
    if not values:
        return None
    low, high = min(values), max(values)
    pad = (high - low) / 10 or (high / 10) or Decimal(1)
    return Scale(max(Decimal(0), low - pad), high + pad, top, bottom)


@dataclass(frozen=True)
class Dot:
    x: int
    y: int
    title: str
    flagged: bool


@dataclass(frozen=True)
class Band:
    min_y: int | None
    max_y: int | None
    min_label: str
    max_label: str

    @property
    def height(self) -> int:
        """The band between both limits (the y of the maximum is above that of the minimum)."""
        return (self.min_y - self.max_y) if self.min_y is not None and self.max_y is not None else 0


def _band(policy: Any, scale: Scale, currency: str) -> Band | None:
    if policy is None or (policy.min_retail is None and policy.max_retail is None):
        return None
    return Band(scale.y(policy.min_retail) if policy.min_retail is not None else None,
                scale.y(policy.max_retail) if policy.max_retail is not None else None,
                format_money(policy.min_retail, currency) if policy.min_retail is not None else "",
                format_money(policy.max_retail, currency) if policy.max_retail is not None else "")


def comparison_chart(c: audits.Comparison) -> dict[str, Any] | None:
    """Each customer's latest retail price as a dot, cheapest on the left, over the policy band."""
    points = [p for p in c.customers if p.retail_price is not None]
    if not points:
        return None
    band_values = [v for v in ((c.policy.min_retail, c.policy.max_retail) if c.policy else ()) if v is not None]
    scale = _scale([p.retail_price for p in points if p.retail_price is not None] + band_values, 12, 150)
    assert scale is not None
    # One slot per customer, the dot in its middle: clear of the edges and of the limits' labels.
    left, width = 48, CHART_WIDTH - 110
    dots = []
    for i, p in enumerate(points):
        assert p.retail_price is not None
        x = round(left + (i + 0.5) * width / len(points))
        title = f"{p.name}: {format_money(p.retail_price, c.currency)} ({p.observed_on.isoformat()})"
        dots.append(Dot(x, scale.y(p.retail_price), title, bool(p.flags)))
    return {"width": CHART_WIDTH, "height": 170, "dots": dots, "band": _band(c.policy, scale, c.currency),
            "top_label": format_money(scale.high, c.currency), "bottom_label": format_money(scale.low, c.currency),
            "median_y": scale.y(c.retail.median) if c.retail.median is not None else None}


def history_chart(rows: list[audits.PriceRow]) -> dict[str, Any] | None:
    """Retail (solid) and purchase (dashed) prices at one customer over time, in one currency."""
    if not rows:
        return None
    currency = rows[-1].currency
    rows = [r for r in rows if r.currency == currency]
    values = [v for r in rows for v in (r.retail_price, r.purchase_price) if v is not None]
    policy = rows[-1].policy
    values += [v for v in ((policy.min_retail, policy.max_retail) if policy else ()) if v is not None]
    scale = _scale(values, 12, 150)
    if scale is None:
        return None
    first, last = rows[0].observed_on, rows[-1].observed_on
    days = max(1, (last - first).days)

    def x(day: dt.date) -> int:
        return round(8 + (day - first).days / days * (CHART_WIDTH - 16)) if len(rows) > 1 else CHART_WIDTH // 2

    def line(name: str) -> str:
        return " ".join(f"{x(r.observed_on)},{scale.y(getattr(r, name))}" for r in rows if getattr(r, name) is not None)

    dots = [Dot(x(r.observed_on), scale.y(r.retail_price), f"{r.observed_on.isoformat()}: {format_money(r.retail_price, currency)}",
                bool(r.flags)) for r in rows if r.retail_price is not None]
    return {"width": CHART_WIDTH, "height": 180, "retail": line("retail_price"), "purchase": line("purchase_price"), "dots": dots,
            "band": _band(policy, scale, currency), "first": first.isoformat(), "last": last.isoformat(),
            "top_label": format_money(scale.high, currency), "bottom_label": format_money(scale.low, currency)}


@dataclass(frozen=True)
class CoverBar:
    label: str
    y: int
    width: int
    value: str
    tone: str  # the bar's colour: "low", "high", "ok" or "none"


def cover_chart(a: audits.InventoryAnalysis) -> dict[str, Any] | None:
    """Weeks of cover per product as bars, with the stock-out and overstock thresholds as lines."""
    lines = [ln for ln in a.lines if ln.weeks_of_cover is not None or audits.OUT_OF_STOCK in ln.flags]
    if not lines:
        return None
    label_width, row = 120, 26
    plot = CHART_WIDTH - label_width - 56  # room for the value after the longest bar
    cap = max([a.cover_high * Decimal("1.25")] + [ln.weeks_of_cover for ln in lines if ln.weeks_of_cover is not None])
    cap = min(cap, a.cover_high * 3)

    def x(weeks: Decimal) -> int:
        return round(min(weeks, cap) / cap * plot) if cap > 0 else 0

    bars = []
    for i, ln in enumerate(lines):
        weeks = ln.weeks_of_cover if ln.weeks_of_cover is not None else Decimal(0)
        tone = ("low" if audits.OUT_OF_STOCK in ln.flags or audits.STOCK_OUT_RISK in ln.flags
                else "high" if audits.OVERSTOCK in ln.flags else "ok")
        bars.append(CoverBar(audits.product_name(ln.product)[:18], i * row, x(weeks), _("%(n)s wk") % {"n": number(weeks)}, tone))
    return {"width": CHART_WIDTH, "height": len(lines) * row + 18, "bars": bars, "label_width": label_width, "row": row,
            "low_x": label_width + x(a.cover_low), "high_x": label_width + x(a.cover_high), "plot_bottom": len(lines) * row}


# --- the price audit of a visit ------------------------------------------------------------------------


def _price_values(visit: Visit, ids: list[int], request: AuthedHttpRequest | None) -> dict[int, dict[str, Any]]:
    """What each row of the form shows: what was posted, else what is recorded."""
    if request is not None and request.method == "POST":
        return {pid: {"purchase": request.POST.get(f"purchase-{pid}", ""), "retail": request.POST.get(f"retail-{pid}", ""),
                      "promotion": bool(request.POST.get(f"promotion-{pid}")), "note": request.POST.get(f"note-{pid}", "")}
                for pid in ids}
    recorded = PriceObservation.objects.filter(visit=visit)
    return {o.product_id: {"purchase": _plain(o.purchase_price) if o.purchase_price is not None else "",
                           "retail": _plain(o.retail_price) if o.retail_price is not None else "",
                           "promotion": o.on_promotion, "note": o.note} for o in recorded}


def _audit_currency(request: AuthedHttpRequest, visit: Visit) -> str:
    posted = request.POST.get("currency") or request.GET.get("currency")
    if posted:
        return posted.strip().upper()[:3]
    recorded = PriceObservation.objects.filter(card=visit.card).order_by("-observed_on", "-id").values_list("currency", flat=True).first()
    return recorded or reporting_currency()


def _price_context(request: AuthedHttpRequest, visit: Visit, *, errors: dict[int, list[str]] | None = None,
                   general: list[str] | None = None) -> dict[str, Any]:
    products, filters = _filtered_products(request, visit)
    values = _price_values(visit, [p.pk for p in products], request)
    rows = [{"product": p, "name": audits.product_name(p), "values": values.get(p.pk, {}), "errors": (errors or {}).get(p.pk, []),
             "filled": any(v not in ("", None) for k, v in values.get(p.pk, {}).items() if k != "promotion")} for p in products]
    # Rows with an error or a value first, so a long list does not hide them.
    rows.sort(key=lambda r: (not r["errors"], not r["filled"]))
    recorded = audits.visit_price_audit(request.user, visit)
    currency = _audit_currency(request, visit)
    chosen = _chosen_product(request, recorded, products)
    context: dict[str, Any] = {
        "visit": visit, "rows": rows, "filters": filters, "currency": currency, "general_errors": general or [],
        "recorded": [_price_row_view(r) for r in recorded], "chosen": chosen,
        "chosen_name": audits.product_name(chosen) if chosen else "",
    }
    if chosen is not None:
        code = next((r.currency for r in recorded if r.product.pk == chosen.pk), currency)
        try:
            comparison = audits.price_comparison(request.user, chosen, code, None, audits.audit_day(visit))
        except ValidationError:
            comparison = None
        history = audits.price_history(request.user, visit.card, chosen)
        context.update({
            "comparison": _comparison_view(comparison) if comparison else None,
            "comparison_chart": comparison_chart(comparison) if comparison else None,
            "history": [_price_row_view(r) for r in reversed(history)][:12],
            "history_chart": history_chart(history),
        })
    return context


def _chosen_product(request: AuthedHttpRequest, recorded: list[audits.PriceRow], products: list[Product]) -> Product | None:
    raw = request.GET.get("product", "")
    if raw.isdigit() and len(raw) < 18:
        found = Product.objects.filter(pk=int(raw)).first()
        if found is not None:
            return found
    if recorded:
        return recorded[0].product
    return products[0] if products else None


def _price_row_view(r: audits.PriceRow) -> dict[str, Any]:
    c = r.currency
    return {
        "product": r.product, "name": audits.product_name(r.product), "observed_on": r.observed_on,
        "purchase": format_money(r.purchase_price, c), "retail": format_money(r.retail_price, c),
        "margin": format_money(r.margin, c), "margin_percent": r.margin_percent, "on_promotion": r.on_promotion,
        "note": r.note, "flags": audits.flag_labels(r.flags),
        "band": (format_money(r.policy.min_retail, c), format_money(r.policy.max_retail, c)) if r.policy else None,
    }


def _comparison_view(c: audits.Comparison) -> dict[str, Any]:
    code = c.currency

    def figures(f: audits.Figures) -> dict[str, Any]:
        return {"count": f.count, "minimum": format_money(f.minimum, code), "maximum": format_money(f.maximum, code),
                "average": format_money(f.average, code), "median": format_money(f.median, code)}

    return {
        "comparison": c, "retail": figures(c.retail), "purchase": figures(c.purchase), "currency": code,
        "policy": {"min": format_money(c.policy.min_retail, code), "max": format_money(c.policy.max_retail, code),
                   "recommended": format_money(c.policy.recommended_retail, code)} if c.policy else None,
        "customers": [{"name": p.name, "card_id": p.card_id, "observed_on": p.observed_on, "retail": format_money(p.retail_price, code),
                       "purchase": format_money(p.purchase_price, code), "margin_percent": p.margin_percent,
                       "on_promotion": p.on_promotion, "flags": audits.flag_labels(p.flags)} for p in c.customers],
    }


@require_http_methods(["GET", "POST"])
@web_view
def price_audit_page(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    visit = selectors.get_visit(request.user, pk)
    if request.method == "POST":
        ids = _posted_ids(request)
        currency = request.POST.get("currency", "")
        rows, row_ids = [], []
        for pid in ids:
            purchase, retail = request.POST.get(f"purchase-{pid}", "").strip(), request.POST.get(f"retail-{pid}", "").strip()
            note = request.POST.get(f"note-{pid}", "").strip()
            if not (purchase or retail or note):
                continue  # a row left empty: not seen on this visit
            rows.append({"product": pid, "purchase_price": purchase, "retail_price": retail, "currency": currency,
                         "on_promotion": bool(request.POST.get(f"promotion-{pid}")), "note": note})
            row_ids.append(pid)
        try:
            audits.record_price_audit(user=request.user, visit=visit, rows=rows)
        except ValidationError as exc:
            by_row, general = _row_errors(exc, row_ids)
            return render(request, "visits/audit_prices.html", _price_context(request, visit, errors=by_row, general=general), status=422)
        return HttpResponseRedirect(reverse("visit-price-audit", args=[visit.pk]) + "?saved=1")
    return render(request, "visits/audit_prices.html", _price_context(request, visit))


# --- the inventory audit of a visit --------------------------------------------------------------------


def _inventory_context(request: AuthedHttpRequest, visit: Visit, *, errors: dict[int, list[str]] | None = None,
                       general: list[str] | None = None) -> dict[str, Any]:
    products, filters = _filtered_products(request, visit)
    values: dict[int, Any]
    if request.method == "POST":
        values = {p.pk: request.POST.get(f"quantity-{p.pk}", "") for p in products}
    else:
        values = {o.product_id: _plain(o.quantity) for o in StockObservation.objects.filter(visit=visit)}
    rows = [{"product": p, "name": audits.product_name(p), "value": values.get(p.pk, ""), "errors": (errors or {}).get(p.pk, [])}
            for p in products]
    rows.sort(key=lambda r: (not r["errors"], r["value"] in ("", None)))
    analysis = audits.inventory_analysis(request.user, visit.card, as_of=audits.audit_day(visit))
    c = analysis.currency
    return {
        "visit": visit, "rows": rows, "filters": filters, "general_errors": general or [], "analysis": analysis,
        "lines": [{"line": ln, "name": audits.product_name(ln.product), "flags": audits.flag_labels(ln.flags),
                   "previous": number(ln.previous), "delivered": number(ln.delivered), "current": number(ln.current),
                   "sold": number(ln.sold), "weekly": number(ln.weekly_sales), "cover": number(ln.weeks_of_cover)}
                  for ln in analysis.lines],
        "numbers": {"low": number(analysis.cover_low), "high": number(analysis.cover_high), "safety": number(analysis.safety_weeks),
                    "weeks": number(analysis.weeks), "change": number(analysis.quantity_change)},
        "chart": cover_chart(analysis),
        "suggested": [{"name": audits.product_name(s.product), "quantity": number(s.quantity), "unit": s.product.unit,
                       "unit_price": format_money(s.unit_price, c), "amount": format_money(s.amount, c)} for s in analysis.suggested],
        "suggested_total": format_money(analysis.suggested_total, c),
        "fast": ", ".join(audits.product_name(ln.product) for ln in analysis.fast_movers),
        "slow": ", ".join(audits.product_name(ln.product) for ln in analysis.slow_movers),
    }


@require_http_methods(["GET", "POST"])
@web_view
def inventory_audit_page(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    visit = selectors.get_visit(request.user, pk)
    if request.method == "POST":
        rows, row_ids = [], []
        for pid in _posted_ids(request):
            quantity = request.POST.get(f"quantity-{pid}", "").strip()
            if quantity:
                rows.append({"product": pid, "quantity": quantity})
                row_ids.append(pid)
        try:
            audits.record_stock_audit(user=request.user, visit=visit, rows=rows)
        except ValidationError as exc:
            by_row, general = _row_errors(exc, row_ids)
            return render(request, "visits/audit_inventory.html", _inventory_context(request, visit, errors=by_row, general=general),
                          status=422)
        return HttpResponseRedirect(reverse("visit-inventory-audit", args=[visit.pk]) + "?saved=1")
    return render(request, "visits/audit_inventory.html", _inventory_context(request, visit))


@require_POST
@web_view
def suggested_order(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    visit = selectors.get_visit(request.user, pk)
    try:
        order = audits.create_suggested_order(user=request.user, visit=visit)
    except ValidationError as exc:
        general = [m for messages in exc.errors.values() for m in messages]
        return render(request, "visits/audit_inventory.html", _inventory_context(request, visit, general=general), status=422)
    return HttpResponseRedirect(reverse("commerce-order", args=[order.pk]))


# --- the manager's comparison --------------------------------------------------------------------------


@require_http_methods(["GET"])
@web_view
def price_comparison_page(request: AuthedHttpRequest) -> HttpResponse:
    products = list(Product.objects.filter(active=True).order_by("-is_ours", "sku")[: audits.MAX_ROWS])
    params = {k: request.GET.get(k, "").strip()[:64] for k in ("product", "currency", "from", "to")}
    context: dict[str, Any] = {"products": [(p.pk, f"{audits.product_name(p)} ({p.sku})") for p in products],
                               "params": params, "errors": {}}
    status = 200
    if params["product"]:
        try:
            comparison = audits.price_comparison(request.user, params["product"], params["currency"] or "EUR",
                                                 params["from"] or None, params["to"] or None)
        except ValidationError as exc:
            context["errors"] = exc.errors
            status = 422
        else:
            context.update({"result": _comparison_view(comparison), "chart": comparison_chart(comparison),
                            "product_name": audits.product_name(comparison.product)})
    return render(request, "visits/audit_comparison.html", context, status=status)


urlpatterns: list[URLPattern] = [
    path("visits/<int:pk>/price-audit/", price_audit_page, name="visit-price-audit"),
    path("visits/<int:pk>/inventory-audit/", inventory_audit_page, name="visit-inventory-audit"),
    path("visits/<int:pk>/inventory-audit/order/", suggested_order, name="visit-inventory-order"),
    path("audits/prices/", price_comparison_page, name="price-comparison"),
]
