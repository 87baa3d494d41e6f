"""The API's read of one card: the same cards and 404s as ``get_card``, the same answer, few queries."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rapport.accounts.models import Team, User
from rapport.accounts.services import create_token, forget_users
from rapport.cards import selectors
from rapport.cards.models import Card, Share
from rapport.cards.schemas import CardOut
from rapport.core.errors import NotFound
from rapport.core.visibility import scope_for, visible_to


@pytest.fixture
def world(users: dict[str, Any], make_org: Any, make_person: Any) -> list[Card]:
    """Cards of every kind of reach: own, team mate's, other team's, shared with a user and with a
    team, archived, without a team, with several phones, e-mails and addresses."""
    org = make_org(name="Ferretería Norte", phones=["+34 912 345 678", "+34 913 000 111"], emails=["a@norte.es", "b@norte.es"],
                   addresses=[{"kind": "billing", "city": "Madrid", "country": "ES"}, {"street": "Calle 1", "city": "Getafe"}])
    cards = [
        org,
        make_person(given_name="Lucía", family_name="Gómez", organization=org.id, phones=["+34 612 345 678"]),
        make_org(owner="rep_ben", name="Ben's"),
        make_org(owner="rep_bo_other_team", name="Bo's", emails=["bo@sur.es"]),
        make_person(owner="rep_bo_other_team", given_name="Shared", family_name="With Ana"),
        make_person(owner="rep_bo_other_team", given_name="Shared", family_name="With North"),
        make_org(owner="admin", name="Nobody's team"),
    ]
    Share.objects.create(card=cards[4], user=users["rep_ana"])
    Share.objects.create(card=cards[5], team=Team.objects.get(name="North"))
    Card.objects.filter(pk=cards[2].pk).update(team=None)
    archived = make_org(name="Archived")
    Card.objects.filter(pk=archived.pk).update(archived_at=archived.created_at)
    return [*cards, archived]


def _outcome(read: Any, user: User, card_id: Any, kind: str | None) -> Any:
    try:
        return read(user, card_id, kind).pk
    except NotFound as exc:
        return ("not found", str(exc))


@pytest.mark.parametrize("username", ["rep_ana", "rep_ben", "rep_bo_other_team", "manager_mei", "admin", "analyst_al", "inactive"])
def test_read_card_answers_what_get_card_answers_for_every_user_card_and_kind(
    users: dict[str, Any], world: list[Card], username: str
) -> None:
    if username == "inactive":
        user = users["rep_ana"]
        User.objects.filter(pk=user.pk).update(is_active=False)
        user.refresh_from_db()
    else:
        user = users[username]
    ids: list[Any] = [c.pk for c in world] + [max(c.pk for c in world) + 1, "x", True]
    for card_id in ids:
        for kind in (None, "person", "organization"):
            # A fresh user object each time: the scope is kept per user object, as per request.
            fresh = User.objects.get(pk=user.pk)
            assert _outcome(selectors.read_card, fresh, card_id, kind) == _outcome(
                selectors.get_card, User.objects.get(pk=user.pk), card_id, kind
            ), (username, card_id, kind)


@pytest.mark.parametrize("username", ["rep_ana", "rep_ben", "rep_bo_other_team", "manager_mei", "admin", "analyst_al"])
def test_sees_without_shares_never_accepts_a_card_the_visibility_filter_refuses(
    users: dict[str, Any], world: list[Card], username: str
) -> None:
    user = users[username]
    visible = set(visible_to(user).values_list("id", flat=True))
    accepted = {c.pk for c in Card.objects.all() if scope_for(user).sees_without_shares(c.owner_id, c.team_id)}
    assert accepted <= visible
    assert visible - accepted <= set(Share.objects.values_list("card_id", flat=True))


def test_a_denied_read_is_logged_as_get_card_logs_it(users: dict[str, Any], world: list[Card]) -> None:
    from rapport.audit.models import AuditEntry

    theirs = world[3]
    with pytest.raises(NotFound):
        selectors.read_card(users["rep_ana"], theirs.pk)
    assert AuditEntry.objects.filter(action="denied", record_id=theirs.pk, actor_id=users["rep_ana"].pk).count() == 1


def test_card_rows_answer_what_the_card_instances_answer(users: dict[str, Any], world: list[Card]) -> None:
    ana = users["rep_ana"]
    ids = [c.pk for c in reversed(world)] + [world[0].pk]  # a repeated id is answered once
    with CaptureQueriesContext(connection) as ctx:
        rows = selectors.card_rows(ana, ids)
    assert len(ctx.captured_queries) == 3  # the cards, the one seen through a share, the contacts
    cards = {c.pk: c for c in visible_to(ana).filter(pk__in=ids).select_related("owner", "team")}
    expected_order = [i for i in dict.fromkeys(ids) if i in cards]
    assert [r["id"] for r in rows] == expected_order
    assert [CardOut.from_row(r) for r in rows] == [CardOut.from_card(cards[i]) for i in expected_order]
    for username in ("rep_bo_other_team", "manager_mei", "analyst_al"):
        user = User.objects.get(username=username)
        assert {r["id"] for r in selectors.card_rows(user, ids)} == set(visible_to(user).filter(pk__in=ids).values_list("id", flat=True))


@pytest.mark.parametrize("read", ["alone", "with the card"])
def test_card_contacts_keep_the_stored_order_of_phones_emails_and_addresses(users: dict[str, Any], world: list[Card], read: str) -> None:
    org = world[0]
    if read == "alone":
        contacts = selectors.card_contacts(org)
    else:
        card, contacts = selectors.read_card_with_contacts(users["rep_ana"], org.pk)
        assert card.pk == org.pk and card.display_name == org.display_name
    assert contacts.phones == [{"e164": p.e164, "raw": p.raw, "region": p.region, "kind": p.kind} for p in org.phones.all()]
    assert [e["address"] for e in contacts.emails] == ["a@norte.es", "b@norte.es"]
    assert contacts.addresses == list(org.addresses.values("kind", "street", "city", "region", "postal_code", "country"))
    assert len(contacts.addresses) == 2


def _expected_detail(card: Card, user: User) -> dict[str, Any]:
    """The answer as the API built it before it read contacts in one query."""
    data = CardOut.from_card(card)
    data["addresses"] = list(card.addresses.values("kind", "street", "city", "region", "postal_code", "country"))
    data["social"] = card.social or []
    data["profile"] = {
        v.item.key: {"value": v.value, "source": v.source_key, "confidence": v.confidence, "verified": v.verified,
                     "observed_at": v.observed_at, "fact_id": v.fact_id}
        for v in selectors.profile_of(user, card)
    }
    return data


def test_the_card_read_answers_the_same_json_as_before(users: dict[str, Any], world: list[Card]) -> None:
    from rapport.cards.schemas import CardDetailOut
    from rapport.core.api import api

    ana = users["rep_ana"]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=ana)}")
    for card in (world[0], world[1], world[4]):
        kind = "organizations" if card.kind == "organization" else "people"
        response = client.get(f"/api/v1/{kind}/{card.pk}")
        assert response.status_code == 200
        fresh = selectors.get_card(ana, card.pk)
        expected = CardDetailOut.model_validate(_expected_detail(fresh, ana)).model_dump()
        assert response.content == api.renderer.render(None, expected, response_status=200)  # type: ignore[arg-type]
        assert json.loads(response.content)["phones"] == [
            {"e164": p.e164, "raw": p.raw, "region": p.region, "kind": p.kind} for p in card.phones.all()
        ]


@pytest.mark.parametrize("username", ["rep_ana", "manager_mei", "admin"])
def test_the_card_read_answers_exactly_what_its_schema_makes_of_a_card_with_every_kind_of_value(
    users: dict[str, Any], make_org: Any, make_person: Any, username: str
) -> None:
    # The card read's answer is rendered without pydantic checking it against CardDetailOut: it
    # must be what that check would make of it, for values of every item type (money, dates,
    # lists, references to people, confidential items), social pages, addresses, a card without
    # a team and an archived one.
    import random

    from rapport.cards import services
    from rapport.cards.demo import MARKETS, PhoneMaker, ValueMaker
    from rapport.cards.schemas import CardDetailOut
    from rapport.catalog import selectors as catalog
    from rapport.catalog.models import Sensitivity
    from rapport.core.api import api

    rng = random.Random(3)
    values = ValueMaker(rng, PhoneMaker(rng))
    org = make_org(name="Ferretería Norte", website="https://norte.es", industry="Hardware", tier="A",
                   addresses=[{"kind": "billing", "street": "Calle Mayor 1", "city": "Madrid", "region": "M",
                               "postal_code": "28001", "country": "ES"}],
                   social=[{"network": "linkedin", "url": "https://www.linkedin.com/company/norte"}])
    other = make_person(given_name="Pedro", family_name="Ruiz")
    person = make_person(given_name="Lucía", family_name="Gómez", local_name="露西亚", organization=org.id,
                         phones=["+34 612 345 678"], emails=["lucia@norte.es"],
                         social=[{"network": "x", "url": "https://x.com/lucia"}, {"url": "https://lucia.es"}])
    for card in (org, person):
        for item in catalog.items().values():
            if item.applies_to not in ("any", card.kind) or item.sensitivity == Sensitivity.SPECIAL:
                continue
            value = values.value(item, MARKETS[0], person_ids=[other.pk])
            if value is not None:
                services.add_fact(user=users["rep_ana"], card=card, item_key=item.key, value=value, source_key="visit",
                                  confidence=rng.choice([None, 30, 90]), observed_at=rng.choice([None, "2024-05-01"]))
    archived = make_org(name="Archived")
    Card.objects.filter(pk=archived.pk).update(archived_at=archived.created_at, team=None)
    user = users[username]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=user)}")
    for card in (org, person, archived):
        kind = "organizations" if card.kind == "organization" else "people"
        response = client.get(f"/api/v1/{kind}/{card.pk}")
        assert response.status_code == 200
        answer = json.loads(response.content)
        assert len(answer["profile"]) >= (20 if card != archived else 0)
        fresh = selectors.get_card(user, card.pk)
        checked = CardDetailOut.model_validate(_expected_detail(fresh, user)).model_dump()
        assert response.content == api.renderer.render(None, checked, response_status=200)  # type: ignore[arg-type]
        assert response["ETag"] == f'"{fresh.version}"'


def _queries(client: Client, url: str, *, user_cached: bool = True) -> int:
    client.get(url)  # warm the per-process caches (catalog, token and its user)
    if not user_cached:
        forget_users()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def test_a_card_read_runs_one_query_however_many_phones_emails_and_addresses(
    users: dict[str, Any], world: list[Card], make_org: Any
) -> None:
    # The card by primary key (with owner and team) together with its phones, e-mails and
    # addresses; the token's user with their teams comes from the process's cache. Before: the
    # user, the rep's teams, the card through the whole visibility filter and a query each for
    # phones, e-mails and addresses (six).
    client = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=users['rep_ana'])}")
    bare = make_org(name="Bare")
    teammates = make_org(owner="rep_ben", name="Ben's many", phones=["+34 912 345 678", "+34 913 000 111"],
                         emails=["a@ben.es", "b@ben.es", "c@ben.es"], addresses=[{"city": "Madrid"}, {"city": "Toledo"}])
    assert _queries(client, f"/api/v1/organizations/{bare.pk}") == 1
    assert _queries(client, f"/api/v1/organizations/{world[0].pk}") == 1
    assert _queries(client, f"/api/v1/organizations/{teammates.pk}") == 1
    many = json.loads(client.get(f"/api/v1/organizations/{teammates.pk}").content)
    assert [p["e164"] for p in many["phones"]] == ["+34912345678", "+34913000111"]
    assert [e["address"] for e in many["emails"]] == ["a@ben.es", "b@ben.es", "c@ben.es"]
    assert [a["city"] for a in many["addresses"]] == ["Madrid", "Toledo"]


def test_a_card_read_whose_user_is_not_cached_reads_the_user_with_their_teams_in_one_query_more(
    users: dict[str, Any], world: list[Card], make_org: Any
) -> None:
    teammates = make_org(owner="rep_ben", name="Ben's", phones=["+34 912 345 678"])
    for username in ("rep_ana", "manager_mei", "admin"):
        client = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=users[username])}")
        assert _queries(client, f"/api/v1/organizations/{teammates.pk}", user_cached=False) == 2, username


def test_a_shared_card_costs_one_query_more_and_an_unreachable_one_answers_404(users: dict[str, Any], world: list[Card]) -> None:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=users['rep_ana'])}")
    assert _queries(client, f"/api/v1/people/{world[4].pk}") == 2  # + the share
    assert client.get(f"/api/v1/organizations/{world[3].pk}").status_code == 404


@pytest.mark.parametrize("username", ["rep_ana", "rep_ben", "rep_bo_other_team", "manager_mei", "admin", "analyst_al", "inactive"])
def test_cards_by_ids_are_the_cards_the_visibility_filter_keeps(users: dict[str, Any], world: list[Card], username: str) -> None:
    if username == "inactive":
        User.objects.filter(pk=users["rep_ana"].pk).update(is_active=False)
        user = User.objects.get(pk=users["rep_ana"].pk)
    else:
        user = User.objects.get(pk=users[username].pk)
    ids = [c.pk for c in world] + [max(c.pk for c in world) + 1]
    expected = list(visible_to(user).filter(pk__in=ids).order_by("pk").values_list("id", flat=True))
    assert [c.pk for c in selectors.cards_by_ids(user, ids)] == expected
