"""Analytics reports over the REST API: ``GET /reports/churn|rfm|persistence|profitability|performance|reps|products|
profile|promotions|prospects``, the promotions themselves, and a card's cross-sell list."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.utils import timezone
from ninja import Query, Router, Status

from rapport.analytics import selectors
from rapport.analytics.schemas import ChurnFilter, ChurnList
from rapport.analytics.schemas import RfmFilter, RfmList
from rapport.analytics import retention
from rapport.analytics.schemas import PersistenceFilter, PersistenceReport
from rapport.analytics.schemas import ProfitFilter, ProfitList
from rapport.analytics.schemas import PerformanceFilter, PerformanceList
from rapport.analytics.schemas import RepFilter, RepList
from rapport.analytics.schemas import CrossSellOut, ProductReportFilter, ProductReportOut
from rapport.core.visibility import visible_to
from rapport.core.errors import ValidationError
from rapport.core.http import AuthedHttpRequest
from rapport.core.pagination import PageParams
from rapport.analytics import reports, services
from rapport.analytics.models import Promotion
from rapport.analytics.promotions import get_promotion, promotions_for
from rapport.analytics.schemas import ProfileFilter, ProfileReportOut, ProspectsFilter, ProspectsReportOut
from rapport.analytics.schemas import PromotionIn, PromotionOut, PromotionPatch, PromotionReportFilter, PromotionReportOut
from rapport.analytics.schemas import SharedReportFilter
from rapport.analytics.schemas import DashboardFilter, DashboardOut
from rapport.core.http import if_match_version, sent_fields

router = Router(tags=["analytics"])


@router.get("/reports/churn", response=ChurnList,
            summary="Customers with their usual interval between orders, flagged when silent for longer than it allows")
def churn_report(request: AuthedHttpRequest, flt: Query[ChurnFilter], page: Query[PageParams]) -> dict[str, Any]:
    report = selectors.churn_report(request.user, as_of=flt.as_of or timezone.localdate(), team=flt.team, rep=flt.rep,
                                    segment=flt.segment)
    rows = report.flagged_rows() if flt.flagged_only else report.rows
    offset, limit = page.clamp()
    return {
        "items": [{**asdict(row), "scored": row.scored} for row in rows[offset:offset + limit]],
        "count": len(rows), "flagged": report.flagged, "as_of": report.as_of, "alert": report.alert,
    }


@router.get("/reports/rfm", response=RfmList,
            summary="Customers scored 1–5 on recency, frequency and monetary value, with their segment")
def rfm_report(request: AuthedHttpRequest, flt: Query[RfmFilter], page: Query[PageParams]) -> dict[str, Any]:
    report = selectors.rfm_report(request.user, as_of=flt.as_of or timezone.localdate(), months=flt.months,
                                  team=flt.team, rep=flt.rep)
    rows = report.in_segment(flt.segment) if flt.segment else report.rows
    offset, limit = page.clamp()
    return {
        "items": [asdict(row) for row in rows[offset:offset + limit]],
        "count": len(rows), "as_of": report.as_of, "months": report.months, "window_start": report.window_start,
        "currency": report.currency, "segments": {key: n for key, _label, n in report.segments()},
    }


def _share(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@router.get("/reports/persistence", response=PersistenceReport,
            summary="Customers by month of first order, with the share of each cohort ordering in each month after it")
def persistence_report(request: AuthedHttpRequest, flt: Query[PersistenceFilter]) -> dict[str, Any]:
    report = selectors.retention_report(request.user, as_of=flt.as_of or timezone.localdate(), cohorts=flt.cohorts,
                                        team=flt.team, rep=flt.rep, segment=flt.segment)
    cohorts = []
    for cohort in report.cohorts:
        start = retention.month_index(cohort.month)
        cohorts.append({
            "cohort": cohort.month.strftime("%Y-%m"), "month": cohort.month, "customers": cohort.size,
            "active_recent": cohort.active_recent, "loyalty": _share(cohort.loyalty), "repeaters": cohort.repeaters,
            "rows": [{"offset": k, "month": retention.month_start(start + k),
                      "customers": None if cell is None else cell.customers,
                      "share": None if cell is None else _share(cell.share)} for k, cell in enumerate(cohort.cells)],
        })
    return {
        "as_of": report.as_of, "cohorts": cohorts, "width": report.width, "recent_start": report.recent_start,
        "customers": report.customers, "repeaters": report.repeaters, "repeat_rate": _share(report.repeat_rate),
        "previous_as_of": report.previous_as_of, "previous_repeat_rate": _share(report.previous_repeat_rate),
        "repeat_change": _share(report.repeat_change),
    }


@router.get("/reports/profitability", response=ProfitList,
            summary="Revenue, cost of goods, margin, cost to serve and net profit per customer over a period")
def profitability_report(request: AuthedHttpRequest, flt: Query[ProfitFilter], page: Query[PageParams]) -> dict[str, Any]:
    end = flt.end or timezone.localdate()
    start = flt.start or selectors.year_before(end)
    if start > end:
        raise ValidationError.single("start", "The period starts after it ends.")
    report = selectors.profitability_report(request.user, start=start, end=end, team=flt.team, rep=flt.rep,
                                            segment=flt.segment)
    rows = report.rows
    if flt.tier:
        wanted = "" if flt.tier == "none" else flt.tier
        rows = [row for row in rows if row.tier == wanted]
    offset, limit = page.clamp()
    return {
        "items": [asdict(row) for row in rows[offset:offset + limit]], "count": len(rows), "start": report.start,
        "end": report.end, "currency": report.currency, "cost_to_serve": report.costs,
        "tiers": [{"tier": t.tier, "customers": t.customers, "revenue": t.revenue, "margin": t.margin,
                   "cost_to_serve": t.cost_to_serve, "net_profit": t.net_profit, "losing": t.losing,
                   "least_profitable": [row.card_id for row in t.least]} for t in report.tiers],
    }


@router.get("/reports/performance", response=PerformanceList,
            summary="Sales by category, product, region, country, industry, tier, rep, team or month against a year earlier")
def performance_report(request: AuthedHttpRequest, flt: Query[PerformanceFilter]) -> dict[str, Any]:
    end = flt.end or timezone.localdate()
    start = flt.start or end.replace(month=1, day=1)
    if start > end:
        raise ValidationError.single("start", "The period starts after it ends.")
    report = selectors.performance_report(request.user, start=start, end=end, dimension=flt.by, team=flt.team,
                                          rep=flt.rep, segment=flt.segment)
    return {
        "items": [asdict(row) for row in report.rows], "total": asdict(report.total), "start": report.start,
        "end": report.end, "previous_start": report.previous_start, "previous_end": report.previous_end,
        "by": report.dimension, "currency": report.currency, "missing_rates": report.missing_rates,
    }


@router.get("/reports/reps", response=RepList,
            summary="Per rep: revenue, new-customer calls per day against the target, visits, objectives, promises, conversion")
def reps_report(request: AuthedHttpRequest, flt: Query[RepFilter]) -> dict[str, Any]:
    end = flt.end or timezone.localdate()
    start = flt.start or end.replace(day=1)
    if start > end:
        raise ValidationError.single("start", "The period starts after it ends.")
    report = selectors.reps_report(request.user, start=start, end=end, team=flt.team, rep=flt.rep, segment=flt.segment)
    return {"items": [asdict(row) for row in report.rows], "start": report.start, "end": report.end,
            "currency": report.currency, "call_target": report.call_target}


@router.get("/reports/products", response=ProductReportOut,
            summary="Products by revenue with their ABC class, and the pairs most often bought together")
def products_report(request: AuthedHttpRequest, flt: Query[ProductReportFilter]) -> dict[str, Any]:
    end = flt.end or timezone.localdate()
    start = flt.start or selectors.year_before(end)
    if start > end:
        raise ValidationError.single("start", "The period starts after it ends.")
    report = selectors.products_report(request.user, start=start, end=end, team=flt.team, rep=flt.rep,
                                       segment=flt.segment)
    return {"items": [asdict(row) for row in report.rows], "pairs": [asdict(p) for p in report.pairs],
            "start": report.start, "end": report.end, "currency": report.currency, "missing_rates": report.missing_rates}


@router.get("/cards/{card_id}/cross-sell", response=list[CrossSellOut],
            summary="What this customer does not buy yet that the customers buying what it buys do")
def card_cross_sell(request: AuthedHttpRequest, card_id: int) -> list[dict[str, Any]]:
    from rapport.cards.models import Card
    from rapport.core.visibility import get_visible

    card = get_visible(visible_to(request.user, Card.objects.all()), card_id, "card")
    return [asdict(row) for row in selectors.cross_sell(request.user, card)]


# --- reports described by a spec: profile, promotions, prospects ------------------------------------------


def _filters(flt: SharedReportFilter, name: str, *, by: str = "") -> reports.Filters:
    """The shared filters of the query string; ``as_of`` and ``end`` name the same day."""
    spec = reports.specs()[name]
    if flt.as_of and flt.end and flt.as_of != flt.end:
        raise ValidationError.single("as_of", "as_of and end name the same day: give one.")
    end = flt.as_of or flt.end or timezone.localdate()
    start = flt.start or spec.default_start(end)
    if start > end:
        raise ValidationError.single("start", "The period starts after it ends.")
    return reports.Filters(start=start, end=end, team=flt.team, rep=flt.rep, segment=flt.segment, by=by)


@router.get("/reports/profile", response=ProfileReportOut,
            summary="Customers by tier, kind, region, country, industry, sales channel, stage or saved segment, "
                    "with churn risk and buying habits")
def profile_report(request: AuthedHttpRequest, flt: Query[ProfileFilter]) -> dict[str, Any]:
    from rapport.analytics.profile import profile_report as build

    report = build(request.user, _filters(flt, "profile", by=flt.by))
    return {"items": [asdict(row) for row in report.rows], "total": asdict(report.total), "start": report.start,
            "end": report.end, "by": report.dimension, "currency": report.currency, "missing_rates": report.missing_rates}


@router.get("/reports/promotions", response=PromotionReportOut,
            summary="Sales in a promotion period against the baseline before it, per product and region")
def promotions_report(request: AuthedHttpRequest, flt: Query[PromotionReportFilter]) -> dict[str, Any]:
    from rapport.analytics.promotions import promotion_report

    as_of = flt.as_of or timezone.localdate()
    report = promotion_report(request.user, reports.Filters(start=as_of, end=as_of, team=flt.team, rep=flt.rep,
                                                            segment=flt.segment, promotion=flt.promotion))
    assert report.promotion is not None
    return {"promotion": report.promotion.pk, "name": report.promotion.name, "as_of": report.as_of,
            "promo_start": report.promo_start, "promo_end": report.promo_end, "promo_days": report.promo_days,
            "baseline_start": report.baseline_start, "baseline_end": report.baseline_end,
            "baseline_days": report.baseline_days, "products": [asdict(r) for r in report.products],
            "regions": [asdict(r) for r in report.regions], "total": asdict(report.total) if report.total else None,
            "currency": report.currency, "missing_rates": report.missing_rates, "note": report.note}


@router.get("/reports/prospects", response=ProspectsReportOut,
            summary="New prospects and new customers per month, by prospecting method or by source")
def prospects_report(request: AuthedHttpRequest, flt: Query[ProspectsFilter]) -> dict[str, Any]:
    from rapport.analytics.prospects import prospects_report as build

    try:
        report = build(request.user, _filters(flt, "prospects", by=flt.by))
    except ValueError as exc:  # a period of more months than a chart holds
        raise ValidationError.single("start", str(exc)) from None
    return {"items": [asdict(r) for r in report.rows], "months": [asdict(m) for m in report.months],
            "groups": report.groups, "start": report.start, "end": report.end, "by": report.by}


def _promotion_out(promotion: Promotion) -> dict[str, Any]:
    return {"id": promotion.pk, "name": promotion.name, "description": promotion.description,
            "starts_on": promotion.starts_on, "ends_on": promotion.ends_on, "baseline_days": promotion.baseline_days,
            "baseline_start": promotion.baseline_start, "baseline_end": promotion.baseline_end,
            "products": sorted(p.pk for p in promotion.products.all()), "categories": promotion.categories,
            "regions": promotion.regions, "countries": promotion.countries, "version": promotion.version}


@router.get("/promotions", response=list[PromotionOut], summary="Promotions, the latest first")
def list_promotions(request: AuthedHttpRequest, page: Query[PageParams]) -> list[dict[str, Any]]:
    offset, limit = page.clamp()
    return [_promotion_out(p) for p in promotions_for(request.user)[offset:offset + limit]]


@router.post("/promotions", response={201: PromotionOut}, summary="Create a promotion (managers and administrators)")
def create_promotion(request: AuthedHttpRequest, payload: PromotionIn) -> Status:
    promotion = services.create_promotion(user=request.user, data=sent_fields(request, payload))
    return Status(201, _promotion_out(get_promotion(request.user, promotion.pk)))


@router.get("/promotions/{promotion_id}", response=PromotionOut, summary="One promotion")
def read_promotion(request: AuthedHttpRequest, promotion_id: int) -> dict[str, Any]:
    return _promotion_out(get_promotion(request.user, promotion_id))


@router.patch("/promotions/{promotion_id}", response=PromotionOut,
              summary="Change a promotion; send If-Match with its version to refuse a lost update")
def update_promotion(request: AuthedHttpRequest, promotion_id: int, payload: PromotionPatch) -> dict[str, Any]:
    promotion = get_promotion(request.user, promotion_id)
    updated = services.update_promotion(user=request.user, promotion=promotion, data=sent_fields(request, payload),
                                        expected_version=if_match_version(request, what="promotion"))
    return _promotion_out(get_promotion(request.user, updated.pk))


@router.delete("/promotions/{promotion_id}", response={204: None}, summary="Delete a promotion")
def delete_promotion(request: AuthedHttpRequest, promotion_id: int) -> Status:
    services.delete_promotion(user=request.user, promotion=get_promotion(request.user, promotion_id))
    return Status(204, None)


@router.get("/reports/dashboard", response=DashboardOut,
            summary="A rep's own dashboard, or a manager's team: sales against last year, silent regulars, RFM "
                    "segments, calls a day against the target, promises kept, visits, least profitable customers")
def dashboard_report(request: AuthedHttpRequest, flt: Query[DashboardFilter]) -> dict[str, Any]:
    from rapport.analytics import dashboard

    board = dashboard.build_dashboard(request.user, as_of=flt.as_of or timezone.localdate(), team=flt.team, rep=flt.rep)
    return dashboard.as_dict(board)
