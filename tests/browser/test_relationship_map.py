"""The relationship map in a real browser: a demo organisation's map, an attitude edited on
the map, the warning list following; and the layout time at 300 people and 1,000 edges."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def sign_in(page: "Page", live_url: str, username: str, password: str) -> None:
    page.goto(f"{live_url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_url}/")


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
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and "favicon" not in msg.text else None)
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

    # Export as SVG: a document with every person's circle.
    svg = page.evaluate("window.rapportDecisionUnit.svg()")
    assert svg.startswith("<svg") and svg.count("<circle") >= Member.objects.filter(unit__organization_id=org_id).count()
    with page.expect_download() as download:
        page.click("#dmu-export-png")
    assert download.value.suggested_filename.endswith(".png")
    assert errors == []


def build_large_unit(people: int, edges: int, seed: int = 7) -> tuple[Any, Any]:
    """An organisation with ``people`` members and ``edges`` relationships, written in bulk."""
    from rapport.accounts.services import create_user
    from rapport.cards.models import Card, Employment, Kind
    from rapport.cards.services import create_organization
    from rapport.relationships.models import DecisionUnit, Member, Relationship

    rng = random.Random(seed)
    admin = create_user(username="admin", role="admin", password="correct horse 42", validate=False)
    org = create_organization(user=admin, data={"name": "Grupo Grande S.A."})
    others = [create_organization(user=admin, data={"name": f"Partner {i}"}) for i in range(3)]
    cards = Card.objects.bulk_create(
        Card(kind=Kind.PERSON, display_name=f"Person {i:03d}", sort_name=f"person {i:03d}", owner=admin) for i in range(people)
    )
    levels = ["decision"] * 10 + ["management"] * 60 + ["operational"] * (people - 70)
    Employment.objects.bulk_create(
        Employment(person=c, organization=org if i < people - 30 else others[i % 3], level=levels[i % len(levels)]) for i, c in enumerate(cards)
    )
    unit = DecisionUnit.objects.create(organization=org)
    members = cards[: people - 30]
    Member.objects.bulk_create(
        Member(unit=unit, person=c, level=levels[i], influence=rng.randint(0, 3), attitude=rng.choice(["supporter", "neutral", "opponent"]))
        for i, c in enumerate(members)
    )
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < edges:
        a, b = rng.choice(members), rng.choice(cards)
        if a.pk != b.pk:
            pairs.add((a.pk, b.pk))
    kinds = ["reports_to", "influences", "friend", "rival", "family"]
    Relationship.objects.bulk_create(
        Relationship(from_person_id=a, to_person_id=b, kind=rng.choice(kinds), strength=rng.randint(1, 3)) for a, b in pairs
    )
    return admin, org


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
    out = Path(__file__).resolve().parents[2] / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "relationship_map_layout.json").write_text(json.dumps({"people": 300, "edges": 1000, "layout_ms": timings, "layout_and_first_paint_ms": paints}, indent=2))
    # The median run: one slow run on a busy machine should not decide.
    assert sorted(timings)[2] <= 1000, timings
    assert sorted(paints)[2] <= 2000, paints
