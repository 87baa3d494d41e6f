"""What the analytics endpoints take and answer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from ninja import Schema
from pydantic import Field

MAX_ID = 2**62  # beyond every database's integer: refused with 422 instead of overflowing in the driver
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2999, 12, 31)


class ChurnFilter(Schema):
    as_of: dt.date | None = Field(None, ge=MIN_DATE, le=MAX_DATE, description="As things stood on this day; default: today")
    team: int | None = Field(None, ge=1, le=MAX_ID, description="The customers' team")
    rep: int | None = Field(None, ge=1, le=MAX_ID, description="User id of the customers' owner")
    segment: int | None = Field(None, ge=1, le=MAX_ID, description="Id of a saved segment: only its members")
    flagged_only: bool = Field(False, description="Only the customers flagged as silent for too long")


class ChurnRowOut(Schema):
    card_id: int
    external_id: str
    name: str
    kind: str
    owner_id: int
    owner: str
    team_id: int | None
    team: str
    orders: int = Field(description="Counted orders (confirmed or delivered) up to the as-of date")
    purchase_days: int = Field(description="Distinct order days: orders on one day are one purchase occasion")
    first_order_on: dt.date
    last_order_on: dt.date
    usual_interval_days: float | None = Field(description="The customer's usual interval between purchases; null: one purchase, not scored")
    days_silent: int
    chance: float | None = Field(description="Probability of a silence this long for a customer still buying at its usual pace")
    risk: float | None = Field(description="1 − chance")
    flagged: bool
    scored: bool
    flag_after_days: int | None = Field(description="The silence after which the customer is flagged")
    why: str


class ChurnList(Schema):
    items: list[ChurnRowOut]
    count: int
    flagged: int = Field(description="Flagged customers in the whole selection")
    as_of: dt.date
    alert: float = Field(description="The risk at which a customer is flagged (RAPPORT_CHURN_ALERT)")


class RfmFilter(Schema):
    as_of: dt.date | None = Field(None, ge=MIN_DATE, le=MAX_DATE, description="As things stood on this day; default: today")
    months: int = Field(12, ge=1, le=120, description="The frequency and monetary window: this many months before the as-of date")
    team: int | None = Field(None, ge=1, le=MAX_ID, description="The customers' team")
    rep: int | None = Field(None, ge=1, le=MAX_ID, description="User id of the customers' owner")
    segment: Literal["champions", "loyal", "new", "needs_attention", "at_risk", "hibernating"] | None = Field(
        None, description="Only the customers of this segment")


class RfmRowOut(Schema):
    card_id: int
    external_id: str
    name: str
    kind: str
    owner_id: int
    owner: str
    team_id: int | None
    team: str
    last_order_on: dt.date
    recency_days: int = Field(description="Days from the last counted order to the as-of date")
    frequency: int = Field(description="Distinct order days in the window")
    monetary: Decimal | None = Field(description="Order totals in the window in the reporting currency, converted with the rate valid on "
                                                 "each order's date; null: an order in a currency without a rate (see note)")
    currency: str = Field(description="The reporting currency")
    r: int = Field(description="Recency score 1–5 (5: most recent)")
    f: int = Field(description="Frequency score 1–5 (5: most frequent)")
    m: int | None = Field(description="Monetary score 1–5 (5: highest); null without a monetary value")
    score: str = Field(description='R, F and M as three digits, e.g. "545"; "-" for a missing M')
    segment_key: str
    segment: str = Field(description="The segment in words, in the request's language")
    note: str


class RfmList(Schema):
    items: list[RfmRowOut]
    count: int
    as_of: dt.date
    months: int
    window_start: dt.date = Field(description="First day of the frequency and monetary window")
    currency: str = Field(description="The reporting currency")
    segments: dict[str, int] = Field(description="Customers per segment in the whole selection")


class PersistenceFilter(Schema):
    as_of: dt.date | None = Field(None, ge=MIN_DATE, le=MAX_DATE, description="As things stood on this day; default: today")
    cohorts: int = Field(12, ge=1, le=36, description="How many first-order months, the as-of month and those before it")
    team: int | None = Field(None, ge=1, le=MAX_ID, description="The customers' team")
    rep: int | None = Field(None, ge=1, le=MAX_ID, description="User id of the customers' owner")
    segment: int | None = Field(None, ge=1, le=MAX_ID, description="Id of a saved segment: only its members")


class PersistenceCellOut(Schema):
    offset: int = Field(description="Months after the cohort month (0: the cohort month)")
    month: dt.date = Field(description="First day of the month")
    customers: int | None = Field(description="The cohort's customers with a counted order that month; null: not elapsed yet")
    share: float | None = Field(description="customers / cohort customers; null: not elapsed yet")


class PersistenceCohortOut(Schema):
    cohort: str = Field(description='The first-order month, e.g. "2026-01"')
    month: dt.date = Field(description="First day of the cohort month")
    customers: int = Field(description="Customers whose first counted order fell in that month")
    active_recent: int = Field(description="Of them, with a counted order in the last 3 months up to the as-of date")
    loyalty: float = Field(description="active_recent / customers")
    repeaters: int = Field(description="Of them, with counted orders on at least two days")
    rows: list[PersistenceCellOut]


class PersistenceReport(Schema):
    as_of: dt.date
    cohorts: list[PersistenceCohortOut] = Field(description="Oldest first; months without a new customer have no cohort")
    width: int = Field(description="Month offsets of every cohort's rows: 0..width − 1")
    recent_start: dt.date = Field(description="First day of the loyalty window")
    customers: int
    repeaters: int
    repeat_rate: float | None = Field(description="Customers with orders on two days or more / customers; null: no customer")
    previous_as_of: dt.date = Field(description="The same date one year earlier")
    previous_repeat_rate: float | None = Field(description="The repeat rate of the same report as of previous_as_of")
    repeat_change: float | None = Field(description="repeat_rate − previous_repeat_rate (0.05: 5 percentage points)")


class ProfitFilter(Schema):
    start: dt.date | None = Field(None, ge=MIN_DATE, le=MAX_DATE, description="First day of the period; default: a year before end")
    end: dt.date | None = Field(None, ge=MIN_DATE, le=MAX_DATE, description="Last day of the period; default: today")
    team: int | None = Field(None, ge=1, le=MAX_ID, description="The customers' team")
    rep: int | None = Field(None, ge=1, le=MAX_ID, description="User id of the customers' owner")
    segment: int | None = Field(None, ge=1, le=MAX_ID, description="Id of a saved segment: only its members")
    tier: Literal["A", "B", "C", "none"] | None = Field(None, description='Only customers of this tier ("none": without a tier)')


class ProfitRowOut(Schema):
    card_id: int
    external_id: str
    name: str
    kind: str
    owner_id: int
    owner: str
    team_id: int | None
    team: str
    tier: str = Field(description='"A", "B", "C" or "" (no tier)')
    orders: int = Field(description="Counted orders in the period")
    revenue: Decimal = Field(description="Order totals after line discounts, in the reporting currency")
    discounts: Decimal = Field(description="What the line discounts gave away")
    cost_of_goods: Decimal = Field(description="Quantity × the products' unit cost")
    margin: Decimal = Field(description="revenue − cost_of_goods")
    margin_percent: float | None = Field(description="margin / revenue × 100; null without revenue")
    activities: int = Field(description="Activities logged with the customer in the period")
    cost_to_serve: Decimal = Field(description="The activities at their unit cost per kind (shared between the customers of one activity)")
    net_profit: Decimal = Field(description="margin − cost_to_serve")
    currency: str
    note: str = Field(description="Why a figure is incomplete: an order currency without a rate, products without a cost")


class ProfitTierOut(Schema):
    tier: str
    customers: int
    revenue: Decimal
    margin: Decimal
    cost_to_serve: Decimal
    net_profit: Decimal
    losing: int = Field(description="Customers of the tier with a negative net profit")
    least_profitable: list[int] = Field(description="card_id of the tier's least profitable customers, lowest first")


class ProfitList(Schema):
    items: list[ProfitRowOut]
    count: int
    start: dt.date
    end: dt.date
    currency: str
    cost_to_serve: dict[str, Decimal] = Field(description="Unit cost per activity kind (RAPPORT_COST_TO_SERVE)")
    tiers: list[ProfitTierOut]


class PerformanceFilter(Schema):
    start: dt.date | None = Field(None, ge=MIN_DATE, le=MAX_DATE, description="First day of the period; default: 1 January of end's year")
    end: dt.date | None = Field(None, ge=MIN_DATE, le=MAX_DATE, description="Last day of the period; default: today")
    by: Literal["category", "product", "region", "country", "industry", "tier", "rep", "team", "month"] = Field(
        "category", description="How sales are grouped")
    team: int | None = Field(None, ge=1, le=MAX_ID, description="The customers' team")
    rep: int | None = Field(None, ge=1, le=MAX_ID, description="User id of the customers' owner")
    segment: int | None = Field(None, ge=1, le=MAX_ID, description="Id of a saved segment: only its members")


class PerformanceRowOut(Schema):
    key: str = Field(description='The group as stored ("" when not set; "2026-03" for a month)')
    label: str = Field(description="The group in words, in the reader's language")
    revenue: Decimal = Field(description="In the period, in the reporting currency")
    previous_revenue: Decimal = Field(description="In the same period a year earlier")
    change: Decimal
    change_percent: float | None = Field(description="null when nothing was sold a year earlier")
    orders: int
    previous_orders: int
    customers: int = Field(description="Customers who bought in the period")
    currency: str


class PerformanceList(Schema):
    items: list[PerformanceRowOut]
    total: PerformanceRowOut
    start: dt.date
    end: dt.date
    previous_start: dt.date
    previous_end: dt.date
    by: str
    currency: str
    missing_rates: list[str] = Field(description="Order currencies left out for want of an exchange rate")


class RepFilter(Schema):
    start: dt.date | None = Field(None, ge=MIN_DATE, le=MAX_DATE, description="First day of the period; default: the 1st of end's month")
    end: dt.date | None = Field(None, ge=MIN_DATE, le=MAX_DATE, description="Last day of the period; default: today")
    team: int | None = Field(None, ge=1, le=MAX_ID, description="Only the reps of this team")
    rep: int | None = Field(None, ge=1, le=MAX_ID, description="Only this rep (user id)")
    segment: int | None = Field(None, ge=1, le=MAX_ID, description="Id of a saved segment: figures over its members only")


class RepRowOut(Schema):
    rep_id: int
    rep: str
    teams: str
    revenue: Decimal = Field(description="Counted orders of the rep's cards, in the reporting currency")
    orders: int
    customers: int = Field(description="The rep's customers who bought in the period")
    new_customer_calls: int = Field(description="Calls logged with a card that had no counted order before the call's day")
    working_days: int = Field(description="Monday to Friday, from the start of the period up to today")
    calls_per_day: float | None
    call_target: int = Field(description="New-customer calls per working day expected (RAPPORT_NEW_CUSTOMER_CALLS_PER_DAY)")
    visits_done: int
    objectives_met_percent: float | None = Field(description="Visit objectives met among those with a result (partly met counts half)")
    promises_kept_percent: float | None = Field(description="Our promises due in the period kept on time")
    promises_due: int
    deals_won: int
    deals_lost: int
    conversion_percent: float | None = Field(description="Deals won / deals closed in the period")
    won_amount: Decimal
    currency: str


class RepList(Schema):
    items: list[RepRowOut]
    start: dt.date
    end: dt.date
    currency: str
    call_target: int


class ProductReportFilter(Schema):
    start: dt.date | None = Field(None, ge=MIN_DATE, le=MAX_DATE, description="First day of the period; default: a year before end")
    end: dt.date | None = Field(None, ge=MIN_DATE, le=MAX_DATE, description="Last day of the period; default: today")
    team: int | None = Field(None, ge=1, le=MAX_ID, description="The customers' team")
    rep: int | None = Field(None, ge=1, le=MAX_ID, description="User id of the customers' owner")
    segment: int | None = Field(None, ge=1, le=MAX_ID, description="Id of a saved segment: only its members")


class ProductReportRowOut(Schema):
    product_id: int
    sku: str
    name: str
    category: str
    revenue: Decimal
    quantity: Decimal
    customers: int
    share_percent: float
    cumulative_percent: float
    abc: str = Field(description="A: the products making the first 80 % of revenue; B: up to 95 %; C: the rest")
    currency: str


class PairOut(Schema):
    first: str
    second: str
    first_sku: str
    second_sku: str
    orders: int = Field(description="Orders holding both")
    confidence_percent: float = Field(description="Of the orders with the first, the share that also hold the second")
    lift: float = Field(description="How much more often they meet than chance (above 1: they go together)")


class ProductReportOut(Schema):
    items: list[ProductReportRowOut]
    pairs: list[PairOut]
    start: dt.date
    end: dt.date
    currency: str
    missing_rates: list[str]


class CrossSellOut(Schema):
    product_id: int
    sku: str
    name: str
    buyers: int = Field(description="Customers buying what this one buys who also buy this product")
    neighbours: int = Field(description="Customers buying at least one product this one buys")
    score: float


# --- reports described by a spec (``rapport.analytics.reports``): profile, promotions, prospects ---------


class SharedReportFilter(Schema):
    """The filters every report takes; ``as_of`` is the period's last day (``end``) under another name."""

    start: dt.date | None = Field(None, ge=MIN_DATE, le=MAX_DATE, description="First day of the period; default: a year before the end")
    end: dt.date | None = Field(None, ge=MIN_DATE, le=MAX_DATE, description="Last day of the period, the as-of date; default: today")
    as_of: dt.date | None = Field(None, ge=MIN_DATE, le=MAX_DATE, description="As things stood on this day: the same as end")
    team: int | None = Field(None, ge=1, le=MAX_ID, description="The customers' team")
    rep: int | None = Field(None, ge=1, le=MAX_ID, description="User id of the customers' owner")
    segment: int | None = Field(None, ge=1, le=MAX_ID, description="Id of a saved segment: only its members")


class ProfileFilter(SharedReportFilter):
    by: Literal["tier", "kind", "region", "country", "industry", "channel", "stage", "segment"] = Field(
        "tier", description="How the cards are grouped")


class ProfileRowOut(Schema):
    dimension: str
    key: str = Field(description="The group's key: the tier, stage, channel, segment id…; empty: not set")
    label: str = Field(description="The group in words, in the request's language")
    cards: int = Field(description="Live cards you see in the group that existed on the as-of date")
    share_percent: float
    buyers: int = Field(description="Cards with a counted order in the period")
    orders: int
    revenue: Decimal = Field(description="Order totals in the period in the reporting currency (orders without a rate left out)")
    currency: str
    scored: int = Field(description="Regulars the churn model scores as of the date")
    flagged: int = Field(description="Of them, flagged as silent for too long")
    risk_percent: float | None = Field(description="flagged / scored; null without a scored regular")
    median_interval_days: float | None = Field(description="Median days between consecutive purchase days in the period")
    busiest_weekday: str
    busiest_month: str
    top_categories: str = Field(description="The product categories in most orders, most first")
    weekdays: list[int] = Field(description="Orders per weekday, Monday first")
    months: list[int] = Field(description="Orders per calendar month, January first")


class ProfileReportOut(Schema):
    items: list[ProfileRowOut]
    total: ProfileRowOut
    start: dt.date
    end: dt.date
    by: str
    currency: str
    missing_rates: list[str]


class PromotionReportFilter(Schema):
    promotion: int = Field(ge=1, le=MAX_ID, description="Id of the promotion")
    as_of: dt.date | None = Field(None, ge=MIN_DATE, le=MAX_DATE, description="As things stood on this day; default: today")
    team: int | None = Field(None, ge=1, le=MAX_ID, description="The customers' team")
    rep: int | None = Field(None, ge=1, le=MAX_ID, description="User id of the customers' owner")
    segment: int | None = Field(None, ge=1, le=MAX_ID, description="Id of a saved segment: only its members")


class PromotionRowOut(Schema):
    level: str = Field(description="product, region or total")
    key: str
    label: str
    promo_units: Decimal
    baseline_units: Decimal
    units_uplift_percent: float | None = Field(description="Units a day in the promotion against the baseline's, less one; null without baseline sales")
    promo_revenue: Decimal
    baseline_revenue: Decimal
    revenue_uplift_percent: float | None
    promo_orders: int
    baseline_orders: int
    promo_customers: int
    baseline_customers: int
    currency: str


class PromotionReportOut(Schema):
    promotion: int
    name: str
    as_of: dt.date
    promo_start: dt.date
    promo_end: dt.date = Field(description="The promotion's end, or the as-of date while it runs")
    promo_days: int = Field(description="Days of the promotion compared; 0 before it starts")
    baseline_start: dt.date
    baseline_end: dt.date
    baseline_days: int
    products: list[PromotionRowOut]
    regions: list[PromotionRowOut]
    total: PromotionRowOut | None
    currency: str
    missing_rates: list[str]
    note: str


class PromotionIn(Schema):
    name: str
    description: str = ""
    starts_on: dt.date
    ends_on: dt.date
    baseline_days: int | None = Field(None, description="Days before the start to compare with; null: as many as the promotion lasts")
    products: list[int] = Field(default_factory=list, description="Ids of our products")
    categories: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list, description="Regions of the customers' addresses")
    countries: list[str] = Field(default_factory=list, description="Two-letter country codes of the customers' addresses")


class PromotionPatch(Schema):
    name: str | None = None
    description: str | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    baseline_days: int | None = None
    products: list[int] | None = None
    categories: list[str] | None = None
    regions: list[str] | None = None
    countries: list[str] | None = None


class PromotionOut(Schema):
    id: int
    name: str
    description: str
    starts_on: dt.date
    ends_on: dt.date
    baseline_days: int | None
    baseline_start: dt.date
    baseline_end: dt.date
    products: list[int]
    categories: list[str]
    regions: list[str]
    countries: list[str]
    version: int


class ProspectsFilter(SharedReportFilter):
    by: Literal["method", "source"] = Field("method", description="Group by prospecting method or by the sources of the facts")


class ProspectRowOut(Schema):
    month: str = Field(description='e.g. "2026-03"')
    key: str = Field(description="The method's or source's key; empty: not recorded")
    label: str
    new_prospects: int = Field(description="Cards that first reached the prospect stage or beyond that month")
    new_customers: int = Field(description="Cards that first reached the customer stage or beyond that month")


class ProspectMonthOut(Schema):
    month: str
    new_prospects: int
    new_customers: int


class ProspectGroupOut(Schema):
    key: str
    label: str
    found: int
    customers: int
    conversion_rate: float | None
    median_days_to_customer: float | None
    revenue: float | None


class ProspectsReportOut(Schema):
    items: list[ProspectRowOut]
    months: list[ProspectMonthOut]
    groups: list[ProspectGroupOut] = Field(description="The funnel's method (or source) report: totals to date")
    start: dt.date
    end: dt.date
    by: str


# --- the dashboard ---------------------------------------------------------------------------------------


class DashboardFilter(Schema):
    as_of: dt.date | None = Field(None, ge=MIN_DATE, le=MAX_DATE, description="As things stood on this day; default: today")
    team: int | None = Field(None, ge=1, le=MAX_ID, description="One team (managers of several teams, administrators, analysts)")
    rep: int | None = Field(None, ge=1, le=MAX_ID, description="One rep's dashboard: a rep may name only themselves")


class DashboardSalesOut(Schema):
    start: dt.date
    end: dt.date
    revenue: Decimal = Field(description="Counted order totals in the reporting currency")
    previous_revenue: Decimal = Field(description="The same days a year earlier")
    orders: int
    change_percent: float | None = Field(description="null: nothing sold a year earlier")


class DashboardMonthOut(Schema):
    month: dt.date = Field(description="The month's first day")
    revenue: Decimal
    previous_revenue: Decimal


class DashboardAtRiskOut(Schema):
    card_id: int
    name: str
    owner_id: int
    owner: str
    days_silent: int
    usual_interval_days: float | None
    risk: float | None
    why: str


class DashboardChurnOut(Schema):
    flagged: int = Field(description="Silent regulars flagged by the churn report")
    scored: int = Field(description="Customers with a counted order up to the as-of date")
    at_risk: list[DashboardAtRiskOut] = Field(description="The most at risk of the flagged customers")


class DashboardSegmentOut(Schema):
    segment_key: str
    segment: str = Field(description="The segment in words, in the request's language")
    customers: int


class DashboardRfmOut(Schema):
    customers: int
    segments: list[DashboardSegmentOut]


class DashboardActivityOut(Schema):
    start: dt.date = Field(description="The first day of the as-of date's month")
    end: dt.date
    new_customer_calls: int
    working_days: int
    reps: int = Field(description="Reps counted; calls_per_day is per rep")
    calls_per_day: float | None
    call_target: int
    on_target: bool
    visits_done: int
    promises_due: int
    promises_kept: int
    promises_kept_percent: float | None


class DashboardProfitRowOut(Schema):
    card_id: int
    name: str
    tier: str
    revenue: Decimal
    net_profit: Decimal
    owner: str


class DashboardProfitOut(Schema):
    start: dt.date
    end: dt.date
    losing: int = Field(description="Customers with a negative net profit over the period")
    least_profitable: list[DashboardProfitRowOut] = Field(description="Lowest net profit first")


class DashboardRepOut(Schema):
    rep_id: int
    rep: str
    revenue: Decimal = Field(description="This year up to the as-of date")
    previous_revenue: Decimal = Field(description="The same days a year earlier")
    change_percent: float | None
    calls_per_day: float | None
    on_target: bool
    flagged: int
    promises_due: int
    promises_kept_percent: float | None
    visits_done: int


class DashboardOut(Schema):
    as_of: dt.date
    mode: Literal["rep", "team"] = Field(description='"rep": one rep\'s customers; "team": every customer seen, or one team\'s')
    rep_id: int | None
    rep: str
    team_id: int | None
    team: str
    currency: str = Field(description="The reporting currency")
    month: DashboardSalesOut = Field(description="This month up to the as-of date")
    year: DashboardSalesOut = Field(description="This year up to the as-of date")
    months: list[DashboardMonthOut]
    churn: DashboardChurnOut
    rfm: DashboardRfmOut
    activity: DashboardActivityOut
    profitability: DashboardProfitOut = Field(description="The year up to the as-of date")
    reps: list[DashboardRepOut] = Field(description='A row per rep ("team" only)')
    missing_rates: list[str] = Field(description="Order currencies without an exchange rate, left out of the sales")
