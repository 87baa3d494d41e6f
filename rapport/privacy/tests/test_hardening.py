"""Access and API hardening: versions, mass assignment, token scopes, throttling, headers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from rapport.accounts.models import ApiToken
from rapport.accounts.services import create_token, revoke_token
from rapport.cards.models import Card
from rapport.core.errors import ValidationError
from rapport.privacy.tests.factories import api_client


@pytest.fixture(autouse=True)
def _fresh_counters() -> Any:
    cache.clear()
    yield
    cache.clear()


def test_an_update_without_if_match_is_428_a_stale_one_412_and_neither_changes_the_card(users: dict[str, Any], make_org: Any) -> None:
    org = make_org(name="Versioned")
    api = api_client(users["rep_ana"])
    url = f"/api/v1/organizations/{org.id}"
    missing = api.patch(url, {"name": "No version"}, content_type="application/json")
    assert missing.status_code == 428
    malformed = api.patch(url, {"name": "Bad"}, content_type="application/json", HTTP_IF_MATCH='"abc"')
    assert malformed.status_code == 422 and "If-Match" in malformed.json()["errors"]
    etag = api.get(url)["ETag"]
    first, second = api_client(users["rep_ana"]), api_client(users["rep_ben"])
    assert first.patch(url, {"name": "Ana's"}, content_type="application/json", HTTP_IF_MATCH=etag).status_code == 200
    assert second.patch(url, {"name": "Ben's"}, content_type="application/json", HTTP_IF_MATCH=etag).status_code == 412
    assert Card.objects.get(pk=org.id).display_name == "Ana's"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "X", "id": 999}, "id"),
        ({"name": "X", "version": 7}, "version"),
        ({"name": "X", "created_at": "2020-01-01T00:00:00Z"}, "created_at"),
        ({"name": "X", "profile": {"health": "x"}}, "profile"),
        ({"name": "X", "owner": 2}, "owner"),
        ({"name": "X", "team": 999}, "team"),
    ],
)
def test_fields_a_user_may_not_set_are_refused_with_422_and_nothing_is_created(
    users: dict[str, Any], payload: dict[str, Any], field: str
) -> None:
    response = api_client(users["rep_ana"]).post("/api/v1/organizations", payload, content_type="application/json")
    assert response.status_code == 422
    assert field in response.content.decode()
    assert not Card.objects.exists()


def test_a_patch_cannot_set_version_or_audit_fields(users: dict[str, Any], make_org: Any) -> None:
    org = make_org()
    api = api_client(users["rep_ana"])
    for payload in ({"version": 99}, {"updated_at": "2020-01-01T00:00:00Z"}, {"archived_at": None}, {"completeness": 100}):
        response = api.patch(f"/api/v1/organizations/{org.id}", payload, content_type="application/json", HTTP_IF_MATCH=f'"{org.version}"')
        assert response.status_code == 422, payload
    assert Card.objects.get(pk=org.id).version == org.version


def test_a_read_token_only_reads_and_an_admin_scope_is_for_admins(users: dict[str, Any], make_org: Any) -> None:
    org = make_org()
    reader = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=users['rep_ana'], scope='read')}")
    assert reader.get(f"/api/v1/organizations/{org.id}").status_code == 200
    assert reader.post("/api/v1/organizations", {"name": "New"}, content_type="application/json").status_code == 403
    assert not Card.objects.filter(display_name="New").exists()
    with pytest.raises(ValidationError):
        create_token(user=users["rep_ana"], scope="admin")
    writer_admin = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=users['admin'], scope='write')}")
    assert writer_admin.get("/api/v1/audit").status_code == 403
    admin = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=users['admin'], scope='admin')}")
    assert admin.get("/api/v1/audit").status_code == 200


def test_tokens_are_hashed_expire_and_can_be_revoked(users: dict[str, Any], settings: Any) -> None:
    settings.RAPPORT_TOKEN_CACHE_SECONDS = 0  # the expiry is changed in the database behind the token cache's back
    raw = create_token(user=users["rep_ana"], days=1)
    token = ApiToken.objects.get(user=users["rep_ana"])
    assert raw not in token.key_hash and token.key_hash != raw
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/organizations").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert client.get("/api/v1/organizations").status_code == 401
    ApiToken.objects.filter(pk=token.pk).update(expires_at=None)
    assert revoke_token(user=users["rep_ana"], prefix=raw[:10]) == 1
    assert client.get("/api/v1/organizations").status_code == 401


def test_the_api_answers_429_with_retry_after_beyond_the_rate_limit(users: dict[str, Any], settings: Any) -> None:
    settings.RAPPORT_API_RATE = "3/m"
    api = api_client(users["rep_ana"])
    assert [api.get("/api/v1/organizations").status_code for _ in range(3)] == [200, 200, 200]
    limited = api.get("/api/v1/organizations")
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    # Another user has their own allowance.
    assert api_client(users["rep_ben"]).get("/api/v1/organizations").status_code == 200


def test_sign_in_is_throttled_after_repeated_failures_even_with_the_right_password(users: dict[str, Any], settings: Any) -> None:
    settings.RAPPORT_LOGIN_MAX_FAILURES = 3
    client = Client()
    for _ in range(3):
        assert client.post("/login/", {"username": "rep_ana", "password": "wrong"}).status_code == 200
    locked = client.post("/login/", {"username": "rep_ana", "password": "x"})
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session
    # Another account from elsewhere is unaffected.
    other = Client(REMOTE_ADDR="203.0.113.9")
    assert other.post("/login/", {"username": "rep_ben", "password": "x"}).status_code == 302


def test_pages_and_api_answers_carry_the_security_headers(users: dict[str, Any], make_org: Any) -> None:
    org = make_org()
    web = Client()
    web.force_login(users["rep_ana"])
    page = web.get(f"/cards/{org.id}/")
    csp = page["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "frame-ancestors 'none'" in csp
    assert page["X-Frame-Options"] == "DENY" and page["X-Content-Type-Options"] == "nosniff"
    assert page["Cache-Control"] == "no-store" and page["X-Request-ID"]
    api = api_client(users["rep_ana"])
    for url in (f"/api/v1/organizations/{org.id}", "/api/v1/organizations", f"/api/v1/organizations/{org.id}/timeline",
                f"/api/v1/organizations/{org.id}/employments", "/api/v1/catalog/items"):
        assert api.get(url)["Cache-Control"] == "no-store", url
    assert api.post(f"/api/v1/organizations/{org.id}/archive")["Cache-Control"] == "no-store"


def test_production_settings_turn_on_hsts_and_secure_cookies() -> None:
    import subprocess
    import sys

    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='rapport.settings'; django.setup();"
        "from django.conf import settings as s;"
        "print(s.SECURE_HSTS_SECONDS > 0, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.DEBUG)"
    )
    env = {**__import__("os").environ, "RAPPORT_ENV": "production", "RAPPORT_SECRET_KEY": "x" * 60}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "True", "True", "False"]
