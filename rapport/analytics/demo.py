"""Demo promotions: a paint promotion in Spain and a tools month everywhere, over the demo's orders;
and what the dashboard needs to be filled on any day of the month.

Created through the services as the demo's first administrator and its reps, after the commerce
demo has added products and orders (the dates follow today, as the orders do).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone


def add_promotions(today: dt.date | None = None) -> list[Any]:
    """Two promotions over the last months of demo orders; none when they exist already or no admin does."""
    from django.db.models import Q

    from rapport.accounts.models import User
    from rapport.analytics import services
    from rapport.analytics.models import Promotion
    from rapport.commerce.models import Product

    today = today or timezone.localdate()
    admin = User.objects.filter(Q(is_superuser=True) | Q(role="admin"), is_active=True).order_by("id").first()
    if admin is None:
        return []
    fill_dashboard(today)  # its own parts are added once: rates, this month's orders, this month's calls
    if Promotion.objects.exists():
        return []
    paint = list(Product.objects.filter(is_ours=True, category="Paint").values_list("pk", flat=True))
    created = [
        services.create_promotion(user=admin, data={
            "name": "Spring paint, Spain", "description": "15 % off wall paint for distributors in Spain",
            "starts_on": today - dt.timedelta(days=90), "ends_on": today - dt.timedelta(days=61),
            "products": paint, "countries": ["ES"],
        }),
        services.create_promotion(user=admin, data={
            "name": "Tools month", "description": "Every tool at the distributor price, in every market",
            "starts_on": today - dt.timedelta(days=45), "ends_on": today - dt.timedelta(days=16),
            "categories": ["Tools", "Hardware"], "baseline_days": 60,
        }),
    ]
    return created


CALL_SUMMARY = {"es": "Llamada de prospección", "zh-hans": "开发新客户电话", "ro": "Apel de prospectare", "en": "Prospecting call"}


def fill_dashboard(today: dt.date | None = None, seed: int = 11) -> dict[str, int]:
    """Exchange rates for the demo's currencies, and for every rep this month's first orders from two
    regular customers and calls to prospects on each working day so far: the commerce demo's orders
    stop five days before today and its calls are few, so early in a month the dashboard would be blank."""
    import random

    from rapport.accounts.models import User
    from rapport.activities.models import Activity
    from rapport.activities.services import log_activity
    from rapport.cards.models import Card, Stage
    from rapport.commerce import services as commerce
    from rapport.commerce.demo import CURRENCY_OF_TEAM, PER_EURO
    from rapport.deals.demo import LANGUAGE_OF_TEAM
    from rapport.commerce.evidence import counted_orders
    from rapport.commerce.models import ExchangeRate, Product

    today = today or timezone.localdate()
    rng = random.Random(seed)
    counts = {"rates": 0, "orders": 0, "calls": 0}
    if not ExchangeRate.objects.exists():
        # The rates the commerce demo priced each market with: without them the dashboard and the
        # reports (in euros) would leave out every order but the Spanish team's.
        start = dt.date(today.year - 3, 1, 1)
        rates = [ExchangeRate(currency=c, valid_from=start, rate=(Decimal(1) / per).quantize(Decimal("0.000001")))
                 for c, per in PER_EURO.items() if c != "EUR"]
        ExchangeRate.objects.bulk_create(rates)
        counts["rates"] = len(rates)
    products = list(Product.objects.filter(is_ours=True, active=True).order_by("sku").values_list("sku", flat=True))
    month_start = today.replace(day=1)
    working = [month_start + dt.timedelta(days=k) for k in range((today - month_start).days + 1)]
    working = [day for day in working if day.weekday() < 5] or [today]
    for rep in User.objects.filter(role="rep", is_active=True).prefetch_related("teams").order_by("username"):
        team = next(iter(rep.teams.all()), None)
        currency = CURRENCY_OF_TEAM.get(team.name if team else "", "EUR")
        summary = CALL_SUMMARY.get(LANGUAGE_OF_TEAM.get(team.name if team else "", "en"), CALL_SUMMARY["en"])
        buyers = Card.objects.filter(owner=rep, lifecycle_stage__in=(Stage.REGULAR, Stage.CUSTOMER), archived_at__isnull=True)
        if products and not counted_orders().filter(card__owner=rep, ordered_on__gte=month_start).exists():
            for card in buyers.order_by("-lifecycle_stage", "id")[:2]:  # regulars first
                lines = [{"product": sku, "quantity": rng.choice((5, 10, 20))} for sku in rng.sample(products, min(2, len(products)))]
                commerce.create_order(user=rep, card=card, data={"currency": currency, "status": "confirmed",
                                                                  "ordered_on": rng.choice(working).isoformat(), "lines": lines})
                counts["orders"] += 1
        prospects = list(Card.objects.filter(owner=rep, archived_at__isnull=True,
                                             lifecycle_stage__in=(Stage.SUSPECT, Stage.PROSPECT, Stage.TARGET))
                         .order_by("id").values_list("id", flat=True)[:20])
        month_calls = Activity.objects.filter(kind="call", recorded_by=rep, summary=summary,
                                              occurred_at__gte=timezone.make_aware(dt.datetime.combine(month_start, dt.time.min)))
        if not prospects or month_calls.exists():
            continue
        for day in working:
            for hour in rng.sample((9, 10, 11, 12, 15, 16), rng.randint(2, 4)):
                at = timezone.make_aware(dt.datetime.combine(day, dt.time(hour, rng.choice((0, 15, 30, 45)))))
                if at > timezone.now():
                    continue
                log_activity(user=rep, data={"kind": "call", "summary": summary, "cards": [rng.choice(prospects)],
                                             "occurred_at": at.isoformat()})
                counts["calls"] += 1
    return counts
