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


def test_a_card_without_deals_reads_its_panel_and_its_deal_events_in_one_query_each(
    users: Any, make_person: Any, django_assert_num_queries: Any
) -> None:
    from rapport.deals.selectors import timeline_entries
    from rapport.deals.views.deal import panel_context

    person = make_person()
    with django_assert_num_queries(1):
        assert panel_context(users["rep_ana"], person) == {"rows": [], "more": False, "open_count": 0, "can_create": True}
    with django_assert_num_queries(1):
        assert timeline_entries(users["rep_ana"], person, 25, None) == []


def test_the_panel_and_the_deal_events_of_a_card_with_deals_take_a_fixed_number_of_queries(
    users: Any, org: Any, make_deal: Any, django_assert_num_queries: Any
) -> None:
    from rapport.core.visibility import scope_for
    from rapport.deals import services
    from rapport.deals.selectors import timeline_entries
    from rapport.deals.views.deal import panel_context

    ana = users["rep_ana"]
    for n in range(3):
        deal = make_deal(name=f"Deal {n}")
        services.move_step(user=ana, deal=deal, to="build_trust", override_reason="Repeat buyer")
    services.close_deal(user=ana, deal=deal, outcome="lost", reason="price")
    scope_for(ana).card_q()  # the user's teams, read once per request
    with django_assert_num_queries(2):  # the probe and the deals
        data = panel_context(ana, org)
    assert [(r["name"], r["is_open"], r["step"], r["outcome"]) for r in data["rows"]] == [
        ("Deal 1", True, "Build trust", ""), ("Deal 0", True, "Build trust", ""), ("Deal 2", False, "Build trust", "Lost")]
    assert data["open_count"] == 2 and data["rows"][0]["amount"] == "€120,000.00"
    with django_assert_num_queries(3):  # the probe, the deals and their moves
        entries = timeline_entries(ana, org, 25, None)
    assert sorted(e.kind for e in entries) == ["created"] * 3 + ["lost"] + ["step"] * 3
    assert {e.by for e in entries} == {"rep_ana"}
