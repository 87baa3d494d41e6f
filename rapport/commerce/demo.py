"""Commerce demo data: products and price lists in each market's currency, and for every demo
customer a plausible history of orders, invoices and payments, with some overdue debt, a few
credit limits and holds, and the collection work that follows. Everything goes through the
same services the web UI and the API call."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from django.utils import timezone

from rapport.accounts.models import Team, User
from rapport.cards.models import Card, Stage
from rapport.commerce import collection, services
from rapport.commerce.models import Product

# (SKU, English name, Spanish, Chinese, Romanian, category, brand, unit, list price in EUR, ours)
PRODUCTS = (
    ("CEM-25", "Cement 25 kg", "Cemento 25 kg", "水泥 25 公斤", "Ciment 25 kg", "Building materials", "Rapport", "bag", "6.80", True),
    ("TIL-60", "Floor tile 60×60", "Baldosa 60×60", "地砖 60×60", "Gresie 60×60", "Building materials", "Rapport", "m²", "18.50", True),
    ("PNT-15", "Wall paint 15 L", "Pintura 15 L", "墙面漆 15 升", "Vopsea 15 L", "Paint", "Rapport", "bucket", "42.00", True),
    ("DRL-18", "Cordless drill 18 V", "Taladro 18 V", "充电钻 18 伏", "Mașină de găurit 18 V", "Tools", "Rapport", "unit", "89.00", True),
    ("SCR-500", "Screws, box of 500", "Tornillos, caja de 500", "螺丝 500 只装", "Șuruburi, cutie de 500", "Hardware", "Rapport", "box", "11.90", True),
    ("GLV-12", "Work gloves, 12 pairs", "Guantes, 12 pares", "劳保手套 12 副", "Mănuși de lucru, 12 perechi", "Safety", "Rapport", "pack", "14.40", True),
    ("PIP-32", "PVC pipe 32 mm, 3 m", "Tubo PVC 32 mm, 3 m", "PVC 管 32 毫米 3 米", "Țeavă PVC 32 mm, 3 m", "Plumbing", "Rapport", "unit", "4.70", True),
    ("LED-9", "LED bulb 9 W", "Bombilla LED 9 W", "LED 灯泡 9 瓦", "Bec LED 9 W", "Electrical", "Rapport", "unit", "2.30", True),
    ("CEM-25-X", "Rival cement 25 kg", "Cemento rival 25 kg", "竞品水泥 25 公斤", "Ciment concurent 25 kg", "Building materials", "Holcem", "bag", "6.40", False),
    ("PNT-15-X", "Rival wall paint 15 L", "Pintura rival 15 L", "竞品墙面漆 15 升", "Vopsea concurentă 15 L", "Paint", "Colorex", "bucket", "39.00", False),
)
# How many units of the market's currency one euro buys (rounded, for plausible prices).
PER_EURO = {"EUR": Decimal("1"), "MXN": Decimal("20"), "CNY": Decimal("8"), "RON": Decimal("5"), "USD": Decimal("1.1")}
CURRENCY_OF_TEAM = {"Norte": "EUR", "México Centro": "MXN", "华东": "CNY", "București": "RON", "East Coast": "USD"}
BUYERS = (Stage.CUSTOMER, Stage.REGULAR, Stage.DORMANT)


def add_commerce(seed: int) -> dict[str, int]:
    """Adds the commerce demo to an existing demo; returns what it created."""
    rng = random.Random(seed)
    admin = User.objects.filter(role="admin").order_by("id").first()
    if admin is None or Product.objects.exists():
        return {}
    today = timezone.localdate()
    products = _catalog(admin, today)
    for currency, per_euro in PER_EURO.items():
        services.set_collection_policy(user=admin, team=None, currency=currency, long_after_days=45,
                                       large_from=str(Decimal(2000) * per_euro))
    counts = {"orders": 0, "invoices": 0, "payments": 0}
    buyers = Card.objects.filter(lifecycle_stage__in=BUYERS, archived_at__isnull=True).select_related("owner", "team").order_by("id")
    for card in buyers:
        currency = CURRENCY_OF_TEAM.get(card.team.name if card.team else "", "EUR")
        _history(rng, card, currency, products, today, counts)
    _credit(rng, admin, today)
    collection.generate_tasks(as_of=today)
    return counts


def _catalog(admin: User, today: dt.date) -> list[Product]:
    products = []
    for sku, en, es, zh, ro, category, brand, unit, price, ours in PRODUCTS:
        products.append(services.create_product(user=admin, data={
            "sku": sku, "name": en, "names": {"es": es, "zh-hans": zh, "ro": ro}, "category": category, "brand": brand,
            "unit": unit, "is_ours": ours,
        }))
    start = today.replace(month=1, day=1) - dt.timedelta(days=730)
    for currency, per_euro in PER_EURO.items():
        price_list = services.create_price_list(user=admin, data={
            "name": f"Distributors {currency}", "currency": currency, "valid_from": start.isoformat(),
        })
        for product, row in zip(products, PRODUCTS):
            listed = Decimal(row[8]) * per_euro
            services.set_price(user=admin, price_list=price_list, product=product, data={
                "list_price": str(listed), "purchase_price": str(listed * Decimal("0.85")),
                "min_retail": str(listed * Decimal("1.15")), "max_retail": str(listed * Decimal("1.45")),
                "recommended_retail": str(listed * Decimal("1.3")),
            })
    return [p for p in products if p.is_ours]


def _history(rng: random.Random, card: Card, currency: str, products: list[Product], today: dt.date, counts: dict[str, int]) -> None:
    """Orders over the last 18 months (none in the last months for a dormant customer), each
    delivered, invoiced at 30 days and mostly paid; the latest invoices are often still open."""
    owner = card.owner
    n = {Stage.REGULAR: rng.randint(6, 10), Stage.CUSTOMER: rng.randint(1, 3), Stage.DORMANT: rng.randint(2, 4)}[Stage(card.lifecycle_stage)]
    latest = 200 if card.lifecycle_stage == Stage.DORMANT else 5
    days = sorted((rng.randint(latest, 540) for _ in range(n)), reverse=True)
    for ago in days:
        ordered = today - dt.timedelta(days=ago)
        lines = [{"product": p.sku, "quantity": rng.choice((5, 10, 20, 40, 100))} for p in rng.sample(products, rng.randint(1, 3))]
        order = services.create_order(user=owner, card=card, data={
            "currency": currency, "ordered_on": ordered.isoformat(), "lines": lines,
            "status": "delivered", "delivered_on": (ordered + dt.timedelta(days=rng.randint(1, 6))).isoformat(),
        })
        counts["orders"] += 1
        if order.approval:
            continue
        invoice = services.create_invoice(user=owner, card=card, order=order, data={
            "issued_on": order.delivered_on.isoformat() if order.delivered_on else ordered.isoformat(),
            "due_on": ((order.delivered_on or ordered) + dt.timedelta(days=30)).isoformat(),
            "external_id": f"F{card.pk:05d}-{counts['invoices'] + 1:05d}",
        })
        counts["invoices"] += 1
        # Older invoices are paid; of the recent ones, some are late and a few long overdue.
        unpaid = ago < 75 and rng.random() < 0.55 or rng.random() < 0.05
        if unpaid:
            continue
        paid_on = min(invoice.due_on + dt.timedelta(days=rng.randint(-10, 20)), today)
        services.record_payment(user=owner, card=card, data={
            "currency": currency, "amount": str(invoice.amount), "received_on": paid_on.isoformat(), "method": "bank transfer",
            "allocations": [{"invoice": invoice.pk, "amount": str(invoice.amount)}],
        })
        counts["payments"] += 1


def _credit(rng: random.Random, admin: User, today: dt.date) -> None:
    """A credit limit for some regular customers, a watch and a hold, and one order waiting for approval."""
    regulars = list(Card.objects.filter(lifecycle_stage=Stage.REGULAR).select_related("team").order_by("id")[:12])
    for i, card in enumerate(regulars):
        currency = CURRENCY_OF_TEAM.get(card.team.name if card.team else "", "EUR")
        manager = _manager_of(card.team) or admin
        if i % 4 == 0:
            services.set_credit(user=manager, card=card, data={"status": "hold", "reason": "Two invoices over 60 days late"})
        elif i % 4 == 1:
            services.set_credit(user=manager, card=card, data={"status": "watch", "reason": "Pays later every quarter",
                                                               "limit": str(5000 * PER_EURO[currency]), "currency": currency})
        else:
            services.set_credit(user=manager, card=card, data={"limit": str(20000 * PER_EURO[currency]), "currency": currency})
    held = next((c for i, c in enumerate(regulars) if i % 4 == 0), None)
    if held is not None:
        product = Product.objects.filter(is_ours=True).order_by("sku").first()
        services.create_order(user=held.owner, card=held, data={
            "currency": CURRENCY_OF_TEAM.get(held.team.name if held.team else "", "EUR"), "ordered_on": today.isoformat(),
            "lines": [{"product": product.sku if product else None, "quantity": 50, "unit_price": "10"}],
            "note": "Urgent restock before the fair",
        })


def _manager_of(team: Team | None) -> User | None:
    if team is None:
        return None
    return User.objects.filter(managed_teams=team, is_active=True).order_by("id").first()

