"""A rep names the customer who referred another by typing a name, and sees the result; the
preparation page offers the numbers to call; a long list's export is offered on its job's page."""

from __future__ import annotations

import os
import re
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
        page.screenshot(path=os.path.join(SHOTS, f"picker-{name}.png"), full_page=True)


@pytest.fixture
def cards(transactional_db: None) -> dict[str, Any]:
    from rapport.accounts.services import create_user
    from rapport.cards.services import create_organization, create_person

    rep = create_user(username="rep_ana", role="rep", teams=["Norte"], password=PASSWORD, validate=False)
    return {
        "rep": rep,
        "referrer": create_organization(user=rep, data={"name": "Ferretería Hermanos Ruiz", "lifecycle_stage": "customer"}),
        "card": create_organization(user=rep, data={"name": "Pinturas Arriaga", "lifecycle_stage": "prospect"}),
        "person": create_person(user=rep, data={"given_name": "María", "family_name": "García",
                                                "phones": ["+34 612 345 678", "+34 944 123 456"]}),
    }


@pytest.mark.parametrize("width", [390, 1366])
def test_a_rep_picks_the_referrer_by_typing_a_name(browser_page: "Page", live_url: str, cards: dict[str, Any], width: int) -> None:
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    errors = console_errors(page)
    sign_in(page, live_url)
    card = cards["card"]
    page.goto(f"{live_url}/cards/{card.id}/#funnel")
    picker = page.locator(f"#referrer-{card.id}-q")
    picker.fill("ruiz")
    page.wait_for_selector(f"#referrer-{card.id} option[value='{cards['referrer'].id}']", state="attached")
    page.select_option(f"#referrer-{card.id}", str(cards["referrer"].id))
    page.locator("#funnel form.prospecting").screenshot(path=os.path.join(SHOTS, f"picker-funnel-{width}.png")) if SHOTS else None
    page.click("#funnel form.prospecting button[type=submit]")
    page.wait_for_url(re.compile(r".*/cards/\d+/#funnel$"))
    assert "Ferretería Hermanos Ruiz" in page.inner_text("#funnel .referrer")
    card.refresh_from_db()
    assert card.referred_by_id == cards["referrer"].id

    page.goto(f"{live_url}/people/{cards['person'].id}/prepare/")
    assert page.locator("a.tel[href='tel:+34612345678']").is_visible()
    shot(page, f"prepare-{width}")
    assert errors == []


def test_a_long_list_is_exported_in_the_background_and_downloaded_from_its_page(
    browser_page: "Page", live_url: str, cards: dict[str, Any], settings: Any, tmp_path: Any
) -> None:
    from rapport.jobs.queue import huey

    settings.RAPPORT_EXPORT_INLINE_ROWS = 1
    settings.RAPPORT_EXPORT_DIR = str(tmp_path / "exports")
    before, huey.immediate = huey.immediate, True  # the live server runs the job as the worker would
    try:
        page = browser_page
        page.set_viewport_size({"width": 390, "height": 900})
        sign_in(page, live_url)
        page.goto(f"{live_url}/organizations/")
        page.click("form.export-links button[value=csv]")
        page.wait_for_url(re.compile(r".*/jobs/\d+/$"))
        page.wait_for_selector("text=Download the file")
        assert "Cards exported: 2." in page.inner_text("#job-progress")
        shot(page, "export-job-390")
        with page.expect_download() as download:
            page.click("text=Download the file")
        assert download.value.suggested_filename == "rapport-organizations.csv"
        page.set_viewport_size({"width": 1366, "height": 900})
        shot(page, "export-job-1366")
    finally:
        huey.immediate = before
