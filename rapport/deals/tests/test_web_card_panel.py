"""The deals panel on organisation and person cards, the navigation entry and the card timeline."""

from typing import Any


def test_the_card_shows_its_deals_open_first_with_step_and_amount(ana: Any, users: Any, org: Any, make_deal: Any) -> None:
    from rapport.deals import services

    lost = make_deal(name="Old tender", amount="5000")
    services.close_deal(user=users["rep_ana"], deal=lost, outcome="lost", reason="price")
    make_deal(name="Fleet renewal", amount="120000")
    html = ana.get(f"/cards/{org.pk}/").content.decode()
    assert 'id="deals"' in html
    assert html.index("Fleet renewal") < html.index("Old tender")
    assert "Analyse the customer" in html and "€120,000.00" in html and "Lost" in html
    assert f"/deals/new/?organization={org.pk}" in html


def test_a_persons_card_offers_a_new_deal_for_that_person(ana: Any, make_person: Any) -> None:
    person = make_person()
    html = ana.get(f"/cards/{person.pk}/").content.decode()
    assert f"/deals/new/?person={person.pk}" in html and "No deals with this customer yet." in html


def test_the_main_navigation_has_deals(ana: Any, users: Any) -> None:
    html = ana.get("/").content.decode()
    assert 'href="/deals/"' in html and ">Deals</a>" in html


def test_the_timeline_shows_a_deal_opened_moved_and_lost(ana: Any, users: Any, org: Any, make_deal: Any) -> None:
    from rapport.cards.selectors import timeline_of
    from rapport.deals import services

    deal = make_deal(name="Fleet renewal")
    services.move_step(user=users["rep_ana"], deal=deal, to="build_trust", override_reason="Repeat buyer")
    services.close_deal(user=users["rep_ana"], deal=deal, outcome="lost", reason="no_budget", note="Frozen until 2028")
    entries = [e for e in timeline_of(users["rep_ana"], org) if e.type == "deal"]
    assert [e.kind for e in entries] == ["lost", "step", "created"]
    assert "Analyse the customer → Build trust" in entries[1].title and "Repeat buyer" in entries[1].detail
    assert "No budget" in entries[0].detail and entries[0].url == f"/deals/{deal.pk}/"
    html = ana.get(f"/cards/{org.pk}/").content.decode()
    assert "Deal opened" in html


def test_another_teams_rep_sees_no_deal_events_on_a_shared_card(users: Any, org: Any, make_deal: Any) -> None:
    from rapport.cards.selectors import timeline_of

    make_deal()
    assert [e for e in timeline_of(users["rep_bo_other_team"], org) if e.type == "deal"] == []
