"""The search page and the header's live search: any script, phones, e-mails, and only visible cards."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

HTMX = {"HX-Request": "true"}


def test_the_search_page_finds_names_phones_and_emails(ana: Client, make_org: Any, make_person: Any) -> None:
    make_org(name="Ferretería López", phones=["+52 55 1234 5678"], emails=["ventas@lopez.mx"])
    make_person(given_name="Xiaoming", family_name="Wang", local_name="王小明")
    assert "Ferretería López" in ana.get(reverse("search"), {"q": "ferreteria"}).content.decode()
    assert "Ferretería López" in ana.get(reverse("search"), {"q": "55 1234 5678"}).content.decode()
    assert "Ferretería López" in ana.get(reverse("search"), {"q": "ventas@lopez.mx"}).content.decode()
    assert "王小明" in ana.get(reverse("search"), {"q": "王小明"}).content.decode()


def test_search_never_shows_cards_of_another_team(ana: Client, make_org: Any) -> None:
    make_org(owner="rep_bo_other_team", name="Southern Secret")
    html = ana.get(reverse("search"), {"q": "southern"}).content.decode()
    assert "Southern Secret" not in html
    assert "No customer matches" in html


def test_the_header_search_answers_a_short_fragment_to_htmx(ana: Client, make_org: Any) -> None:
    for i in range(12):
        make_org(name=f"Acme {i}")
    response = ana.get(reverse("search"), {"q": "acme", "live": "1"}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert html.count('class="r-name"') == 8
    assert "See all results" in html
    full = ana.get(reverse("search"), {"q": "acme"}).content.decode()
    assert full.count('class="r-name"') == 12


def test_an_empty_query_answers_an_empty_fragment(ana: Client) -> None:
    response = ana.get(reverse("search"), {"q": "", "live": "1"}, headers=HTMX)
    assert response.status_code == 200
    assert response.content.decode().strip() == ""


def test_the_organisation_picker_lists_radio_buttons(ana: Client, make_org: Any, make_person: Any) -> None:
    org = make_org(name="Acme Distribución")
    make_person(given_name="Acme", family_name="Person")
    html = ana.get(reverse("search"), {"q": "acme", "pick": "organization"}, headers=HTMX).content.decode()
    assert f'type="radio" name="organization" value="{org.id}"' in html
    assert "Person" not in html


def test_search_needs_a_signed_in_user(make_org: Any) -> None:
    response = Client().get(reverse("search"), {"q": "acme"})
    assert response.status_code == 302
