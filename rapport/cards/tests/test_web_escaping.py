"""User text never becomes markup: pages and htmx fragments escape it."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from rapport.activities import services as activities
from rapport.cards import services

SCRIPT = "<script>alert(1)</script>"
HTMX = {"HX-Request": "true"}


def _assert_escaped(html: str) -> None:
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_user_text_is_escaped_in_pages_and_fragments(ana: Client, make_org: Any, users: dict[str, Any]) -> None:
    card = make_org(name=f"Evil {SCRIPT} Ltd", industry=SCRIPT)
    services.add_fact(
        user=users["rep_ana"], card=card, item_key="business_scope", value=SCRIPT, source_key="customer_stated", note=SCRIPT
    )
    activities.log_activity(user=users["rep_ana"], data={"kind": "note", "summary": SCRIPT, "cards": [card.id]})

    pages = [
        ana.get(reverse("card-detail", args=[card.id])),
        ana.get(reverse("home")),
        ana.get(reverse("organization-list")),
        ana.get(reverse("organization-list"), headers=HTMX),
        ana.post(reverse("search"), {"q": "evil"}),
        ana.post(reverse("search"), {"q": "evil", "live": "1"}, headers=HTMX),
        ana.get(reverse("card-edit", args=[card.id])),
    ]
    for response in pages:
        assert response.status_code == 200
        _assert_escaped(response.content.decode())

    fact_fragment = ana.post(
        reverse("card-add-fact", args=[card.id]),
        {"item": "business_scope", "value": SCRIPT + " again", "source": "customer_stated", "note": SCRIPT},
        headers=HTMX,
    )
    _assert_escaped(fact_fragment.content.decode())
    activity_fragment = ana.post(reverse("activity-log", args=[card.id]), {"kind": "call", "summary": SCRIPT}, headers=HTMX)
    _assert_escaped(activity_fragment.content.decode())


def test_a_query_is_escaped_when_nothing_matches(ana: Client) -> None:
    html = ana.post(reverse("search"), {"q": SCRIPT}).content.decode()
    assert SCRIPT not in html
    assert "&lt;script&gt;" in html


def test_rejected_input_is_escaped_when_the_form_comes_back(ana: Client) -> None:
    response = ana.post(
        reverse("organization-create"),
        {"name": "", "website": SCRIPT, "addr-TOTAL_FORMS": "1", "addr-INITIAL_FORMS": "0"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert SCRIPT not in html
