"""The search page and the header's live search: any script, phones, e-mails, and only visible cards.

What is searched for is personal data, so it travels in POST bodies and never in a URL."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client
from django.urls import reverse

HTMX = {"HX-Request": "true"}


def _search(client: Client, **data: str) -> str:
    return client.post(reverse("search"), data).content.decode()


def test_the_search_page_finds_names_phones_and_emails(ana: Client, make_org: Any, make_person: Any) -> None:
    make_org(name="Ferretería López", phones=["+52 55 1234 5678"], emails=["ventas@lopez.mx"])
    make_person(given_name="Xiaoming", family_name="Wang", local_name="王小明")
    assert "Ferretería López" in _search(ana, q="ferreteria")
    assert "Ferretería López" in _search(ana, q="55 1234 5678")
    assert "Ferretería López" in _search(ana, q="ventas@lopez.mx")
    assert "王小明" in _search(ana, q="王小明")


def test_the_results_page_is_the_post_answer_and_keeps_the_query_in_the_box(ana: Client, make_org: Any) -> None:
    make_org(name="Ferretería López")
    response = ana.post(reverse("search"), {"q": "ferreteria"})
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert 'value="ferreteria"' in html and "Ferretería López" in html
    assert response["Cache-Control"] == "no-store"


def test_a_query_string_is_never_read(ana: Client, make_org: Any) -> None:
    make_org(name="Ferretería López")
    response = ana.get(reverse("search"), {"q": "ferreteria"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Ferretería López" not in html and 'class="r-name"' not in html
    assert 'id="search-q" type="search" name="q" value=""' in html


def test_search_never_shows_cards_of_another_team(ana: Client, make_org: Any) -> None:
    make_org(owner="rep_bo_other_team", name="Southern Secret")
    html = _search(ana, q="southern")
    assert "Southern Secret" not in html
    assert "No customer matches" in html


def test_the_header_search_answers_a_short_fragment_to_htmx(ana: Client, make_org: Any) -> None:
    for i in range(12):
        make_org(name=f"Acme {i}")
    response = ana.post(reverse("search"), {"q": "acme", "live": "1"}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert html.count('class="r-name"') == 8
    assert "See all results" in html
    # "See all results" submits the search box the list sits in, not a link with the text in it.
    assert "?q=" not in html and 'type="submit"' in html
    full = _search(ana, q="acme")
    assert full.count('class="r-name"') == 12


def test_an_empty_query_answers_an_empty_fragment(ana: Client) -> None:
    response = ana.post(reverse("search"), {"q": "", "live": "1"}, headers=HTMX)
    assert response.status_code == 200
    assert response.content.decode().strip() == ""


def test_an_over_long_query_is_refused_with_a_reason_not_cut(ana: Client, make_org: Any) -> None:
    make_org(name="Acme Distribución")
    for headers in ({}, HTMX):
        response = ana.post(reverse("search"), {"q": "acme" + "x" * 300, "live": "1"}, headers=headers)
        assert response.status_code == 422
        html = response.content.decode()
        assert "at most 200 characters" in html
        assert "Acme Distribución" not in html


def test_an_unknown_kind_is_refused(ana: Client) -> None:
    assert ana.post(reverse("search"), {"q": "acme", "kind": "planet"}).status_code == 422


def test_the_organisation_picker_lists_radio_buttons(ana: Client, make_org: Any, make_person: Any) -> None:
    org = make_org(name="Acme Distribución")
    make_person(given_name="Acme", family_name="Person")
    html = ana.post(reverse("search"), {"q": "acme", "pick": "organization"}, headers=HTMX).content.decode()
    assert f'type="radio" name="organization" value="{org.id}"' in html
    assert "Person" not in html


def test_search_needs_a_signed_in_user(make_org: Any) -> None:
    assert Client().post(reverse("search"), {"q": "acme"}).status_code == 302
    assert Client().get(reverse("search")).status_code == 302


def test_a_search_without_the_csrf_token_is_refused(users: dict[str, Any], make_org: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["rep_ana"])
    make_org(name="Acme Distribución")
    response = client.post(reverse("search"), {"q": "acme"})
    assert response.status_code == 403
    assert "Acme Distribución" not in response.content.decode()


# --- the search boxes themselves ----------------------------------------------------------------

SEARCH_INPUTS = {
    "top-q": "home", "home-q": "home", "search-q": "search", "search-kind": "search", "org-q": "person-create",
}


def _tag(html: str, element_id: str) -> str:
    match = re.search(rf'<(input|select)\b[^>]*\bid="{element_id}"[^>]*>', html)
    assert match, element_id
    return match.group(0)


def _form_around(html: str, element_id: str) -> str:
    position = html.index(f'id="{element_id}"')
    start = html.rindex("<form", 0, position)
    return html[start : html.index(">", start) + 1]


def test_no_search_box_puts_the_text_in_a_url(ana: Client) -> None:
    """Every search box submits by POST, and its live requests are htmx POSTs: never hx-get."""
    pages = {name: ana.get(reverse(name)).content.decode() for name in set(SEARCH_INPUTS.values())}
    for element_id, page in SEARCH_INPUTS.items():
        html = pages[page]
        tag = _tag(html, element_id)
        assert "hx-get" not in tag and f'hx-post="{reverse("search")}"' in tag, element_id
        assert "hx-push-url" not in tag, element_id
        assert 'method="post"' in _form_around(html, element_id), element_id
    for html in pages.values():
        assert "?q=" not in html
        assert not re.search(r'<form\b[^>]*method="get"[^>]*role="search"', html)
        assert "csrfmiddlewaretoken" in html and "X-CSRFToken" in html


def test_the_employment_form_looks_up_organisations_by_post(ana: Client, make_org: Any, make_person: Any) -> None:
    org = make_org(name="Acme Distribución")
    person = make_person(given_name="Lucía", family_name="Méndez")
    html = ana.get(reverse("card-detail", args=[person.id])).content.decode()
    tag = re.search(r'<input\b[^>]*name="job-organization_q"[^>]*>', html)
    assert tag and f'hx-post="{reverse("organization-choices")}"' in tag.group(0) and "hx-get" not in tag.group(0)
    assert ana.get(reverse("organization-choices"), {"job-organization_q": "acme"}).status_code == 405
    answer = ana.post(reverse("organization-choices"), {"job-organization_q": "acme"}, headers=HTMX).content.decode()
    assert f'value="{org.id}"' in answer
