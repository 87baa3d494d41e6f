"""A rep meets a duplicate in a real browser: warned at creation, compares the pair, merges, undoes."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.helpers import console_errors, reveal_card_sections, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("RAPPORT_SCREENSHOTS", "")  # a folder: save screenshots there while developing


@pytest.fixture
def rep(transactional_db: None) -> Any:
    from rapport.accounts.services import create_user
    from rapport.cards.services import add_fact, create_person

    user = create_user(username="rep_ana", role="rep", teams=["Norte"], password="correct horse 42", validate=False)
    card = create_person(user=user, data={"given_name": "Francisco", "family_name": "Fernández", "phones": ["+34 612 345 678"], "tier": "B"})
    add_fact(user=user, card=card, item_key="birth_date", value="1979-05-04", source_key="customer_roster")
    return user


def shot(page: "Page", name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_a_rep_is_warned_compares_merges_and_undoes(browser_page: "Page", live_url: str, rep: Any) -> None:
    page = browser_page
    errors = console_errors(page)
    sign_in(page, live_url)

    page.goto(f"{live_url}/people/new/")
    page.fill("input[name=given_name]", "Paco")
    page.fill("input[name=family_name]", "Fernandez")
    page.fill("[name=phone_number_0]", "612 34 56 78")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/cards/\d+/$"))
    warning = page.locator(".message-warning")
    assert "Francisco Fernández" in warning.inner_text()
    shot(page, "dedup-1-warning")

    warning.locator("a").click()
    page.wait_for_url(re.compile(r".*/duplicates/\d+/$"))
    assert "+34612345678" in page.inner_text("table")
    shot(page, "dedup-2-compare")
    page.locator("input[name=survivor]").first.check()
    page.click("text=Merge")
    page.wait_for_url(re.compile(r".*/cards/\d+/$"))
    assert "Francisco Fernández" in page.inner_text("h1")
    reveal_card_sections(page)  # the profile and the duplicates panel load as they come into view
    assert "Date of birth" in page.inner_text("main")
    shot(page, "dedup-3-merged")

    page.locator("#duplicates button", has_text="Undo").click()
    page.wait_for_url(re.compile(r".*/cards/\d+/$"))
    reveal_card_sections(page)
    assert "Undone" in page.inner_text("#duplicates")
    shot(page, "dedup-4-undone")

    page.goto(f"{live_url}/quality/")
    assert "Least complete valuable cards" in page.inner_text("main")
    shot(page, "quality-team")
    assert errors == []
