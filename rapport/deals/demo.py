"""Deals demo data: a dozen deals over the demo customers, spread over the six steps, with the
four questions answered, people from the decision units, needs and criteria, competitors, a
negotiation, one deal won and one lost, so the board and a deal page look like a working team's.
Everything goes through the same services the web UI and the API call."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.utils import timezone

from rapport.accounts.models import User
from rapport.cards.models import Card
from rapport.deals import services
from rapport.deals.models import Deal, StepMove

# Text of the demo in each market's language: deal names, needs, criteria, competitors.
TEXTS: dict[str, dict[str, Any]] = {
    "es": {
        "deals": ("Renovación de almacén {year}", "Suministro anual de pintura", "Reforma de la tienda principal",
                  "Herramientas para el equipo de obra", "Ampliación de la nave"),
        "goal": "Crecer un 15 % en ventas de obra este año", "problem": "Roturas de stock en temporada alta",
        "solution": "Entregas semanales con stock de seguridad en su almacén", "product": "Cemento, baldosa y pintura con entrega programada",
        "criteria": (("Plazo de entrega", "≤ 48 h", 40), ("Precio por volumen", "≤ 6,50 €/saco", 35), ("Servicio técnico", "Visita en 24 h", 25)),
        "competitors": (("Holcem Distribución", "Proveedor actual"), ("Colorex", "")),
        "strength": "Entrega en 48 h desde el almacén regional", "weakness": "Precio de lista un 5 % más alto",
        "action": "Enseñar el coste de una rotura de stock", "roles": "Lidera el comercial, decide el director regional",
        "position": "Piden un 8 % de descuento por volumen", "trade": "Pago a 30 días a cambio de pedido trimestral",
        "concession": "Transporte gratuito", "agreed": "Entregas los martes", "why": "Cliente de hace años",
    },
    "zh-hans": {
        "deals": ("{year} 年仓库改造", "年度涂料供应", "旗舰店装修", "施工队工具采购", "厂房扩建"),
        "goal": "今年工程销售增长 15%", "problem": "旺季经常断货", "solution": "每周配送，并在客户仓库保留安全库存",
        "product": "水泥、地砖和涂料，按计划配送",
        "criteria": (("交货期", "≤ 48 小时", 40), ("批量价格", "每袋 ≤ 52 元", 35), ("技术服务", "24 小时上门", 25)),
        "competitors": (("华新建材", "现有供应商"), ("立邦", "")),
        "strength": "区域仓库 48 小时送达", "weakness": "标价高 5%", "action": "说明断货的成本",
        "roles": "销售主谈，区域经理拍板", "position": "要求批量折扣 8%", "trade": "按季度下单换取 30 天账期",
        "concession": "免运费", "agreed": "每周二送货", "why": "多年老客户",
    },
    "ro": {
        "deals": ("Modernizare depozit {year}", "Aprovizionare anuală cu vopsea", "Renovarea magazinului", "Scule pentru echipa de șantier",
                  "Extinderea halei"),
        "goal": "Creștere de 15 % a vânzărilor pentru șantiere", "problem": "Rupturi de stoc în sezonul de vârf",
        "solution": "Livrări săptămânale cu stoc de siguranță la client", "product": "Ciment, gresie și vopsea cu livrare programată",
        "criteria": (("Termen de livrare", "≤ 48 h", 40), ("Preț pe volum", "≤ 32 lei/sac", 35), ("Service", "Vizită în 24 h", 25)),
        "competitors": (("Holcem România", "Furnizorul actual"), ("Colorex", "")),
        "strength": "Livrare în 48 h din depozitul regional", "weakness": "Preț de listă cu 5 % mai mare",
        "action": "Arătăm costul unei rupturi de stoc", "roles": "Conduce agentul, decide directorul regional",
        "position": "Cer 8 % reducere de volum", "trade": "Plată la 30 de zile pentru comandă trimestrială",
        "concession": "Transport gratuit", "agreed": "Livrări marțea", "why": "Client de mulți ani",
    },
    "en": {
        "deals": ("Warehouse refit {year}", "Annual paint supply", "Flagship store makeover", "Tools for the site crew", "Plant extension"),
        "goal": "Grow contractor sales 15% this year", "problem": "Stock-outs in the peak season",
        "solution": "Weekly deliveries with safety stock in their warehouse", "product": "Cement, tiles and paint on scheduled delivery",
        "criteria": (("Delivery time", "≤ 48 h", 40), ("Volume price", "≤ $7.20 a bag", 35), ("Technical service", "On site within 24 h", 25)),
        "competitors": (("Holcem Supply", "Current supplier"), ("Colorex", "")),
        "strength": "48-hour delivery from the regional warehouse", "weakness": "List price 5% higher",
        "action": "Show what a stock-out costs them", "roles": "The rep leads, the regional director decides",
        "position": "They ask for 8% volume discount", "trade": "30-day terms for a quarterly order",
        "concession": "Free transport", "agreed": "Deliveries on Tuesdays", "why": "Customer for years",
    },
}
LANGUAGE_OF_TEAM = {"Norte": "es", "México Centro": "es", "华东": "zh-hans", "București": "ro", "East Coast": "en"}
# Where each of the twelve deals ends up: a step, or "won" / "lost".
PLAN = ("analyse", "analyse", "build_trust", "build_trust", "discover_needs", "discover_needs", "present_value",
        "present_value", "win_commitment", "win_commitment", "won", "lost")
ORDER = ("analyse", "build_trust", "discover_needs", "present_value", "win_commitment")
STAGE_AT = {"analyse": "need_discovered", "build_trust": "internal_decision", "discover_needs": "procurement_design",
            "present_value": "evaluation", "win_commitment": "commitment", "won": "installation", "lost": "evaluation"}


def add_deals(seed: int) -> int:
    """Adds the deals demo to an existing demo; returns how many deals it opened."""
    from rapport.commerce.demo import CURRENCY_OF_TEAM, PER_EURO
    from rapport.relationships.models import DecisionUnit

    if Deal.objects.exists() or not User.objects.filter(role="admin").exists():
        return 0
    from rapport.deals.content import load_signals

    load_signals()  # the exit checklists, in case the database was emptied since its migration
    rng = random.Random(seed)
    today = timezone.localdate()
    with_units = list(Card.objects.filter(pk__in=DecisionUnit.objects.values("organization_id"), archived_at__isnull=True)
                      .select_related("owner", "team").order_by("id"))
    others = list(Card.objects.filter(kind="organization", archived_at__isnull=True, owner__role="rep")
                  .exclude(pk__in=[c.pk for c in with_units]).select_related("owner", "team").order_by("id")[:12])
    customers = (with_units + others)[:len(PLAN)]
    for i, (card, outcome) in enumerate(zip(customers, PLAN)):
        owner = card.owner
        if owner is None or owner.role not in ("rep", "manager"):
            continue
        team = card.team.name if card.team else ""
        texts = TEXTS[LANGUAGE_OF_TEAM.get(team, "en")]
        currency = CURRENCY_OF_TEAM.get(team, "EUR")
        amount = Decimal(rng.choice((8, 12, 18, 25, 40, 60, 90)) * 1000) * PER_EURO.get(currency, Decimal(1))
        close = today + dt.timedelta(days=rng.randint(-10, 120)) if outcome not in ("won", "lost") else today - dt.timedelta(days=rng.randint(5, 40))
        name = texts["deals"][i % len(texts["deals"])].format(year=today.year + 1)
        deal = services.create_deal(user=owner, data={
            card.kind: card.pk, "name": name, "amount": str(amount), "currency": currency, "expected_close": close.isoformat(),
            "buying_stage": STAGE_AT[outcome],
            "products": [{"product": sku, "quantity": str(rng.randint(10, 200))} for sku in rng.sample(["CEM-25", "TIL-60", "PNT-15", "DRL-18"], 2)],
        })
        _work(rng, owner, deal, outcome, texts)
        _age(rng, deal)
    return min(len(customers), len(PLAN))


def _work(rng: random.Random, user: User, deal: Deal, outcome: str, texts: dict[str, Any]) -> None:
    """Does the work of the steps the deal has passed, then moves it there."""
    target = "win_commitment" if outcome in ("won", "lost") else outcome
    reach = ORDER.index(target)
    answers = ("yes", "yes", "yes", "yes") if reach > 0 else ("yes", "yes", "", "")
    for key, answer in zip(("opportunity", "solution", "win", "worth"), answers):
        services.answer_question(user=user, deal=deal, key=key, answer=answer, justification=texts["why"] if answer else "")
    if deal.card.kind == "organization":
        from rapport.relationships.models import Member

        for member in Member.objects.filter(unit__organization_id=deal.card_id).order_by("-influence", "id")[:4]:
            services.add_contact(user=user, deal=deal, data={"member": member.pk, "roles": list(member.roles), "is_key": member.influence >= 20})
    if reach >= 2:
        for kind in ("goal", "problem", "solution", "product"):
            services.add_need(user=user, deal=deal, data={"kind": kind, "text": texts[kind]})
        for name, goal, weight in texts["criteria"]:
            services.add_criterion(user=user, deal=deal, data={"name": name, "target": goal, "weight": weight})
    if reach >= 3:
        needs = list(deal.needs.all())
        contacts = list(deal.contacts.all())
        for name, note in texts["competitors"]:
            competitor = services.add_competitor(user=user, deal=deal, data={"name": name, "note": note})
            services.add_point(user=user, competitor=competitor, data={
                "kind": "strength", "text": texts["strength"], "need": needs[1].pk if len(needs) > 1 else "",
                "contact": contacts[0].pk if contacts else "", "action": texts["action"]})
            services.add_point(user=user, competitor=competitor, data={"kind": "weakness", "text": texts["weakness"]})
    if reach >= 4:
        amount = deal.amount
        services.set_negotiation_plan(user=user, deal=deal, data={
            "roles": texts["roles"], "bottom_line": str((amount * Decimal("0.88")).quantize(Decimal(1))),
            "target": str(amount), "interests": ["price", "delivery", "payment", "support"]})
        for kind, side, interest, value in (("position", "theirs", "price", None), ("trade", "ours", "payment", None),
                                            ("concession", "ours", "delivery", amount * Decimal("0.03")),
                                            ("concession", "ours", "price", amount * Decimal("0.015")), ("agreed", "ours", "delivery", None)):
            services.add_negotiation_entry(user=user, deal=deal, data={
                "kind": kind, "side": side, "interest": interest, "text": texts[kind],
                "value": str(value.quantize(Decimal(1))) if value is not None else ""})
    for step in ORDER[1:reach + 1]:
        if step == "present_value":
            services.set_signal(user=user, deal=deal, signal_key="written_request", checked=True)
        deal.refresh_from_db()
        # Relationships are rarely all "trusted" in a demo: the override says why the rep went on.
        services.move_step(user=user, deal=deal, to=step, override_reason=texts["why"])
    deal.refresh_from_db()
    if outcome == "won":
        services.set_signal(user=user, deal=deal, signal_key="contract_signed", checked=True)
        services.close_deal(user=user, deal=deal, outcome="won", reason=rng.choice(("value", "relationship", "service")))
    elif outcome == "lost":
        services.close_deal(user=user, deal=deal, outcome="lost", reason="price", note=texts["weakness"])


def _age(rng: random.Random, deal: Deal) -> None:
    """Spreads the deal's history over the past weeks so days in step and time per step read
    like real work (the services stamp everything "now"; the demo alone rewrites the dates)."""
    now = timezone.now()
    moves = list(StepMove.objects.filter(deal=deal).order_by("moved_at", "id"))
    at = now - dt.timedelta(days=rng.randint(20, 30) * len(moves), hours=rng.randint(0, 20))
    first = at
    previous: dt.datetime | None = None
    for move in moves:
        seconds = int((at - previous).total_seconds()) if previous else None
        StepMove.objects.filter(pk=move.pk).update(moved_at=at, seconds_in_previous=seconds)
        previous = at
        at = at + dt.timedelta(days=rng.randint(6, 24), hours=rng.randint(0, 20))
    fields: dict[str, Any] = {"created_at": first, "updated_at": previous, "step_entered_at": previous}
    if deal.status == "lost":
        fields["closed_at"] = fields["updated_at"] = min(now, at)
    elif deal.closed_at is not None:
        fields["closed_at"] = previous
    Deal.objects.filter(pk=deal.pk).update(**fields)
