"""Segment members paged by cursor (a card id, never a name): the same members as a plain sorted
query, forwards and backwards, for every user and branch of visibility; bad cursors refused alike."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rapport.accounts.models import User
from rapport.accounts.services import create_token
from rapport.cards.models import Card
from rapport.core.errors import ValidationError
from rapport.segments import selectors
from rapport.segments.models import Segment
from rapport.segments.tests.test_broad_segments import BROAD, expected_ids, world  # noqa: F401  (fixture)


def walk_forwards(user: User, segment: Segment, limit: int, known: tuple[int, bool] | None = None) -> list[int]:
    seen: list[int] = []
    page = selectors.member_page(user, segment, limit=limit, known_count=known)
    assert page.prev_before is None
    while True:
        seen += [c.pk for c in page.cards]
        if page.next_after is None:
            return seen
        assert page.next_after == page.cards[-1].pk
        page = selectors.member_page(user, segment, after=page.next_after, limit=limit, known_count=known)
        assert page.prev_before == page.cards[0].pk


def walk_backwards(user: User, segment: Segment, last: int, limit: int, known: tuple[int, bool] | None = None) -> list[int]:
    """From the end: the page before a cursor past the last member, then each previous page."""
    seen: list[int] = []
    page = selectors.member_page(user, segment, before=last, limit=limit, known_count=known)
    while True:
        seen = [c.pk for c in page.cards] + seen
        if page.prev_before is None:
            return seen
        page = selectors.member_page(user, segment, before=page.prev_before, limit=limit, known_count=known)


@pytest.mark.parametrize("username", ["rep_ana", "rep_ben", "rep_bo_other_team", "manager_mei", "admin"])
@pytest.mark.parametrize("conditions", BROAD)
@pytest.mark.parametrize("kind", ["", "organization"])
def test_walking_the_cursors_either_way_gives_exactly_the_visible_members_in_name_order(
    users: dict[str, User], world: dict[str, Card], username: str, conditions: list[dict[str, Any]], kind: str  # noqa: F811
) -> None:
    user = User.objects.get(username=username)
    want = expected_ids(user, kind, conditions)
    segment = Segment(name="broad", kind=kind, conditions=conditions, owner=user)
    # Read from the name index, and (a small segment whose count is known) from its members sorted.
    for known in (None, selectors.count(user, kind, conditions)):
        for limit in (1, 2, 50):
            assert walk_forwards(user, segment, limit, known) == want
            if want:
                # Walking back from the last member's page gives everything before it.
                assert walk_backwards(user, segment, want[-1], limit, known) == want[:-1]


def test_an_empty_segment_with_a_known_count_reads_no_members(users: dict[str, User], make_org: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ana = users["rep_ana"]
    make_org(name="Alpha", lifecycle_stage="customer")
    segment = Segment(name="none", kind="organization", conditions=[{"field": "stage", "value": ["lost"]}], owner=ana)
    known = selectors.count(ana, segment.kind, segment.conditions)
    assert known == (0, True)
    with CaptureQueriesContext(connection) as ctx:
        page = selectors.member_page(ana, segment, known_count=known)
    assert page.cards == [] and page.next_after is None and len(ctx.captured_queries) == 0


def test_cards_with_the_same_name_page_by_id_without_skipping_or_repeating(users: dict[str, User], make_org: Any) -> None:
    ana = users["rep_ana"]
    same = [make_org(name="Twin").pk for _ in range(5)]
    others = [make_org(name=name).pk for name in ("Alpha", "Zulu")]
    segment = Segment(name="all", kind="organization", conditions=[], owner=ana)
    for known in (None, (7, True)):
        assert walk_forwards(ana, segment, 1, known) == [others[0], *sorted(same), others[1]]
        assert walk_forwards(ana, segment, 2, known) == [others[0], *sorted(same), others[1]]


def test_a_cursor_card_that_left_the_segment_still_marks_the_place(users: dict[str, User], make_org: Any) -> None:
    ana = users["rep_ana"]
    a, b, c = (make_org(name=n, lifecycle_stage="customer") for n in ("Able", "Baker", "Charlie"))
    segment = Segment(name="customers", kind="organization", conditions=[{"field": "stage", "value": ["customer"]}], owner=ana)
    first = selectors.member_page(ana, segment, limit=2)
    assert [x.pk for x in first.cards] == [a.pk, b.pk] and first.next_after == b.pk
    Card.objects.filter(pk=b.pk).update(lifecycle_stage="lost")
    assert [x.pk for x in selectors.member_page(ana, segment, after=b.pk, limit=2).cards] == [c.pk]
    assert [x.pk for x in selectors.member_page(ana, segment, before=b.pk, limit=2).cards] == [a.pk]


@pytest.mark.parametrize("cursor", ["foreign", 0, -1, 2**63, "12", None, True, 10**9])
def test_a_cursor_the_user_may_not_see_is_refused_like_an_unknown_one(
    users: dict[str, User], make_org: Any, cursor: Any
) -> None:
    ana = users["rep_ana"]
    make_org(name="Mine")
    hidden = make_org(owner="rep_bo_other_team", name="Hidden")
    segment = Segment(name="all", kind="", conditions=[], owner=ana)
    if cursor is None:
        with pytest.raises(ValidationError) as both:
            selectors.member_page(ana, segment, after=hidden.pk, before=hidden.pk)
        assert "either after or before" in str(both.value.errors)
        return
    value = hidden.pk if cursor == "foreign" else cursor
    with pytest.raises(ValidationError) as refused:
        selectors.member_page(ana, segment, after=value)
    assert set(refused.value.errors) == {"after"}
    if cursor == "foreign":
        with pytest.raises(ValidationError) as unknown:
            selectors.member_page(ana, segment, after=10**9)
        assert refused.value.errors == unknown.value.errors  # nothing tells a hidden card from a missing one


def test_a_cursor_page_is_three_queries_however_deep(users: dict[str, User], world: dict[str, Card]) -> None:  # noqa: F811
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin = users["admin"]
    segment = Segment(name="all", kind="", conditions=BROAD[3], owner=admin)
    first = selectors.member_page(admin, segment, limit=2)
    with CaptureQueriesContext(connection) as ctx:
        selectors.member_page(admin, segment, after=first.next_after, limit=2)
    assert len(ctx.captured_queries) == 3  # where the cursor sorts, the page's ids, its cards


def api(user: User) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user)}")


def test_the_members_api_walks_next_and_previous_cursors(users: dict[str, User], make_org: Any) -> None:
    ana = users["rep_ana"]
    names = [f"Org {i:02}" for i in range(7)]
    for name in reversed(names):
        make_org(name=name)
    client = api(ana)
    segment_id = client.post("/api/v1/segments", {"name": "all", "kind": "organization"}, content_type="application/json").json()["id"]
    url = f"/api/v1/segments/{segment_id}/members?limit=3"
    seen, body = [], client.get(url).json()
    assert body["prev_before"] is None and body["count"] == 7
    while True:
        seen += [m["name"] for m in body["items"]]
        if body["next_after"] is None:
            break
        body = client.get(f"{url}&after={body['next_after']}").json()
    assert seen == names
    back = client.get(f"{url}&before={body['prev_before']}").json()
    assert [m["name"] for m in back["items"]] == names[3:6] and back["next_after"] == back["items"][-1]["id"]
    # An offset page names the cursors too, so a client can switch to them.
    by_offset = client.get(f"{url}&offset=3").json()
    assert [m["name"] for m in by_offset["items"]] == names[3:6] and by_offset["next_after"] == by_offset["items"][-1]["id"]


@pytest.mark.parametrize(
    ("query", "field"),
    [("after=abc", "after"), ("after=0", "after"), (f"after={2**63}", "after"), ("after=999999999", "after"),
     ("after=1&before=1", "before"), ("offset=3&after=1", "offset"), ("after=FOREIGN", "after")],
)
def test_the_members_api_refuses_bad_cursors_with_a_422_naming_the_parameter(
    users: dict[str, User], make_org: Any, query: str, field: str
) -> None:
    mine = make_org(name="Mine")
    hidden = make_org(owner="rep_bo_other_team", name="Hidden")
    client = api(users["rep_ana"])
    segment_id = client.post("/api/v1/segments", {"name": "all"}, content_type="application/json").json()["id"]
    query = query.replace("FOREIGN", str(hidden.pk)).replace("before=1", f"before={mine.pk}").replace("after=1", f"after={mine.pk}")
    response = client.get(f"/api/v1/segments/{segment_id}/members?{query}")
    assert response.status_code == 422, response.content
    assert field in response.content.decode()
    assert "Hidden" not in response.content.decode()


def test_the_segment_page_links_pages_by_card_id_and_refuses_a_bad_one(users: dict[str, User], ana: Client, make_org: Any) -> None:
    from rapport.segments import views

    for i in range(views.PAGE + 5):
        make_org(name=f"Shop {i:03}")
    hidden = make_org(owner="rep_bo_other_team", name="Hidden")
    segment = Segment.objects.create(name="Shops", kind="organization", conditions=[], owner=users["rep_ana"])
    first = ana.get(f"/segments/{segment.id}/").content.decode()
    last_on_first = Card.objects.get(display_name=f"Shop {views.PAGE - 1:03}")
    assert f'href="?after={last_on_first.pk}"' in first and "Shop 050" not in first and 'href="?before=' not in first
    second = ana.get(f"/segments/{segment.id}/?after={last_on_first.pk}").content.decode()
    assert "Shop 050" in second and "Shop 054" in second and "Shop 049" not in second
    assert f'href="?before={Card.objects.get(display_name="Shop 050").pk}"' in second and 'href="?after=' not in second
    for bad in ("abc", str(hidden.pk), "9" * 30, "-4"):
        response = ana.get(f"/segments/{segment.id}/?after={bad}")
        assert response.status_code == 400
        assert "That page does not exist" in response.content.decode() and "Hidden" not in response.content.decode()
