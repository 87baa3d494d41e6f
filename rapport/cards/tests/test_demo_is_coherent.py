"""Demo data a visitor believes: each market's texts in its own language, addresses whose
postcode, city and region belong together, industries that fit the trade, working hours."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from rapport.cards import demo
from rapport.cards.models import Address, Card, Kind, StageChange
from rapport.funnel.demo import LOST_REASONS

ENGLISH_WORDS = {"the", "with", "at", "their", "office", "call", "visit", "competitor", "budget", "shop", "meal", "gift"}


@pytest.fixture
def result(db: Any) -> demo.DemoResult:
    return demo.generate(organizations=15, people=40, seed=11)


def _market_of(card: Card) -> demo.Market:
    return next(m for m in demo.MARKETS if card.team is not None and m.team == card.team.name)


def test_every_address_has_a_postcode_of_its_city_in_its_region(result: demo.DemoResult) -> None:
    addresses = list(Address.objects.select_related("card__team"))
    assert len(addresses) > 15
    for address in addresses:
        places = demo.PLACES[_market_of(address.card).locale]
        place = next((p for p in places if (p.city, p.region) == (address.city, address.region)), None)
        assert place is not None, (address.city, address.region)
        assert len(address.postal_code) == place.digits and address.postal_code.isdigit()
        assert place.first_postcode <= int(address.postal_code) <= place.last_postcode, (address.city, address.postal_code)


def test_an_organisation_named_for_its_trade_is_in_that_trades_industry(result: demo.DemoResult) -> None:
    orgs = list(Card.objects.filter(kind=Kind.ORGANIZATION, display_name__gt="").select_related("team"))
    checked = 0
    for org in orgs:
        market = _market_of(org)
        for pattern, industries in market.trades.items():
            prefix, _, suffix = pattern.partition("{n}")
            if org.display_name.startswith(prefix) and org.display_name.endswith(suffix):
                assert org.industry in industries, (org.display_name, org.industry)
                checked += 1
        assert not org.display_name.startswith("Concesionario")  # a car dealer has no place in these trades
    assert checked > 0


def test_activities_happen_on_weekdays_in_working_hours(result: demo.DemoResult) -> None:
    from rapport.activities.models import Activity

    times = [(timezone.localtime(a.occurred_at), a.kind, a.summary) for a in Activity.objects.all()]
    assert len(times) > 20
    for at, kind, summary in times:
        assert dt.time(8, 30) <= at.time() <= dt.time(18, 30), (at, kind, summary)
        assert at.weekday() < 5, (at, kind, summary)
        assert at <= timezone.localtime() + dt.timedelta(minutes=1)


def test_lost_reasons_and_relationship_activities_are_in_the_markets_language(result: demo.DemoResult) -> None:
    from rapport.activities.models import Activity

    lost = StageChange.objects.filter(to_stage="lost").select_related("card__team")
    assert lost.exists()
    for change in lost:
        market = _market_of(change.card)
        assert change.reason in LOST_REASONS[market.language], (market.team, change.reason)
    non_english = 0
    for activity in Activity.objects.prefetch_related("cards__team"):
        market = _market_of(activity.cards.all()[0])
        if market.language == "en":
            continue
        non_english += 1
        words = set(activity.summary.casefold().replace(":", " ").split())
        assert not words & ENGLISH_WORDS, (market.team, activity.summary)
        assert activity.summary != "Visit at their office"
    assert non_english > 10
