"""The columns of the reports' files, in order (the API answers the same names). No model imports:
the command line and the report specs read them before Django is set up."""

PROFIT_COLUMNS = (
    "card_id", "external_id", "name", "owner", "team", "tier", "orders", "revenue", "discounts", "cost_of_goods",
    "margin", "margin_percent", "activities", "cost_to_serve", "net_profit", "currency", "note",
)

PERFORMANCE_COLUMNS = ("key", "label", "revenue", "previous_revenue", "change", "change_percent", "orders",
                       "previous_orders", "customers", "currency")

REP_COLUMNS = (
    "rep_id", "rep", "teams", "revenue", "orders", "customers", "new_customer_calls", "working_days", "calls_per_day",
    "call_target", "visits_done", "objectives_met_percent", "promises_kept_percent", "promises_due", "deals_won",
    "deals_lost", "conversion_percent", "won_amount", "currency",
)

PRODUCT_COLUMNS = ("product_id", "sku", "name", "category", "revenue", "quantity", "customers", "share_percent",
                   "cumulative_percent", "abc", "currency")
