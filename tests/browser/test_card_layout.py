"""Layout a rep and a manager meet first: an organisation's card on a phone (contact and people
first, the other sections loading as the rep scrolls to them), the people table on a 1,366 px screen (every column in view, with the company), and the
segment form (group names above their tick boxes, no Ctrl-click)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.helpers import console_errors, reveal_card_sections, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page, ViewportSize

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("RAPPORT_SCREENSHOTS", "")  # a folder: save screenshots there while developing
PHONE: "ViewportSize" = {"width": 390, "height": 844}
DESK: "ViewportSize" = {"width": 1366, "height": 900}


def shot(page: "Page", name: str) -> None:
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}-{page.viewport_size['width'] if page.viewport_size else 0}.png"), full_page=True)


def no_sideways_scroll(page: "Page") -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


@pytest.fixture
def demo_admin(transactional_db: None) -> Any:
    from rapport.cards import demo

    result = demo.generate(organizations=8, people=50)
    return result.users["admin"]


def _busy_organisation() -> Any:
    """A demo organisation with a phone, contact people and a decision unit: the fullest card."""
    from rapport.cards.models import Card, Kind

    for org in Card.objects.filter(kind=Kind.ORGANIZATION).order_by("id"):
        if org.phones.exists() and org.staff.exists():
            return org
    raise AssertionError("the demo has no organisation with a phone and people")


def test_on_a_phone_an_organisation_card_shows_contact_and_people_before_anything_else(
    browser_page: "Page", live_url: str, demo_admin: Any
) -> None:
    from rapport.cards import demo

    org = _busy_organisation()
    page = browser_page
    errors = console_errors(page)
    sign_in(page, live_url, demo_admin.username, demo.DEMO_PASSWORD)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_url}/cards/{org.id}/")
    order = section_order(page)
    assert order[:2] == ["contact", "employments"], order
    assert len(order) > 6, order  # the other apps' panels are there, only further down
    # The first response holds the first screen; what lies below loads as the rep scrolls to it.
    assert page.locator(".panel-slot").count() > 3
    reveal_card_sections(page)
    order = section_order(page)
    assert order[:2] == ["contact", "employments"], order
    assert {"profile", "timeline", "account", "decision-unit"} <= set(order), order
    assert page.locator("#decision-unit").count() == 1 and page.locator("#timeline .tl").count() > 0
    phone_top = page.evaluate("document.querySelector('#contact a.tel').getBoundingClientRect().top + scrollY")
    assert phone_top < PHONE["height"], f"the phone number is {phone_top:.0f} px down"
    assert no_sideways_scroll(page)
    shot(page, "org-card")
    page.set_viewport_size(DESK)
    page.goto(f"{live_url}/cards/{org.id}/")
    reveal_card_sections(page)
    assert page.locator("#timeline .tl").count() > 0 and page.locator("#account").count() == 1
    assert no_sideways_scroll(page)
    shot(page, "org-card")
    assert errors == [], errors


def section_order(page: "Page") -> list[str]:
    """The card page's sections as they stand from the top (their ids)."""
    tops = page.eval_on_selector_all(
        ".card-grid > div > section, .card-grid > div > details",
        "els => els.filter(e => e.offsetParent !== null).map(e => [e.id || e.className, Math.round(e.getBoundingClientRect().top + scrollY)])",
    )
    return [name for name, _ in sorted(tops, key=lambda t: t[1])]


def test_the_people_table_shows_every_column_at_1366_px_with_the_company(
    browser_page: "Page", live_url: str, demo_admin: Any
) -> None:
    from rapport.cards import demo

    page = browser_page
    errors = console_errors(page)
    sign_in(page, live_url, demo_admin.username, demo.DEMO_PASSWORD)
    page.set_viewport_size(DESK)
    page.goto(f"{live_url}/people/")
    shot(page, "people-table")
    headers = page.eval_on_selector_all(".cards-table thead th", "els => els.map(e => e.innerText.trim().toLowerCase())")
    assert "company" in headers and "complete" in headers
    frame = page.locator(".cards-table").evaluate(
        "t => { const w = t.closest('.table-wrap').getBoundingClientRect(); const r = t.getBoundingClientRect();"
        " return {table: r.right, frame: w.right, view: innerWidth}; }"
    )
    assert frame["table"] <= frame["frame"] + 1 and frame["frame"] <= frame["view"], frame
    last = page.locator(".cards-table thead th").last.bounding_box()
    assert last is not None and last["x"] + last["width"] <= DESK["width"]
    assert page.locator(".cards-table td.cell-company a").count() > 0
    assert no_sideways_scroll(page)
    shot(page, "people-table")
    page.set_viewport_size(PHONE)
    assert no_sideways_scroll(page)
    shot(page, "people-table")
    assert errors == [], errors


def test_the_segment_form_names_each_group_above_its_boxes_and_ticks_several_without_ctrl(
    browser_page: "Page", live_url: str, demo_admin: Any
) -> None:
    from rapport.cards import demo

    page = browser_page
    errors = console_errors(page)
    sign_in(page, live_url, demo_admin.username, demo.DEMO_PASSWORD)
    for size in (PHONE, DESK):
        page.set_viewport_size(size)
        page.goto(f"{live_url}/segments/new/")
        assert page.locator("select[multiple]").count() == 0
        groups = page.eval_on_selector_all(
            "fieldset.choice-group",
            "els => els.map(f => { const l = f.querySelector('legend').getBoundingClientRect();"
            " const b = f.querySelector('input[type=checkbox]').getBoundingClientRect();"
            " return {name: f.id, legendBottom: l.bottom, boxTop: b.top}; })",
        )
        assert {g["name"] for g in groups} >= {"id_stage_group", "id_tier_group", "id_owner_group", "id_team_group", "id_method_group"}
        for group in groups:
            assert group["legendBottom"] <= group["boxTop"] + 1, group
        assert no_sideways_scroll(page)
        shot(page, "segment-form")
    owners = page.locator("#id_owner_group input[type=checkbox]")
    owners.nth(0).click()
    owners.nth(1).click()
    assert owners.nth(0).is_checked() and owners.nth(1).is_checked()
    assert errors == [], errors


def test_each_phone_number_has_its_type_beside_it_and_the_users_page_fits_a_phone(
    browser_page: "Page", live_url: str, demo_admin: Any
) -> None:
    from rapport.cards import demo

    page = browser_page
    errors = console_errors(page)
    sign_in(page, live_url, demo_admin.username, demo.DEMO_PASSWORD)
    for size in (PHONE, DESK):
        page.set_viewport_size(size)
        page.goto(f"{live_url}/organizations/new/")
        number = page.locator("#id_phone_number_0").bounding_box()
        kind = page.locator("#id_phone_kind_0").bounding_box()
        assert number is not None and kind is not None
        assert abs(number["y"] - kind["y"]) < 4 and kind["x"] > number["x"] + number["width"] - 1  # side by side
        assert no_sideways_scroll(page)
        shot(page, "organisation-form")
        page.goto(f"{live_url}/account/users/")
        assert page.locator("main table tbody tr").count() >= len(demo.LOGINS)
        assert no_sideways_scroll(page)
        shot(page, "users")
    assert errors == [], errors
