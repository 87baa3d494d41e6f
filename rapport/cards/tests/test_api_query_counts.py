"""List endpoints run a fixed number of queries whatever the page size (no N+1)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rapport.accounts.services import create_token
from rapport.activities.services import log_activity
from rapport.cards import services


def count_queries(client: Client, url: str) -> int:
    client.get(url)  # warm the per-process catalog cache
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


@pytest.fixture
def populated(users: dict[str, Any], make_org: Any, make_person: Any) -> Client:
    ana = users["rep_ana"]
    for i in range(25):
        org = make_org(name=f"Org {i:02d}", phones=["+34 912 345 678"], emails=[f"org{i}@example.com"], tier="A")
        person = make_person(given_name=f"P{i:02d}", family_name="Ruiz", phones=["+34 612 345 678"], organization=org.id, tier="A")
        services.add_fact(user=ana, card=org, item_key="business_scope", value="Hardware", source_key="rep_observation")
        log_activity(user=ana, data={"kind": "call", "summary": f"Call {i}", "cards": [org.id, person.id]})
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=ana)}")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/organizations?limit={n}",
        "/api/v1/people?limit={n}&tier=A",
        "/api/v1/organizations?limit={n}&item=business_scope&value=hardware",
        "/api/v1/activities?limit={n}",
        "/api/v1/search?q=ruiz&limit={n}",
    ],
)
def test_list_endpoints_run_the_same_number_of_queries_for_2_and_20_rows(populated: Client, url: str) -> None:
    small = count_queries(populated, url.format(n=2))
    large = count_queries(populated, url.format(n=20))
    assert small == large
    assert large <= 12


def test_a_card_read_runs_a_small_fixed_number_of_queries(populated: Client, users: dict[str, Any]) -> None:
    from rapport.cards.models import Card

    org = Card.objects.filter(kind="organization").first()
    assert org is not None
    # The user, the card by primary key and its phones, e-mails and addresses in one query (the
    # pin was 8, the read ran 6).
    assert count_queries(populated, f"/api/v1/organizations/{org.id}") <= 4


@pytest.mark.parametrize(
    "query",
    ["limit=20", "limit=7&offset=3", "tier=A&limit=50", "item=business_scope&value=hardware&limit=10", "q=org&limit=5"],
)
def test_a_list_answered_from_rows_holds_exactly_what_the_cards_themselves_give(
    populated: Client, users: dict[str, Any], query: str
) -> None:
    from django.http import QueryDict
    from ninja.responses import NinjaJSONEncoder

    from rapport.cards.api import COUNT_LIMIT
    from rapport.cards.api import CardFilterParams
    from rapport.cards.schemas import CardList, CardOut
    from rapport.cards.selectors import list_cards

    ana = users["rep_ana"]
    shown = 0
    for kind, path in (("organization", "organizations"), ("person", "people")):
        answer = populated.get(f"/api/v1/{path}?{query}")
        assert answer.status_code == 200, answer.content
        params: dict[str, Any] = {k: v for k, v in QueryDict(query).items() if k not in ("limit", "offset")}
        page = QueryDict(query)
        cards, total = list_cards(
            ana, CardFilterParams.model_validate(params).visible_filter(ana, kind),
            offset=int(page.get("offset", 0)), limit=int(page["limit"]), count_limit=COUNT_LIMIT,
        )
        expected = CardList.model_validate(
            {"items": [CardOut.from_card(c) for c in cards], "count": min(total, COUNT_LIMIT), "count_exact": total <= COUNT_LIMIT}
        )
        # Through the API's JSON encoder, which writes date-times to the millisecond.
        got, want = answer.json(), json.loads(json.dumps(expected.model_dump(), cls=NinjaJSONEncoder))
        diffs = [(k, g[k], w[k]) for g, w in zip(got["items"], want["items"]) for k in g if g[k] != w[k]]
        assert got == want, (kind, query, diffs[:3])
        shown += len(got["items"])
    assert shown  # the comparison is not between two empty pages


def test_a_card_read_answers_a_reference_to_a_person_as_its_id_without_reading_that_persons_name(
    populated: Client, users: dict[str, Any], make_org: Any, make_person: Any
) -> None:
    from rapport.catalog import selectors as catalog

    ref = next(i for i in catalog.items().values()
               if i.type == "person" and i.applies_to in ("any", "organization") and i.sensitivity in ("public", "internal"))
    org = make_org(name="Referencias SA", owner="rep_ana")
    boss = make_person(given_name="Elena", family_name="Jefa", owner="rep_ana")
    services.add_fact(user=users["rep_ana"], card=org, item_key=ref.key, value=boss.id, source_key="customer_stated")
    url = f"/api/v1/organizations/{org.id}"
    plain = make_org(name="Sin referencias SA", owner="rep_ana")
    assert count_queries(populated, url) == count_queries(populated, f"/api/v1/organizations/{plain.id}")
    body = populated.get(url).json()
    assert body["profile"][ref.key]["value"] == boss.id
    assert "Jefa" not in json.dumps(body)
