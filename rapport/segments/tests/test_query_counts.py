"""Segment members, stage history and the reports run a fixed number of queries however many rows they show."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rapport.accounts.services import create_token
from rapport.funnel import services as funnel
from rapport.segments.models import Segment


def count_queries(client: Client, url: str) -> int:
    client.get(url)  # warm the per-process catalog cache
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def populate(users: dict[str, Any], make_org: Any, n: int) -> Any:
    ana = users["rep_ana"]
    referrer = make_org(name="Referrer", lifecycle_stage="customer")
    for i in range(n):
        org = make_org(name=f"Org {i:02d}", tier="A")
        funnel.move_stage(user=ana, card=org, to_stage="prospect")
        funnel.set_prospecting(user=ana, card=org, data={"referred_by": referrer.id, "found_by": "agent"})
    return referrer


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/segments/{segment}/members?limit=50",
        "/api/v1/reports/funnel",
        "/api/v1/reports/methods",
        "/api/v1/reports/referrers",
        "/api/v1/organizations/{referrer}/stage-history",
        "/api/v1/organizations/{referrer}/prospecting",
    ],
)
def test_the_query_count_does_not_grow_with_the_rows(users: dict[str, Any], make_org: Any, url: str) -> None:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=users['rep_ana'])}")
    segment = Segment.objects.create(name="A", owner=users["rep_ana"], conditions=[{"field": "tier", "value": ["A"]}])
    referrer = populate(users, make_org, 3)
    few = count_queries(client, url.format(segment=segment.id, referrer=referrer.id))
    populate(users, make_org, 12)
    many = count_queries(client, url.format(segment=segment.id, referrer=referrer.id))
    assert many == few
