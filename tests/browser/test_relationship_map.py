"""The relationship map in a real browser: a demo organisation's map, an attitude edited on
the map, the warning list following; and the layout time at 300 people and 1,000 edges."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.helpers import console_errors, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def click_person(page: "Page", person: int) -> None:
    box = page.locator("#dmu-map").bounding_box()
    assert box is not None
    at = page.evaluate(f"window.rapportDecisionUnit.position({person})")
    page.mouse.click(box["x"] + at["x"], box["y"] + at["y"])


def warning_codes(page: "Page") -> list[str]:
    return page.eval_on_selector_all("#dmu-warnings li", "els => els.map(e => e.dataset.code).filter(Boolean)")


def test_editing_an_attitude_on_a_demo_organizations_map_changes_its_warnings(browser_page: "Page", live_url: str, transactional_db: None) -> None:
    from rapport.cards import demo
    from rapport.relationships.models import Member

    result = demo.generate(organizations=8, people=50)
    admin = result.users["admin"]
    decision_maker = next(m for m in Member.objects.select_related("unit").order_by("id") if "decision_maker" in m.roles)
    org_id = decision_maker.unit.organization_id
    page = browser_page
    errors = console_errors(page)
    sign_in(page, live_url, admin.username, demo.DEMO_PASSWORD)

    page.goto(f"{live_url}/organizations/{org_id}/decision-unit/")
    page.wait_for_selector("#dmu-map[data-ready='1']")
    assert page.locator("#dmu-map canvas").count() > 0
    before = warning_codes(page)

    # Make the decision maker an opponent: the "decision maker is not a supporter" warning appears.
    click_person(page, decision_maker.person_id)
    page.wait_for_selector("#dmu-member-editor:not([hidden])")
    assert decision_maker.person.display_name in page.inner_text("#dmu-member-name")
    page.select_option("#dmu-attitude", "opponent")
    page.click("#dmu-member-editor button[type=submit]")
    page.wait_for_function("() => [...document.querySelectorAll('#dmu-warnings li')].some(li => li.dataset.code === 'decision_maker_not_supporter')")
    assert Member.objects.get(pk=decision_maker.pk).attitude == "opponent"

    # And a supporter again: the warning goes.
    click_person(page, decision_maker.person_id)
    page.select_option("#dmu-attitude", "supporter")
    page.click("#dmu-member-editor button[type=submit]")
    page.wait_for_function("() => ![...document.querySelectorAll('#dmu-warnings li')].some(li => li.dataset.code === 'decision_maker_not_supporter')")
    assert "decision_maker_not_supporter" not in warning_codes(page)
    assert before is not None

    # Draw a new tie from the map: the decision maker is a rival of someone else on it.
    from rapport.relationships.models import Relationship

    ties = Relationship.objects.count()
    page.evaluate("document.getElementById('dmu-status').textContent = ''")
    page.select_option("#dmu-link-kind", "rival")
    page.click("#dmu-link-editor button[type=submit]")
    page.wait_for_function("() => document.getElementById('dmu-status').textContent.length > 0")
    assert Relationship.objects.count() == ties + 1
    assert Relationship.objects.filter(from_person_id=decision_maker.person_id, kind="rival").exists()

    # Export as SVG: a document with every person's circle.
    svg = page.evaluate("window.rapportDecisionUnit.svg()")
    assert svg.startswith("<svg") and svg.count("<circle") >= Member.objects.filter(unit__organization_id=org_id).count()

    # Two ties between the same people (a rivalry and a friendship) are curved apart in the
    # SVG as on the map, not drawn on top of each other.
    # Drawn from the map as the rivalry was: written beside the map's own reload of its ties,
    # a write from this thread could meet SQLite's table lock (the server's thread shares the
    # test's in-memory database).
    rivalry = Relationship.objects.get(from_person_id=decision_maker.person_id, kind="rival")
    page.evaluate("document.getElementById('dmu-status').textContent = ''")
    page.select_option("#dmu-link-kind", "friend")
    page.click("#dmu-link-editor button[type=submit]")
    page.wait_for_function("() => document.getElementById('dmu-status').textContent.length > 0")
    assert Relationship.objects.filter(from_person_id=rivalry.from_person_id, to_person_id=rivalry.to_person_id, kind="friend").exists()
    svg = page.evaluate("window.rapportDecisionUnit.reload().then(() => window.rapportDecisionUnit.svg())")
    lines = re.findall(r'<path d="(M[^"]+)"', svg)
    assert lines and len(set(lines)) == len(lines)
    assert sum(" Q" in line for line in lines) >= 2
    with page.expect_download() as download:
        page.click("#dmu-export-png")
    assert download.value.suggested_filename.endswith(".png")
    assert errors == []


def build_large_unit(people: int, edges: int) -> tuple[Any, Any]:
    from rapport.accounts.services import create_user
    from rapport.relationships.demo import large_unit

    admin = create_user(username="admin", role="admin", password="correct horse 42", validate=False)
    return admin, large_unit(owner=admin, people=people, edges=edges)


def test_the_map_lays_out_300_people_and_1000_edges_within_a_second(browser_page: "Page", live_url: str, transactional_db: None) -> None:
    admin, org = build_large_unit(300, 1000)
    page = browser_page
    sign_in(page, live_url, "admin", "correct horse 42")
    timings, paints = [], []
    for _ in range(5):
        page.goto(f"{live_url}/organizations/{org.pk}/decision-unit/")
        page.wait_for_selector("#dmu-map[data-ready='1']", timeout=20_000)
        timings.append(int(page.get_attribute("#dmu-map", "data-layout-ms") or "0"))
        paints.append(int(page.get_attribute("#dmu-map", "data-paint-ms") or "0"))
    nodes = page.evaluate("document.querySelectorAll('#dmu-warnings li').length")
    assert nodes >= 1
    # bench/relationship_map.py measures the same with more runs and writes the figures.
    # The median run: one slow run on a busy machine should not decide.
    assert sorted(timings)[2] <= 1000, timings
    assert sorted(paints)[2] <= 2000, paints
