"""The decision-unit API answers in a fixed number of queries, however many people it holds."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rapport.accounts.services import create_token
from rapport.relationships import services
from rapport.relationships.tests.factories import org_with_people


def queries_for(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_decision_unit_takes_the_same_queries_for_3_and_9_people(users: dict[str, Any]) -> None:
    ana = users["rep_ana"]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=ana)}")
    small, people = org_with_people(users)
    big, crowd = org_with_people(users, names=tuple(f"P{i}" for i in range(9)))
    for org, members in ((small, people), (big, crowd)):
        for person in members:
            services.add_member(user=ana, organization_id=org.pk, data={"person": person.pk, "influence": 5})
        for a, b in zip(members, members[1:]):
            services.add_relationship(user=ana, data={"from_person": a.pk, "to_person": b.pk, "kind": "reports_to"})
    client.get(f"/api/v1/organizations/{small.pk}/decision-unit")  # the token's first use is recorded once
    few = queries_for(client, f"/api/v1/organizations/{small.pk}/decision-unit")
    many = queries_for(client, f"/api/v1/organizations/{big.pk}/decision-unit")
    assert few == many
    assert many <= 12
