"""Signing in and out, and the language switcher that also remembers the choice on the user."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse


def test_a_rep_signs_in_and_lands_on_my_customers(users: dict[str, Any], make_org: Any) -> None:
    make_org(name="Acme Mine")
    client = Client()
    page = client.get(reverse("login"))
    assert page.status_code == 200 and b'name="username"' in page.content
    response = client.post(reverse("login"), {"username": "rep_ana", "password": "x"})
    assert response.status_code == 302 and response["Location"] == reverse("agenda-today")
    assert b"Acme Mine" in client.get(reverse("home")).content


def test_a_wrong_password_shows_an_error(users: dict[str, Any]) -> None:
    response = Client().post(reverse("login"), {"username": "rep_ana", "password": "nope"})
    assert response.status_code == 200
    assert b"alert-error" in response.content


def test_signing_out_needs_a_post_and_ends_the_session(users: dict[str, Any]) -> None:
    client = Client()
    client.force_login(users["rep_ana"])
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_the_language_switcher_sets_the_cookie_and_the_users_preference(users: dict[str, Any]) -> None:
    client = Client()
    client.force_login(users["rep_ana"])
    response = client.post(reverse("account-language"), {"language": "es", "next": reverse("organization-list")})
    assert response.status_code == 302 and response["Location"] == reverse("organization-list")
    assert response.cookies["django_language"].value == "es"
    users["rep_ana"].refresh_from_db()
    assert users["rep_ana"].language == "es"
    html = client.get(reverse("organization-list")).content.decode()
    assert 'lang="es"' in html


def test_the_saved_language_applies_on_a_new_device(users: dict[str, Any]) -> None:
    users["rep_ana"].language = "ro"
    users["rep_ana"].save()
    client = Client()
    client.force_login(users["rep_ana"])
    assert 'lang="ro"' in client.get(reverse("home")).content.decode()


def test_an_unknown_language_changes_nothing(users: dict[str, Any]) -> None:
    client = Client()
    client.force_login(users["rep_ana"])
    client.post(reverse("account-language"), {"language": "xx"})
    users["rep_ana"].refresh_from_db()
    assert users["rep_ana"].language == ""


def test_pages_carry_no_inline_script_or_style(users: dict[str, Any], make_org: Any) -> None:
    card = make_org(name="Acme", tier="A")
    client = Client()
    client.force_login(users["rep_ana"])
    for url in (reverse("home"), reverse("organization-list"), reverse("card-detail", args=[card.id]),
                reverse("card-edit", args=[card.id]), reverse("person-create"), reverse("search"), "search results"):
        html = (client.post(reverse("search"), {"q": "acme"}) if url == "search results" else client.get(url)).content.decode()
        assert "<script>" not in html and "<style" not in html and " style=" not in html, url
        assert "hx-on" not in html and "javascript:" not in html, url
        for tag in html.split("<script")[1:]:
            assert tag.lstrip().startswith("src="), url
