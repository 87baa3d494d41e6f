"""Apps add panels to card pages and entries to the main navigation without touching the cards app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rapport.core import extensions
from rapport.core.extensions import CardPanel, NavEntry


@pytest.fixture
def clean_registry() -> Iterator[None]:
    # Start empty: installed apps register their own panels and entries at start-up.
    panels, nav = dict(extensions._panels), dict(extensions._nav)
    # Start empty: the apps' own entries (registered at start-up) are not what these tests check.
    extensions._panels.clear()
    extensions._nav.clear()
    yield
    extensions._panels.clear()
    extensions._panels.update(panels)
    extensions._nav.clear()
    extensions._nav.update(nav)


def test_a_registered_panel_appears_on_the_card_page_with_its_own_context(
    clean_registry: None, ana: Client, make_org: Any, settings: Any, tmp_path: Path
) -> None:
    (tmp_path / "test_panel.html").write_text('<section class="panel">{{ panel.data.title }} {{ card.display_name }}</section>')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}]
    org = make_org(name="Panel Test SA")
    seen: list[tuple[str, int]] = []

    def context(user: Any, card: Any) -> dict[str, Any]:
        seen.append((user.username, card.id))
        return {"title": "Extension panel title"}

    extensions.register_card_panel(
        CardPanel(key="test", template="test_panel.html", column="side", context=context)
    )
    html = ana.get(reverse("card-detail", args=[org.id])).content.decode()
    assert "Extension panel title Panel Test SA" in html
    assert seen == [("rep_ana", org.id)]


def test_a_panel_for_people_only_is_left_out_of_organisation_pages(
    clean_registry: None, users: Any, make_org: Any, make_person: Any
) -> None:
    org = make_org(name="Panel Org")
    person = make_person(given_name="Ioana", family_name="Pop")
    extensions.register_card_panel(CardPanel(key="p", template="x.html", kinds=("person",)))
    extensions.register_card_panel(CardPanel(key="none", template="y.html", context=lambda u, c: None))
    # Only this test's panels: the installed apps register panels of their own.
    ours = {"p", "none"}
    assert [p.key for p in extensions.card_panels(users["rep_ana"], org)["main"] if p.key in ours] == []
    assert [p.key for p in extensions.card_panels(users["rep_ana"], person)["main"] if p.key in ours] == ["p"]


def test_navigation_entries_respect_their_roles(clean_registry: None, users: Any) -> None:
    extensions.register_nav_entry(NavEntry(key="all", url_name="home", label="Everyone", order=2))
    extensions.register_nav_entry(NavEntry(key="mgr", url_name="home", label="Managers", order=1, roles=("manager",)))
    assert [e["label"] for e in extensions.nav_entries(users["rep_ana"])] == ["Everyone"]
    assert [e["label"] for e in extensions.nav_entries(users["manager_mei"])] == ["Managers", "Everyone"]
