"""Demo promotions: a paint promotion in Spain and a tools month everywhere, over the demo's orders.

Created through ``rapport.analytics.services`` as the demo's first administrator, after the
commerce demo has added products and orders (the dates follow today, as the orders do).
"""

from __future__ import annotations

import datetime as dt
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
    if admin is None or Promotion.objects.exists():
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
