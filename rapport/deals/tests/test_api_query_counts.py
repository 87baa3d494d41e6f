"""The deal list and a deal's detail take the same number of queries for few rows as for many."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rapport.commerce.tests.factories import api, priced_catalog
from rapport.deals import services

pytestmark = pytest.mark.django_db


def _count(get: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert get().status_code == 200
    return len(ctx.captured_queries)


def test_the_deal_list_does_not_grow_with_its_rows(users: Any, make_org: Any, make_deal: Any, django_assert_max_num_queries: Any) -> None:
    client = api(users["manager_mei"])
    client.get("/api/v1/deals")  # the token's first use is recorded once

    def add(n: int) -> None:
        for i in range(n):
            make_deal(user="rep_ben" if i % 2 else "rep_ana", card=make_org(name=f"Cliente {n}-{i}"), name=f"Deal {n}-{i}")

    add(2)
    few = _count(lambda: client.get("/api/v1/deals"))
    add(8)
    assert _count(lambda: client.get("/api/v1/deals")) == few
    # The token, the manager's teams, the page of deals with their customers, owners and teams, the count.
    with django_assert_max_num_queries(6):
        client.get("/api/v1/deals?status=open&step=analyse")


def test_a_deals_detail_does_not_grow_with_its_people_products_and_criteria(
    users: Any, org: Any, make_deal: Any, make_person: Any, django_assert_max_num_queries: Any,
) -> None:
    from rapport.relationships.services import add_member

    ana = users["rep_ana"]
    priced_catalog(users["admin"])
    deal = make_deal(buying_stage="evaluation", products=[{"product": "OIL-5L", "quantity": 1}])
    client = api(ana)
    url = f"/api/v1/deals/{deal.pk}"
    client.get(url)

    def add_people(names: list[str]) -> None:
        for name in names:
            member = add_member(user=ana, organization_id=org.pk, data={"person": make_person(given_name=name).pk, "roles": ["evaluator"]})
            services.add_contact(user=ana, deal=deal, data={"member": member.pk, "roles": ["evaluator"]})
            services.add_criterion(user=ana, deal=deal, data={"name": f"Criterion {name}", "weight": 5})

    add_people(["Ana"])
    few = _count(lambda: client.get(url))
    add_people(["Bea", "Carla", "Dora", "Eva"])
    services.update_deal(user=ana, deal=deal, data={"products": [{"product": "OIL-5L"}, {"product": "FLT-01"}]})
    assert _count(lambda: client.get(url)) == few
    # The token, the rep's teams, the deal, its people and their profiles, products, criteria, concessions.
    with django_assert_max_num_queries(8):
        response = client.get(url)
    assert len(response.json()["who_matters_now"]["people"]) == 5
