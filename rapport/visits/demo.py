"""Visits demo data: each rep's customers placed on the map around their team's city with
opening hours, a starting point per rep, ten weeks of reported visits (objectives met or not,
promises kept on time or late, price and stock audits, the shop checklist) and today's and
this week's plan with time windows, so the day, the route, the reflection and the reports look
like a working team's. Everything goes through the same services the web UI and the API call."""

from __future__ import annotations

import datetime as dt
import math
import random
from decimal import Decimal
from typing import Any

from django.utils import timezone, translation

from rapport.accounts.models import User
from rapport.cards.models import Card
from rapport.visits import services
from rapport.visits.models import Intelligence, Promise, Visit

# Where each demo team works: the city its reps start from (latitude, longitude).
CITY_OF_TEAM: dict[str, tuple[float, float]] = {
    "Norte": (43.2630, -2.9350),  # Bilbao
    "México Centro": (19.4326, -99.1332),  # Mexico City
    "华东": (31.2304, 121.4737),  # Shanghai
    "București": (44.4268, 26.1025),
    "East Coast": (40.7128, -74.0060),  # New York
}

TEXTS: dict[str, dict[str, Any]] = {
    "es": {"summary": "Revisamos el pedido de temporada con el encargado de compras.", "strength": "Llevé el stock de seguridad calculado",
           "improve": "Preparar mejor la respuesta sobre el precio", "why": "El comprador no estaba", "ours": "Enviar el catálogo nuevo",
           "theirs": "Pagar la factura pendiente", "promo": "Dos por uno en pintura hasta fin de mes"},
    "zh-hans": {"summary": "与采购负责人一起检查了季度订单。", "strength": "带去了计算好的安全库存", "improve": "要更好地准备价格问题的回答",
                "why": "采购经理不在", "ours": "寄送新产品目录", "theirs": "支付逾期发票", "promo": "竞品涂料买二送一，到月底"},
    "ro": {"summary": "Am revizuit comanda de sezon cu responsabilul de achiziții.", "strength": "Am venit cu stocul de siguranță calculat",
           "improve": "Să pregătesc mai bine răspunsul la preț", "why": "Cumpărătorul nu era acolo", "ours": "Trimitem catalogul nou",
           "theirs": "Plătesc factura restantă", "promo": "Două la preț de unu la vopsea până la sfârșitul lunii"},
    "en": {"summary": "Went through the season's order with the purchasing lead.", "strength": "Brought the safety stock worked out",
           "improve": "Prepare the answer on price better", "why": "The buyer was away", "ours": "Send the new catalogue",
           "theirs": "Pay the overdue invoice", "promo": "Two for one on rival paint until month end"},
}
WINDOWS = ((9, 0, 11, 0), (10, 0, 12, 30), (11, 30, 13, 30), (15, 0, 17, 0), (16, 0, 18, 30), None)


def _near(rng: random.Random, centre: tuple[float, float], km: float) -> tuple[str, str]:
    """A point within ``km`` of the centre, as six-decimal strings."""
    distance = km * math.sqrt(rng.random())
    bearing = rng.uniform(0, 2 * math.pi)
    lat = centre[0] + (distance / 111.0) * math.cos(bearing)
    lon = centre[1] + (distance / (111.0 * math.cos(math.radians(centre[0])))) * math.sin(bearing)
    return f"{lat:.6f}", f"{lon:.6f}"


def add_visits(seed: int) -> int:
    """Adds the visits demo to an existing demo; returns how many visits it planned."""
    from rapport.commerce.demo import CURRENCY_OF_TEAM, PER_EURO
    from rapport.commerce.models import Product
    from rapport.deals.demo import LANGUAGE_OF_TEAM

    if Visit.objects.exists() or not User.objects.filter(role="admin").exists():
        return 0
    rng = random.Random(seed)
    today = timezone.localdate()
    products = list(Product.objects.filter(active=True).order_by("sku"))
    count = 0
    reps = User.objects.filter(role="rep", is_active=True).prefetch_related("teams").order_by("username")
    for rep in reps:
        team = next(iter(rep.teams.all()), None)
        if team is None or team.name not in CITY_OF_TEAM:
            continue
        centre = CITY_OF_TEAM[team.name]
        texts = TEXTS[LANGUAGE_OF_TEAM.get(team.name, "en")]
        translation.activate(LANGUAGE_OF_TEAM.get(team.name, "en"))  # what services write (a report's summary) in the team's language
        currency = CURRENCY_OF_TEAM.get(team.name, "EUR")
        per_euro = PER_EURO.get(currency, Decimal(1))
        customers = list(Card.objects.filter(owner=rep, kind="organization", archived_at__isnull=True).order_by("id")[:12])
        if not customers:
            continue
        lat, lon = _near(rng, centre, 2)
        services.set_start_point(user=rep, data={"label": team.name, "latitude": lat, "longitude": lon, "leaves_at": "08:30"})
        for card in customers:
            lat, lon = _near(rng, centre, 25)
            opens = rng.choice(("08:00", "08:30", "09:00", "10:00"))
            services.set_site(user=rep, card=card, data={
                "latitude": lat, "longitude": lon, "opens_at": opens, "closes_at": rng.choice(("14:00", "19:00", "20:00")),
                "closed_weekdays": [6] if rng.random() < 0.7 else [5, 6],
            })
        # Ten weeks of reported visits, two or three a week.
        for weeks_ago in range(10, 0, -1):
            monday = today - dt.timedelta(days=today.weekday() + 7 * weeks_ago)
            for card in rng.sample(customers, min(len(customers), rng.randint(2, 3))):
                day = monday + dt.timedelta(days=rng.randint(0, 4))
                count += 1
                _past_visit(rng, rep, card, day, texts, currency, per_euro, products)
        # Today and the rest of this week, planned.
        todays = rng.sample(customers, min(len(customers), 5))
        for position, card in enumerate(todays, start=1):
            window = rng.choice(WINDOWS)
            data: dict[str, Any] = {"organization": card.pk, "date": today.isoformat(), "duration_minutes": rng.choice((30, 45, 60)),
                                    "position": position, "tools": rng.sample(["brochures", "price_lists", "samples", "order_forms"], 2),
                                    "objectives": _objectives(rng, currency, per_euro)}
            if window:
                data["window_start"], data["window_end"] = f"{window[0]:02d}:{window[1]:02d}", f"{window[2]:02d}:{window[3]:02d}"
            services.create_visit(user=rep, data=data)
            count += 1
        for offset in range(1, 4):
            day = today + dt.timedelta(days=offset)
            for card in rng.sample(customers, min(len(customers), 2)):
                services.create_visit(user=rep, data={"organization": card.pk, "date": day.isoformat(),
                                                      "objectives": _objectives(rng, currency, per_euro)})
                count += 1
    return count


def _objectives(rng: random.Random, currency: str, per_euro: Decimal) -> list[dict[str, Any]]:
    kinds = rng.sample(["bigger_quantity", "new_products", "collect_payment", "communicate_policy", "more_varieties"], 2)
    rows = []
    for kind in kinds:
        row: dict[str, Any] = {"kind": kind}
        if kind in ("bigger_quantity", "collect_payment", "new_products", "more_varieties"):
            row["target_amount"] = str(Decimal(rng.choice((500, 800, 1200, 2500))) * per_euro)
            row["currency"] = currency
        rows.append(row)
    return rows


def _past_visit(rng: random.Random, rep: User, card: Card, day: dt.date, texts: dict[str, Any], currency: str,
                per_euro: Decimal, products: list[Any]) -> None:
    from rapport.visits.audits import record_price_audit, record_stock_audit

    visit = services.create_visit(user=rep, data={"organization": card.pk, "date": day.isoformat(), "window_start": "10:00",
                                                  "window_end": "12:00", "objectives": _objectives(rng, currency, per_euro)})
    if products and rng.random() < 0.6:
        audited = rng.sample(products, min(len(products), 5))
        rows = []
        for p in audited:
            base = Decimal(rng.choice((7, 18, 42, 89, 12))) * per_euro
            rows.append({"product": p.pk, "currency": currency, "purchase_price": str((base * Decimal("0.9")).quantize(Decimal("0.01"))),
                         "retail_price": str((base * Decimal(rng.choice(("1.05", "1.25", "1.35", "1.6")))).quantize(Decimal("0.01")))})
        record_price_audit(user=rep, visit=visit, rows=rows)
        record_stock_audit(user=rep, visit=visit, rows=[{"product": p.pk, "quantity": rng.choice((0, 4, 12, 30, 60))} for p in audited])
    results = []
    for o in visit.objectives.all():
        result = rng.choices(["met", "partly", "not_met"], weights=(6, 3, 2))[0]
        row: dict[str, Any] = {"id": o.pk, "result": result, "result_note": "" if result == "met" else texts["why"]}
        if o.target_amount is not None:
            share = {"met": Decimal(1), "partly": Decimal("0.5"), "not_met": Decimal(0)}[result]
            row["achieved_amount"] = str((o.target_amount * share).quantize(Decimal("0.01")))
        results.append(row)
    outcome = rng.choices(["met", "partly", "not_met"], weights=(6, 3, 1))[0]
    due = day + dt.timedelta(days=rng.randint(3, 10))
    # Checked in on the visit's day in working hours, so the visit's activity is dated then, not when the demo ran.
    arrived = dt.datetime.combine(day, dt.time(9 + visit.pk % 8, 15 * (visit.pk % 4)), tzinfo=timezone.get_current_timezone())
    Visit.objects.filter(pk=visit.pk).update(checked_in_at=arrived, checked_out_at=arrived + dt.timedelta(minutes=45))
    services.report_visit(user=rep, visit=visit, data={
        "objectives": results, "outcome": outcome, "outcome_note": "" if outcome == "met" else texts["why"],
        "summary": texts["summary"], "strengths": texts["strength"], "improve": texts["improve"],
        "promises": [{"by": "us", "text": texts["ours"], "due_on": due.isoformat()},
                     {"by": "them", "text": texts["theirs"], "due_on": due.isoformat()}],
        "retail_checks": [{"item": k, "state": rng.choices(["ok", "not_ok"], weights=(4, 1))[0]}
                          for k in ("pos_material", "shop_clean", "samples_shown")],
        # A competitor's promotion heard once at a customer, not repeated at every visit.
        "intelligence": [{"kind": "competitor_promotion", "competitor": "Colorex", "text": texts["promo"]}]
        if rng.random() < 0.15 and not Intelligence.objects.filter(visit__card=card).exists() else [],
    })
    today = timezone.localdate()
    for promise in Promise.objects.filter(visit=visit):
        if promise.due_on and promise.due_on < today and rng.random() < 0.8:
            kept = promise.due_on + dt.timedelta(days=rng.choice((-2, -1, 0, 0, 1, 3)))
            services.keep_promise(user=rep, promise=promise, kept_on=min(kept, today).isoformat())
