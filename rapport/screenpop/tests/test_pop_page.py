"""The telephony page /pop/#<number>: the number stays in the fragment, is posted, and the card
shows at once; several matches are listed; an unknown number offers a new card with it."""

from __future__ import annotations

import re
from typing import Any

import pytest

pytestmark = pytest.mark.django_db


def test_the_page_itself_carries_no_number_and_loads_the_script_that_reads_the_fragment(ana: Any, maria: Any) -> None:
    response = ana.get("/pop/")
    html = response.content.decode()
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert "screenpop/pop" in html and 'method="post"' in html and "María" not in html


def test_a_posted_number_shows_the_card_with_tel_links(ana: Any, maria: Any) -> None:
    html = ana.post("/pop/", {"q": "612 34 56 78"}).content.decode()
    assert "María García" in html and 'href="tel:+34612345678"' in html
    assert "<html" in html  # without JavaScript, the whole page


def test_the_script_gets_only_the_fragment(ana: Any, maria: Any) -> None:
    html = ana.post("/pop/", {"q": "+34612345678"}, HTTP_HX_REQUEST="true").content.decode()
    assert "María García" in html and "<html" not in html


def test_a_number_out_of_reach_shows_the_same_page_as_an_unknown_number(ana: Any, hidden: Any) -> None:
    out_of_reach = ana.post("/pop/", {"q": "+34699112233"}, HTTP_HX_REQUEST="true")
    unknown = ana.post("/pop/", {"q": "+34699112234"}, HTTP_HX_REQUEST="true")
    assert out_of_reach.status_code == unknown.status_code == 200

    def normalise(response: Any) -> str:
        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())  # masked anew each time
        return re.sub(r"699 ?11 ?22 ?3[34]", "N", html)

    assert normalise(out_of_reach) == normalise(unknown)
    assert "Chen" not in out_of_reach.content.decode()


def test_several_matches_are_listed_and_each_opens_its_screen(ana: Any, maria: Any, make_person: Any) -> None:
    make_person(given_name="Pedro", family_name="Ruiz", phones=["+34 612 34 56 78"])
    html = ana.post("/pop/", {"q": "+34612345678"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Pedro Ruiz" in html and "María García" in html and f"/pop/cards/{maria.pk}/" in html
    page = ana.get(f"/pop/cards/{maria.pk}/").content.decode()
    assert "María García" in page and "Pedro Ruiz" not in page


def test_a_card_out_of_reach_cannot_be_opened_by_its_id(ana: Any, hidden: Any) -> None:
    assert ana.get(f"/pop/cards/{hidden.pk}/").status_code == 404


def test_an_unknown_number_offers_a_new_card_that_comes_back_filled_with_the_number(ana: Any) -> None:
    html = ana.post("/pop/", {"q": "612 00 00 01"}, HTTP_HX_REQUEST="true").content.decode()
    assert "New card" in html and 'action="/people/new/"' in html and 'value="+34612000001"' in html
    # What the button posts: the person form opens with the number, nothing checked or saved yet.
    form = ana.post("/people/new/", {
        "prefill": "1", "phone_number_0": "+34612000001", "phone_kind_0": "mobile", "phone_region": "ES",
        "addr-TOTAL_FORMS": "1", "addr-INITIAL_FORMS": "0", "addr-MIN_NUM_FORMS": "0", "addr-MAX_NUM_FORMS": "20",
    })
    body = form.content.decode()
    assert form.status_code == 200 and 'value="+34612000001"' in body and "class=\"errors\"" not in body
    from rapport.cards.models import Card

    assert not Card.objects.exists()


def test_an_analyst_is_not_offered_a_new_card(users: Any) -> None:
    from django.test import Client

    client = Client()
    client.force_login(users["analyst_al"])
    html = client.post("/pop/", {"q": "612 00 00 01"}, HTTP_HX_REQUEST="true").content.decode()
    assert "New card" not in html


def test_a_name_typed_in_the_box_finds_the_card(ana: Any, maria: Any) -> None:
    assert "María García" in ana.post("/pop/", {"q": "garcia"}).content.decode()


def test_a_malformed_number_is_told_not_guessed(ana: Any, maria: Any) -> None:
    response = ana.post("/pop/", {"q": "1234"}, HTTP_HX_REQUEST="true")
    assert response.status_code in (200, 422)
    assert "María" not in response.content.decode()


def test_signed_out_the_page_asks_to_sign_in(client: Any) -> None:
    assert client.get("/pop/").status_code == 302
