"""The relationship map reads well: Chinese contacts in characters in the Chinese interface,
names on a plate above the lines, and a one-person unit at reading size rather than blown up."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.helpers import PASSWORD, console_errors, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("RAPPORT_SCREENSHOTS", "")


def shot(page: "Page", name: str) -> None:
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        size = page.viewport_size or {"width": 0}
        page.screenshot(path=os.path.join(SHOTS, f"{name}-{size['width']}.png"), full_page=True)


@pytest.fixture
def one_person_unit(transactional_db: None) -> dict[str, Any]:
    from rapport.accounts.services import create_user
    from rapport.cards.services import create_organization, create_person
    from rapport.relationships import services

    rep = create_user(username="rep_ana", role="rep", teams=["华东"], password=PASSWORD, validate=False, language="zh-hans")
    org = create_organization(user=rep, data={"name": "杭州鑫达商贸有限公司"})
    person = create_person(user=rep, data={"given_name": "Xiaoming", "family_name": "Wang", "local_name": "王小明",
                                           "organization": org.id, "title": "总经理"})
    services.add_member(user=rep, organization_id=org.pk, data={
        "person": person.pk, "roles": ["decision_maker"], "influence": 100, "attitude": "supporter"})
    return {"rep": rep, "org": org, "person": person}


@pytest.mark.parametrize("width", [390, 1366])
def test_a_one_person_map_in_chinese_shows_the_name_in_characters_at_reading_size(
    browser_page: "Page", live_url: str, one_person_unit: dict[str, Any], width: int
) -> None:
    page = browser_page
    errors = console_errors(page)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_url}/login/")
    page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": live_url}])
    sign_in(page, live_url)
    org, person = one_person_unit["org"], one_person_unit["person"]
    page.goto(f"{live_url}/organizations/{org.id}/decision-unit/")
    page.wait_for_selector("#dmu-map[data-ready='1']")
    assert page.evaluate(f"window.rapportDecisionUnit.label({person.pk})") == "王小明"
    assert "王小明" in page.inner_text(".dmu-table")
    zoom = page.evaluate("window.rapportDecisionUnit.zoom()")
    assert zoom <= 1.0, f"a one-person map is zoomed {zoom:.2f}×"
    # The name sits on an opaque plate: a line passing under it does not cross its letters.
    assert page.evaluate(f"window.rapportDecisionUnit.labelPlate({person.pk})") >= 0.8
    shot(page, "dmu-one-person-zh")
    assert errors == [], errors
