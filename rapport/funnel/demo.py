"""Funnel demo data: how each demo card was found, who referred it, its qualification and a
plausible stage history over the last year, so the funnel page has something to show."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from rapport.cards.models import Card, Stage, StageChange
from rapport.catalog import selectors as catalog
from rapport.catalog.models import SourceGroup
from rapport.funnel.models import Qualification

# The path a card walked to reach its stage (lost and dormant cards went part of the way first).
PATHS = {
    Stage.SUSPECT: [Stage.SUSPECT],
    Stage.PROSPECT: [Stage.SUSPECT, Stage.PROSPECT],
    Stage.TARGET: [Stage.SUSPECT, Stage.PROSPECT, Stage.TARGET],
    Stage.CUSTOMER: [Stage.SUSPECT, Stage.PROSPECT, Stage.TARGET, Stage.CUSTOMER],
    Stage.REGULAR: [Stage.SUSPECT, Stage.PROSPECT, Stage.TARGET, Stage.CUSTOMER, Stage.REGULAR],
    Stage.DORMANT: [Stage.SUSPECT, Stage.PROSPECT, Stage.CUSTOMER, Stage.DORMANT],
    Stage.LOST: [Stage.SUSPECT, Stage.PROSPECT, Stage.LOST],
}
RULES = {
    (Stage.SUSPECT, Stage.PROSPECT): "advance", (Stage.PROSPECT, Stage.TARGET): "advance",
    (Stage.TARGET, Stage.CUSTOMER): "won", (Stage.PROSPECT, Stage.CUSTOMER): "won",
    (Stage.CUSTOMER, Stage.REGULAR): "repeat", (Stage.CUSTOMER, Stage.DORMANT): "lapsed", (Stage.PROSPECT, Stage.LOST): "lose",
}
# Why a card was lost, in the language of the market it belongs to (the team's language).
LOST_REASONS = {
    "en": ["Chose a competitor on price", "No budget this year", "Closed the shop", "Bought from a relative's company"],
    "es": ["Eligió a un competidor por precio", "Sin presupuesto este año", "Cerró la tienda", "Compra a la empresa de un familiar"],
    "zh-hans": ["因价格选择了竞争对手", "今年没有预算", "门店已关闭", "从亲戚的公司采购"],
    "ro": ["A ales un concurent pe preț", "Fără buget anul acesta", "A închis magazinul", "Cumpără de la firma unei rude"],
}
QUALIFICATIONS = [
    {"intent": "clear", "power": "strong", "timeframe": "now"},  # invest time now
    {"intent": "clear", "power": "weak", "timeframe": "quarter"},  # keep in touch
    {"intent": "clear", "power": "strong", "timeframe": "later"},  # park and check back
    {"intent": "unclear", "power": "", "timeframe": ""},
]


def enrich(seed: int) -> None:
    """Adds prospecting, referrals, qualification and stage history to the demo cards."""
    rng = random.Random(seed)
    now = timezone.now()
    methods = [s for s in catalog.sources().values() if s.group == SourceGroup.METHOD]
    cards = list(Card.objects.order_by("id").only("id", "lifecycle_stage", "team_id", "owner_id"))
    languages = _team_languages()
    customers_by_team: dict[Any, list[int]] = {}
    for card in cards:
        if card.lifecycle_stage in (Stage.CUSTOMER, Stage.REGULAR):
            customers_by_team.setdefault(card.team_id, []).append(card.id)
    StageChange.objects.filter(card__in=cards).delete()  # replaced by the walked path below
    changes, qualifications = [], []
    for card in cards:
        method = rng.choice(methods) if methods else None
        referrer = None
        peers = [c for c in customers_by_team.get(card.team_id, []) if c != card.id]
        if peers and rng.random() < 0.2:
            referrer = rng.choice(peers)
            method = catalog.sources().get("referral_chain", method)
        start = now - dt.timedelta(days=rng.randint(30, 400))
        Card.objects.filter(pk=card.id).update(found_by=method, referred_by_id=referrer, created_at=start)
        path = PATHS[Stage(card.lifecycle_stage)]
        moments = sorted(start + (now - start) * rng.random() for _ in path[1:])
        previous = ""
        for stage, at in zip(path, [start, *moments]):
            lost_reasons = LOST_REASONS.get(languages.get(card.team_id, "en"), LOST_REASONS["en"])
            reason = "created" if not previous else rng.choice(lost_reasons) if stage == Stage.LOST else ""
            changes.append(StageChange(
                card_id=card.id, from_stage=previous, to_stage=stage, changed_at=at, changed_by_id=card.owner_id,
                reason=reason, rule=RULES.get((Stage(previous), stage), "") if previous else "",
            ))
            previous = stage
        if card.lifecycle_stage in (Stage.PROSPECT, Stage.TARGET):
            answers = QUALIFICATIONS[0] if card.lifecycle_stage == Stage.TARGET else rng.choice(QUALIFICATIONS)
            qualifications.append(Qualification(
                card_id=card.id, **answers, updated_by_id=card.owner_id,
                check_back_on=(now + dt.timedelta(days=90)).date() if answers["timeframe"] == "later" else None,
            ))
    StageChange.objects.bulk_create(changes, batch_size=2000)
    Qualification.objects.bulk_create(qualifications, batch_size=2000)


def _team_languages() -> dict[Any, str]:
    """The language of each demo team's market, by team id."""
    from rapport.accounts.models import Team
    from rapport.cards.demo import MARKETS

    by_name = {market.team: market.language for market in MARKETS}
    return {team_id: by_name[name] for team_id, name in Team.objects.filter(name__in=by_name).values_list("id", "name")}
