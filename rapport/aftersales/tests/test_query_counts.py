"""The team page and the API lists take the same number of queries for 2 records as for 8."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rapport.aftersales import services
from rapport.aftersales.tests.factories import api, check_for, satisfied


def _records(make_org: Any, users: dict[str, Any], n: int) -> None:
    ana = users["rep_ana"]
    for i in range(n):
        card = make_org(name=f"Cliente {n}-{i}")
        check_for(card)
        services.open_case(user=ana, card=card, data={"subject": f"Caso {i}", "due_on": "2026-04-01"})
        referrer = make_org(name=f"Referente {n}-{i}")
        satisfied(referrer, ana)
        asked = services.ask_for_referrals(user=ana, card=referrer, data={})
        services.record_referral_outcome(user=ana, request=asked, data={"outcome": "given", "referred": [card.pk]})


def _count(get: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert get().status_code == 200
    return len(ctx.captured_queries)


def test_the_team_page_and_api_lists_do_not_grow_with_their_rows(
    make_org: Any, users: dict[str, Any], django_assert_max_num_queries: Any, settings: Any,
) -> None:
    # The token is read again once its cache expires: on a slow machine that fell between the
    # two counts and added a query to one of them.
    settings.RAPPORT_TOKEN_CACHE_SECONDS = 3600
    page = Client()
    page.force_login(users["rep_ana"])
    client = api(users["rep_ana"])
    client.get("/api/v1/aftersales/cases")  # the token's first use is recorded once
    urls = ["/api/v1/aftersales/cases", "/api/v1/aftersales/checks?state=all", "/api/v1/aftersales/referrals"]

    def counts() -> list[int]:
        return [_count(lambda: page.get("/aftersales/"))] + [_count(partial(client.get, url)) for url in urls]

    _records(make_org, users, 2)
    few = counts()
    _records(make_org, users, 6)
    many = counts()
    assert few == many
    with django_assert_max_num_queries(12):
        page.get("/aftersales/")
    for url in urls:
        with django_assert_max_num_queries(8):
            client.get(url)


def test_the_card_panel_does_not_grow_with_its_rows(make_org: Any, users: dict[str, Any]) -> None:
    ana = users["rep_ana"]
    page = Client()
    page.force_login(ana)

    def customer_with(n: int) -> Any:
        card = make_org(name=f"Cliente con {n}")
        for i in range(n):
            check_for(card)
            services.open_case(user=ana, card=card, data={"subject": f"Caso {i}"})
        return card

    small, big = customer_with(1), customer_with(5)
    page.get(f"/cards/{small.pk}/")  # the first page of a session fills caches
    assert _count(lambda: page.get(f"/cards/{small.pk}/")) == _count(lambda: page.get(f"/cards/{big.pk}/"))
