"""A deal's page gives the numbers to call: the customer's and each person's in the deal, as
tel: links in E.164, and nothing of a person card the user may not see."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rapport.cards.models import Card


def _person_in_deal(users: Any, org: Any, deal: Any, make_person: Any, **data: Any) -> Any:
    from rapport.deals import services
    from rapport.relationships.services import add_member

    person = make_person(**data)
    member = add_member(user=users["rep_ana"], organization_id=org.pk, data={"person": person.pk, "roles": ["evaluator"]})
    services.add_contact(user=users["rep_ana"], deal=deal, data={"member": member.pk, "roles": ["evaluator"]})
    return person


def test_the_deal_page_links_the_customers_and_each_persons_number(ana: Client, users: Any, make_org: Any, make_person: Any,
                                                                   make_deal: Any) -> None:
    org = make_org(name="Talleres Sur S.L.", phones=["+34 912 345 678"])
    deal = make_deal(card=org)
    _person_in_deal(users, org, deal, make_person, given_name="Lucía", phones=["+34 612 34 56 78"])
    html = ana.get(f"/deals/{deal.pk}/").content.decode()
    assert 'href="tel:+34912345678"' in html
    assert 'href="tel:+34612345678"' in html and "+34 612 34 56 78" in html


def test_a_person_card_the_user_may_not_see_shows_no_number_on_the_deal(ana: Client, users: Any, make_org: Any, make_person: Any,
                                                                         make_deal: Any) -> None:
    from rapport.accounts.models import Team

    org = make_org(name="Talleres Sur S.L.")
    deal = make_deal(card=org)
    person = _person_in_deal(users, org, deal, make_person, given_name="Tomás", phones=["+34 699 11 22 33"])
    # The person's card went to another team since: ana sees the deal, not that card.
    Card.objects.filter(pk=person.pk).update(owner=users["rep_bo_other_team"], team=Team.objects.get(name="South"))
    html = ana.get(f"/deals/{deal.pk}/").content.decode()
    assert "tel:+34699112233" not in html and "699" not in html
    other = Client()
    other.force_login(users["rep_bo_other_team"])
    assert other.get(f"/deals/{deal.pk}/").status_code == 404


def test_the_numbers_take_one_query_however_many_people(ana: Client, users: Any, make_org: Any, make_person: Any,
                                                        make_deal: Any) -> None:
    org = make_org(name="Talleres Sur S.L.", phones=["+34 912 345 678"])
    deal = make_deal(card=org)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert ana.get(f"/deals/{deal.pk}/").status_code == 200
        return len(ctx.captured_queries)

    _person_in_deal(users, org, deal, make_person, given_name="Ana", phones=["+34 611 00 00 01"])
    few = count()
    for n in range(2, 6):
        _person_in_deal(users, org, deal, make_person, given_name=f"Persona {n}", phones=[f"+34 611 00 00 0{n}"])
    assert count() == few
