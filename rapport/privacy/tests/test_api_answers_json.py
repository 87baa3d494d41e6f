"""The API answers JSON whatever refused the request: lone surrogates, oversized bodies, unknown URLs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rapport.privacy.tests.factories import api_client

@pytest.mark.parametrize(
    "method,url,body",
    [
        ("post", "/api/v1/organizations", '{"name": "Distribuidora \\ud800 Sur"}'),
        ("post", "/api/v1/people", '{"given_name": "Mar\\udc00a", "family_name": "Ruiz"}'),
        ("post", "/api/v1/people", '{"given_name": "Mara", "family_name": "Ruiz", "notes": ["\\udfff"]}'),
        ("post", "/api/v1/organizations", '{"\\ud800": "key, not value"}'),
    ],
)
def test_a_lone_surrogate_in_a_json_body_is_refused_with_422_and_nothing_is_written(
    users: dict[str, Any], method: str, url: str, body: str
) -> None:
    from rapport.cards.models import Card

    before = Card.objects.count()
    answer = getattr(api_client(users["rep_ana"]), method)(url, data=body, content_type="application/json")
    assert answer.status_code == 422
    assert answer["Content-Type"].startswith("application/json")
    assert "surrogate" in json.dumps(answer.json())
    assert Card.objects.count() == before


def test_a_lone_surrogate_in_an_update_is_refused_with_422_and_the_card_is_unchanged(users: dict[str, Any], make_org: Any) -> None:
    org = make_org(name="Norte")
    answer = api_client(users["rep_ana"]).patch(
        f"/api/v1/organizations/{org.id}", data='{"name": "\\udbff"}', content_type="application/json", HTTP_IF_MATCH='"1"'
    )
    assert answer.status_code == 422
    org.refresh_from_db()
    assert org.display_name == "Norte"


def test_a_surrogate_pair_and_an_escaped_backslash_are_ordinary_text(users: dict[str, Any]) -> None:
    api = api_client(users["rep_ana"])
    emoji = api.post("/api/v1/organizations", data='{"name": "Caf\\u00e9 \\ud83d\\ude00"}', content_type="application/json")
    assert emoji.status_code == 201, emoji.content
    assert emoji.json()["name"] == "Café 😀"
    literal = api.post("/api/v1/organizations", data='{"name": "C:\\\\ud800"}', content_type="application/json")
    assert literal.status_code == 201, literal.content
    assert literal.json()["name"] == "C:\\ud800"


def test_an_oversized_json_body_is_refused_with_json_not_an_html_page(users: dict[str, Any], settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    body = json.dumps({"name": "x" * (1024 * 1024 + 10)})
    answer = api_client(users["rep_ana"]).post("/api/v1/organizations", data=body, content_type="application/json")
    assert answer.status_code == 413
    assert answer["Content-Type"].startswith("application/json")
    assert "larger than 1 MB" in answer.json()["detail"]


def test_an_unknown_api_url_and_a_server_error_answer_json(users: dict[str, Any]) -> None:
    from django.http import HttpResponseServerError
    from django.test import RequestFactory

    from rapport.core.middleware import ApiJsonMiddleware

    missing = api_client(users["rep_ana"]).get("/api/v2/organizations")
    assert missing.status_code == 404 and missing["Content-Type"].startswith("application/json")
    assert missing.json() == {"detail": "Not Found."}
    # Django's own 500 page (an exception nothing handled) becomes JSON, the status kept.
    middleware = ApiJsonMiddleware(lambda request: HttpResponseServerError("<h1>Server Error (500)</h1>"))
    broken = middleware(RequestFactory().get("/api/v1/organizations"))
    assert broken.status_code == 500 and broken["Content-Type"].startswith("application/json")
    assert json.loads(broken.content) == {"detail": "Internal Server Error."}


def test_pages_outside_the_api_keep_their_html_errors(users: dict[str, Any]) -> None:
    from django.test import Client

    client = Client()
    client.force_login(users["rep_ana"])
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
