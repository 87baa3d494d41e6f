"""A visit's pages give the numbers to call: the distributor's and each person's to meet, as
tel: links in E.164 (the visit, its preparation and the day's route), and nothing of a person
card the user may not see."""

from __future__ import annotations

from typing import Any

from django.test import Client

from rapport.cards.models import Card


def test_the_visit_page_links_the_distributors_and_the_persons_numbers(ana: Client, make_org: Any, make_person: Any,
                                                                       make_visit: Any) -> None:
    org = make_org(name="Distribuciones Levante S.L.", phones=["+34 963 000 111"])
    buyer = make_person(given_name="Elena", phones=["+34 655 44 33 22"])
    visit = make_visit(card=org, people=[buyer.pk])
    html = ana.get(f"/visits/{visit.pk}/").content.decode()
    assert 'href="tel:+34963000111"' in html and 'href="tel:+34655443322"' in html and "+34 655 44 33 22" in html
    prepared = ana.get(f"/visits/{visit.pk}/reflection/").content.decode()
    assert 'href="tel:+34963000111"' in prepared and 'href="tel:+34655443322"' in prepared


def test_the_days_route_links_each_customers_number(ana: Client, make_org: Any, make_visit: Any) -> None:
    org = make_org(name="Distribuciones Levante S.L.", phones=["+34 963 000 111"])
    make_visit(card=org, date="2027-03-15")
    html = ana.get("/visits/?day=2027-03-15").content.decode()
    assert 'href="tel:+34963000111"' in html


def test_a_person_card_the_user_may_not_see_shows_no_number_on_the_visit(ana: Client, users: Any, make_org: Any, make_person: Any,
                                                                          make_visit: Any) -> None:
    from rapport.accounts.models import Team

    org = make_org(name="Distribuciones Levante S.L.")
    buyer = make_person(given_name="Elena", phones=["+34 655 44 33 22"])
    visit = make_visit(card=org, people=[buyer.pk])
    # The person's card went to another team since: ana sees the visit, not that card.
    Card.objects.filter(pk=buyer.pk).update(owner=users["rep_bo_other_team"], team=Team.objects.get(name="South"))
    for url in (f"/visits/{visit.pk}/", f"/visits/{visit.pk}/reflection/"):
        html = ana.get(url).content.decode()
        assert "tel:+34655443322" not in html and "655 44" not in html, url
