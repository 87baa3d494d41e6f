"""Demo data: multilingual, made through the services, the same for the same seed, created once."""

from __future__ import annotations

from collections import Counter
from typing import Any

import phonenumbers
import pytest

from rapport.accounts.models import ApiToken, Team, User
from rapport.activities.models import Activity, ActivityKind
from rapport.cards import demo
from rapport.cards.models import Card, Email, Employment, Fact, Phone
from rapport.core.text import has_han


@pytest.fixture
def result(db: Any) -> demo.DemoResult:
    return demo.generate(organizations=10, people=40, seed=5)


def test_it_creates_every_demo_login_with_the_demo_password(result: demo.DemoResult) -> None:
    assert {u.username for u in User.objects.all()} == {login.username for login in demo.LOGINS}
    for login in demo.LOGINS:
        user = User.objects.get(username=login.username)
        assert user.role == login.role and user.check_password(demo.DEMO_PASSWORD)
        assert user.can_see_special == login.sensitive
    assert {"Norte", "华东", "București"} <= set(Team.objects.values_list("name", flat=True))


def test_it_creates_the_requested_cards_plus_a_few_deliberate_duplicates(result: demo.DemoResult) -> None:
    assert Card.objects.filter(kind="organization").count() == 10
    assert Card.objects.filter(kind="person").count() == 40 + result.duplicates
    assert result.duplicates >= 1
    assert Employment.objects.exists()


def test_people_come_from_five_countries_with_valid_phones(result: demo.DemoResult) -> None:
    regions = Counter(Phone.objects.values_list("region", flat=True))
    assert set(regions) == {"ES", "MX", "CN", "RO", "US"}
    for e164 in Phone.objects.values_list("e164", flat=True):
        assert phonenumbers.is_valid_number(phonenumbers.parse(e164))
    assert Email.objects.count() >= 50


def test_chinese_people_have_their_han_name_and_a_pinyin_name(result: demo.DemoResult) -> None:
    chinese = [c for c in Card.objects.filter(kind="person") if c.local_name]
    assert chinese
    for card in chinese:
        assert has_han(card.local_name)
        assert card.given_name.isascii() and card.family_name.isascii()


def test_facts_come_from_several_sources_and_some_disagree(result: demo.DemoResult) -> None:
    assert Fact.objects.values("source").distinct().count() >= 5
    per_item = Counter(Fact.objects.values_list("card_id", "item_id"))
    disagreeing = [key for key, n in per_item.items() if n > 1]
    assert disagreeing
    card_id, item_id = disagreeing[0]
    facts = list(Fact.objects.filter(card_id=card_id, item_id=item_id))
    assert len({f.source_id for f in facts}) > 1 and len({repr(f.value) for f in facts}) > 1
    assert all(card.profile for card in Card.objects.filter(kind="organization"))


def test_activities_of_every_kind_are_logged(result: demo.DemoResult) -> None:
    assert set(Activity.objects.values_list("kind", flat=True)) == set(ActivityKind.values)


def test_it_skips_when_the_demo_is_already_there(result: demo.DemoResult) -> None:
    cards = Card.objects.count()
    again = demo.generate(organizations=10, people=40, seed=5)
    assert again.skipped and Card.objects.count() == cards


def test_the_same_seed_gives_the_same_data(result: demo.DemoResult) -> None:
    def names() -> list[tuple[str, str, str]]:
        return list(Card.objects.order_by("id").values_list("display_name", "local_name", "lifecycle_stage"))

    first = names()
    from django.apps import apps

    # The commercial record protects its customers from deletion: it goes first, newest app first.
    for label in ("analytics", "visits", "deals", "aftersales", "commerce"):
        for model in reversed(list(apps.get_app_config(label).get_models())):
            model._default_manager.all().delete()
    Activity.objects.all().delete()
    Card.objects.all().delete()
    ApiToken.objects.all().delete()
    User.objects.all().delete()
    Team.objects.all().delete()
    demo.generate(organizations=10, people=40, seed=5)
    assert names() == first
