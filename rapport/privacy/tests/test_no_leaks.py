"""Every API route and every web view, called for records out of the user's reach, answers like
a missing record and leaks nothing: no name, no value, no change."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from rapport.activities.services import log_activity
from rapport.cards import services
from rapport.cards.models import Card, Fact
from rapport.core.api import api
from rapport.privacy import services as privacy
from rapport.privacy.models import LegalBasis
from rapport.privacy.tests.factories import CONSENT, api_client

HIDDEN_NAMES = ("Hiddenorgquux", "Hiddenpersonzz", "Secretfactvalue", "Hiddenactivitynote")
SKIP_WEB = ("admin/", "api/", "i18n/", "static/", "favicon", "login/", "logout/", "account/")


@pytest.fixture
def hidden(users: dict[str, Any], make_org: Any, make_person: Any) -> dict[str, Any]:
    """Records of team South that rep_ana (team North) must never reach."""
    bo = users["rep_bo_other_team"]
    org = make_org(owner="rep_bo_other_team", name="Hiddenorgquux SA")
    person = make_person(owner="rep_bo_other_team", given_name="Hiddenpersonzz", family_name="Bo", organization=org.id)
    fact = services.add_fact(user=bo, card=person, item_key="hobbies", value="Secretfactvalue", source_key="customer_stated")
    log_activity(user=bo, data={"kind": "note", "summary": "Hiddenactivitynote", "cards": [person.id, org.id]})
    consent = privacy.record_consent(user=bo, card=person, purpose="marketing", legal_basis=CONSENT)
    from rapport.jobs.models import Job

    job = Job.objects.create(kind="dedup_scan", user=bo, params={"kind": "person"})
    return {"org": org, "person": person, "fact": fact, "consent": consent, "job": job}


def _snapshot(hidden: dict[str, Any]) -> tuple[Any, ...]:
    """The hidden records as they stand: nothing a call makes may change them."""
    ids = [hidden["org"].id, hidden["person"].id]
    return (
        sorted(Card.objects.filter(pk__in=ids).values_list("id", "version", "display_name", "archived_at", "profile")),
        sorted(Fact.objects.filter(card_id__in=ids).values_list("id", "verified")),
        sorted(LegalBasis.objects.filter(card_id__in=ids).values_list("id", "status")),
    )


def _body(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return bytes(response.content)


def _no_leak(body: bytes, where: str) -> None:
    text = body.decode("utf-8", "replace")
    for name in HIDDEN_NAMES:
        assert name not in text, f"{where} leaks {name}"


def _api_bodies(path: str, hidden: dict[str, Any], visible_org: Card) -> dict[str, Any]:
    if path.endswith("/facts"):
        return {"item": "hobbies", "value": "x", "source": "customer_stated"}
    if path.endswith("/employments"):
        return {"organization": visible_org.id}
    if path.endswith("/consents"):
        return {"purpose": "marketing", "legal_basis": CONSENT}
    if path.endswith("/erase"):
        return {"confirm": True}
    if path.endswith("/check"):
        return {"emails": []}
    if path.endswith("/resolve"):
        return {"fact": hidden["fact"].id}
    return {"name": "Changed"}


def test_every_api_route_answers_404_for_records_out_of_reach_and_leaks_nothing(
    users: dict[str, Any], hidden: dict[str, Any], make_org: Any
) -> None:
    visible_org = make_org(name="Visible SA")
    client = api_client(users["rep_ana"])
    ids = {"card_id": None, "fact_id": hidden["fact"].id, "consent_id": hidden["consent"].id, "job_id": hidden["job"].id}
    paths = api.get_openapi_schema()["paths"]
    checked = 0
    before = _snapshot(hidden)
    for raw_path, operations in paths.items():
        for method in operations:
            kinds = ["organizations", "people"] if "{kind}" in raw_path else [None]
            for kind in kinds:
                card = hidden["org"] if kind == "organizations" or "/organizations/" in raw_path else hidden["person"]
                path = raw_path.replace("{kind}", kind or "").replace("{card_id}", str(card.id))
                for name, value in ids.items():
                    path = path.replace("{" + name + "}", str(value))
                # Any other record id of a route (a share, a duplicate pair, a job, a member…):
                # the hidden card's id, which names no record of that kind rep_ana may reach.
                path = re.sub(r"\{\w+\}", str(card.id), path)
                body = _api_bodies(path, hidden, visible_org)
                call = getattr(client, method)
                if method == "get":
                    response = call(path)
                else:
                    response = call(path, body, content_type="application/json", HTTP_IF_MATCH=f'"{card.version}"')
                checked += 1
                where = f"{method.upper()} {path} → {response.status_code}"
                _no_leak(_body(response), where)
                if re.search(r"\{\w+_id\}", raw_path):
                    if response.status_code == 422:
                        # The body was refused before any record was looked up: the same call on an
                        # id that names nothing must answer exactly the same, so nothing is revealed.
                        missing = re.sub(r"\{\w+_id\}", "2147483000", raw_path).replace("{kind}", kind or "")
                        other = call(missing, body, content_type="application/json", HTTP_IF_MATCH='"1"')
                        assert (other.status_code, other.content) == (422, response.content), where
                    else:
                        assert response.status_code in (403, 404), where
    assert checked >= 25
    assert _snapshot(hidden) == before


def _web_patterns(resolver: URLResolver, prefix: str = "") -> list[str]:
    found: list[str] = []
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            found.extend(_web_patterns(entry, route))
        elif isinstance(entry, URLPattern):
            found.append(route)
    return found


def test_every_web_view_answers_404_for_records_out_of_reach_and_leaks_nothing(
    users: dict[str, Any], hidden: dict[str, Any]
) -> None:
    web = Client()
    web.force_login(users["rep_ana"])
    before = _snapshot(hidden)
    checked = 0
    for route in _web_patterns(get_resolver()):
        if route.startswith(SKIP_WEB) or "<path:" in route:
            continue
        with_ids = "<int:" in route
        for card in (hidden["org"], hidden["person"]) if with_ids else (None,):
            path = "/" + route.replace("<int:card_id>", str(card.id) if card else "").replace(
                "<int:consent_id>", str(hidden["consent"].id)).replace("<int:fact_id>", str(hidden["fact"].id)).replace(
                "<slug:item>", "hobbies").replace("<str:kind>", "people").replace("<slug:cell>", "short_small").replace(
                "<str:day>", "2027-03-15").replace("<slug:name>", "timeline").replace("<str:secret>", "cal_not_a_real_secret")
            path = path.replace("<int:job_id>", str(hidden["job"].id))
            path = re.sub(r"<int:\w+>", str(card.id) if card else "0", path)
            assert "<" not in path, path
            for method in ("get", "post"):
                response = getattr(web, method)(path, {"name": "Changed", "summary": "x", "kind": "note", "confirm": "erase",
                                                       "purpose": "marketing", "basis": "consent"})
                checked += 1
                where = f"{method.upper()} {path} → {response.status_code}"
                _no_leak(_body(response), where)
                if with_ids:
                    assert response.status_code in (403, 404, 405), where
    assert checked >= 20
    assert _snapshot(hidden) == before


def test_list_search_and_filters_never_show_records_out_of_reach(users: dict[str, Any], hidden: dict[str, Any]) -> None:
    client = api_client(users["rep_ana"])
    urls = [
        "/api/v1/organizations", "/api/v1/people", "/api/v1/search?q=hiddenorgquu", "/api/v1/search?q=hiddenpersonz",
        f"/api/v1/people?organization={hidden['org'].id}", "/api/v1/people?item=hobbies&value=Secretfactvalue",
        f"/api/v1/people?owner={users['rep_bo_other_team'].id}",
    ]
    for url in urls:
        response = client.get(url)
        _no_leak(_body(response), url)
        if response.status_code == 200 and "items" in response.json():
            assert response.json()["items"] == [], url
    web = Client()
    web.force_login(users["rep_ana"])
    for url in ("/", "/organizations/", "/people/", f"/people/?organization={hidden['org'].id}"):
        _no_leak(web.get(url).content, url)
    for q in ("hiddenpersonz", "hiddenorgquu"):
        _no_leak(client.post("/api/v1/search", {"q": q}, content_type="application/json").content, f"POST /api/v1/search {q}")
        for data in ({"q": q}, {"q": q, "live": "1"}, {"q": q, "pick": "organization"}):
            _no_leak(web.post("/search/", data, headers={"HX-Request": "true"}).content, f"POST /search/ {data}")
