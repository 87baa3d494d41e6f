"""``rapport segments refresh``: ABC tiers from value, and the textbook's dimensions on every card."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.cards.models import Card
from rapport.cards.services import add_fact
from rapport.cli import main
from rapport.funnel.tests.factories import FakeOrders, orders
from rapport.segments import services
from rapport.segments.models import Dimensions


def test_abc_gives_a_to_the_few_cards_making_most_of_the_value() -> None:
    values = {1: 700.0, 2: 150.0, 3: 60.0, 4: 50.0, 5: 40.0}
    assert services.abc_tiers(values, (0.8, 0.95)) == {1: "A", 2: "A", 3: "B", 4: "B", 5: "C"}
    assert services.abc_tiers(values, (0.5, 0.9)) == {1: "A", 2: "B", 3: "B", 4: "C", 5: "C"}
    assert services.abc_tiers({1: 0.0, 2: 0.0}, (0.8, 0.95)) == {1: "C", 2: "C"}


def test_refresh_sets_tiers_from_revenue_and_keeps_a_hand_set_tier_without_value(users: Any, make_org: Any) -> None:
    big, mid, small = make_org(name="Big"), make_org(name="Mid"), make_org(name="Small")
    unknown = make_org(name="Unknown", tier="A")
    with orders(FakeOrders(revenue={big.id: 10_000.0, mid.id: 1_500.0, small.id: 100.0})):
        result = services.refresh()
    tiers = dict(Card.objects.values_list("display_name", "tier"))
    assert (tiers["Big"], tiers["Mid"], tiers["Small"], tiers["Unknown"]) == ("A", "B", "C", "A")
    assert result.valued == 3
    assert Card.objects.get(pk=big.pk).version == 2  # an edit form opened before must not overwrite the new tier


def test_refresh_uses_the_estimated_potential_until_orders_exist(users: Any, make_org: Any) -> None:
    rich, poor = make_org(name="Rich"), make_org(name="Poor")
    add_fact(user=users["rep_ana"], card=rich, item_key="category_purchase_volume", value={"amount": "900000", "currency": "EUR"}, source_key="rep_observation")
    add_fact(user=users["rep_ana"], card=poor, item_key="category_purchase_volume", value={"amount": "1000", "currency": "EUR"}, source_key="rep_observation")
    add_fact(user=users["rep_ana"], card=rich, item_key="annual_business_volume", value={"amount": "5000000", "currency": "EUR"}, source_key="rep_observation")
    services.refresh()
    rich, poor = Card.objects.get(pk=rich.pk), Card.objects.get(pk=poor.pk)
    assert rich.tier == "A" and poor.tier == "C"
    assert Dimensions.objects.get(card=rich).value == 900000.0
    # Completeness follows the new tier, exactly as the card's own measure.
    from rapport.cards.services import completeness_of

    assert 0 < rich.completeness == completeness_of(rich)
    assert poor.completeness == completeness_of(poor)


def test_refresh_computes_every_cards_dimensions(users: Any, make_org: Any, make_person: Any) -> None:
    from rapport.funnel import services as funnel

    target = make_org(name="Target", lifecycle_stage="prospect")
    funnel.set_qualification(user=users["rep_ana"], card=target, data={"intent": "clear", "power": "strong", "timeframe": "now"})
    funnel.move_stage(user=users["rep_ana"], card=target, to_stage="target")
    lost = make_org(name="Lost", lifecycle_stage="customer")
    funnel.move_stage(user=users["rep_ana"], card=lost, to_stage="lost", reason="moved away")
    regular = make_person(lifecycle_stage="regular")
    no_intent = make_org(name="No intent", lifecycle_stage="prospect")
    funnel.set_qualification(user=users["rep_ana"], card=no_intent, data={"intent": "none"})
    services.refresh()
    dims = {d.card_id: d for d in Dimensions.objects.all()}
    assert len(dims) == Card.objects.count()
    assert dims[target.pk].priority and dims[target.pk].likely and not dims[target.pk].buying and dims[target.pk].frequent is None
    assert not dims[lost.pk].likely and dims[lost.pk].familiar and not dims[lost.pk].buying  # bought once: familiar
    assert dims[regular.pk].buying and dims[regular.pk].frequent is True
    assert not dims[no_intent.pk].likely


def test_order_frequency_against_the_norm_decides_frequent_or_rare(users: Any, make_org: Any) -> None:
    import datetime as dt

    today = dt.date.today()
    often, rarely, middle = (make_org(name=n, lifecycle_stage="customer") for n in ("Often", "Rarely", "Middle"))
    dates = {
        often.pk: [today - dt.timedelta(days=d) for d in range(10, 370, 30)],
        rarely.pk: [today - dt.timedelta(days=360)],
        middle.pk: [today - dt.timedelta(days=d) for d in (40, 200, 360)],
    }
    with orders(FakeOrders(dates)):
        services.refresh()
    flags = dict(Dimensions.objects.values_list("card__display_name", "frequent"))
    assert (flags["Often"], flags["Middle"], flags["Rarely"]) == (True, True, False)


@pytest.mark.django_db
def test_the_command_line_refreshes_and_reports(users: Any, make_org: Any, capsys: Any) -> None:
    make_org(name="Only")
    assert main(["segments", "refresh"]) == 0
    assert "Refreshed 1 cards" in capsys.readouterr().out
    assert Dimensions.objects.count() == 1
    assert main(["funnel", "auto"]) == 0


def test_a_segment_can_filter_on_dimensions_after_a_refresh(users: Any, make_org: Any) -> None:
    from rapport.segments import selectors

    make_org(name="A customer", lifecycle_stage="customer")
    make_org(name="A suspect")
    services.refresh()
    assert selectors.count(users["rep_ana"], "", [{"field": "buying", "value": True}]) == (1, True)
    assert selectors.count(users["rep_ana"], "", [{"field": "likely", "value": True}, {"field": "buying", "value": False}]) == (1, True)


def test_each_dimension_condition_matches_exactly_the_cards_whose_dimensions_say_so(users: Any, make_org: Any, make_person: Any) -> None:
    from rapport.core.visibility import visible_to
    from rapport.funnel import services as funnel
    from rapport.segments import selectors

    def members(field: str, value: bool) -> set[int]:
        conditions = [{"field": field, "value": value}]
        return set(visible_to(users["rep_ana"]).filter(selectors.filter_q(users["rep_ana"], "", conditions)).values_list("id", flat=True))

    make_org(name="Customer", lifecycle_stage="customer")
    make_person(lifecycle_stage="regular")
    lost = make_org(name="Lost", lifecycle_stage="customer")
    funnel.move_stage(user=users["rep_ana"], card=lost, to_stage="lost", reason="moved away")
    make_org(name="Suspect")
    services.refresh()
    unrefreshed = make_org(name="Created after the refresh")  # no dimensions yet: matches neither
    for field in ("likely", "buying", "familiar", "frequent", "priority"):
        for value in (True, False):
            expected = set(Dimensions.objects.filter(**{field: value}).values_list("card_id", flat=True))
            found = members(field, value)
            assert found == expected and unrefreshed.pk not in found, (field, value)
            assert selectors.count(users["rep_ana"], "", [{"field": field, "value": value}]) == (len(expected), True)
    # A card whose stage moves is found under its new dimensions after the next refresh.
    funnel.move_stage(user=users["rep_ana"], card=lost, to_stage="prospect", reason="back in touch")
    assert lost.pk not in members("likely", True)
    services.refresh()
    assert lost.pk in members("likely", True)


def test_the_card_page_shows_the_dimensions_after_a_refresh(users: Any, ana: Any, make_org: Any) -> None:
    org = make_org(name="Shown", lifecycle_stage="customer")
    assert 'id="segmentation"' not in ana.get(f"/cards/{org.id}/").content.decode()
    services.refresh()
    html = ana.get(f"/cards/{org.id}/").content.decode()
    assert 'id="segmentation"' in html and "Buying customer (not only a visitor): <strong>Yes" in html


def test_tier_thresholds_are_configurable_and_checked(users: Any, make_org: Any, settings: Any) -> None:
    from rapport.core.errors import ValidationError

    big, small = make_org(name="Big"), make_org(name="Small")
    settings.RAPPORT_TIER_THRESHOLDS = (0.995, 0.999)
    with orders(FakeOrders(revenue={big.id: 100.0, small.id: 1.0})):
        services.refresh()
        assert Card.objects.get(pk=small.pk).tier == "A"
        settings.RAPPORT_TIER_THRESHOLDS = (0.9, 0.5)
        with pytest.raises(ValidationError):
            services.refresh()


def test_a_second_refresh_rewrites_only_the_dimensions_that_changed(users: Any, make_org: Any) -> None:
    from rapport.funnel import services as funnel

    still, moved = make_org(name="Still"), make_org(name="Moved")
    services.refresh()
    before = dict(Dimensions.objects.values_list("card_id", "refreshed_at"))
    funnel.move_stage(user=users["rep_ana"], card=moved, to_stage="prospect")
    funnel.move_stage(user=users["rep_ana"], card=moved, to_stage="lost", reason="closed down")
    services.refresh()
    after = {d.card_id: d for d in Dimensions.objects.all()}
    assert after[still.pk].refreshed_at == before[still.pk]
    assert after[moved.pk].refreshed_at > before[moved.pk] and after[moved.pk].likely is False
