"""The screen pop in a real browser: /pop/#<number> shows the caller at once, the number never
reaches the server in a URL, and the page reads well at 390 px and on a desk."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.helpers import PASSWORD, console_errors, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("RAPPORT_SCREENSHOTS", "")
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread


@pytest.fixture
def page() -> Iterator["Page"]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context()
            yield context.new_page()
            context.close()
        finally:
            browser.close()


@pytest.fixture
def live_url(live_server: Any, transactional_db: None) -> str:
    return str(live_server.url)


@pytest.fixture
def caller(transactional_db: None) -> Any:
    from rapport.accounts.services import create_user
    from rapport.cards.services import create_organization, create_person

    rep = create_user(username="rep_ana", role="rep", teams=["Norte"], password=PASSWORD, validate=False)
    org = create_organization(user=rep, data={"name": "Ferretería Hermanos Ruiz, Distribuciones Industriales del Norte S.L."})
    return create_person(user=rep, data={"given_name": "María", "family_name": "García Fernández", "organization": org.pk,
                                         "title": "Jefa de compras", "phones": ["+34 612 34 56 78"]})


def shot(page: "Page", name: str) -> None:
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"screenpop-{name}.png"), full_page=True)


def test_a_softphone_opening_the_page_with_the_number_after_the_hash_shows_the_caller(page: "Page", live_url: str, caller: Any) -> None:
    errors = console_errors(page)
    sign_in(page, live_url)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_url}/pop/#%2B34612345678")
    page.wait_for_selector(".pop-customer h1")
    assert "María García Fernández" in page.inner_text(".pop-customer h1")
    assert page.locator('a.tel[href="tel:+34612345678"]').count() >= 1
    assert not any("612345678" in url for url in requested)  # the number went in a body, never in a URL
    # Nothing wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "390-caller")
    # The same tab, the next call.
    page.evaluate("window.location.hash = '+34 611 00 00 00'")
    page.wait_for_selector(".pop-unknown")
    assert "New card" in page.inner_text(".pop-unknown")
    shot(page, "390-unknown")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_url}/pop/#612345678")
    page.wait_for_selector(".pop-customer h1")
    shot(page, "1366-caller")
    assert errors == []


def test_new_card_from_an_unknown_number_opens_the_card_form_with_the_number(page: "Page", live_url: str, caller: Any) -> None:
    sign_in(page, live_url)
    page.goto(f"{live_url}/pop/#+34611000000")
    page.wait_for_selector(".pop-unknown")
    page.click("text=New card: person")
    page.wait_for_url(f"{live_url}/people/new/")
    assert page.input_value("input[name=phone_number_0]").replace(" ", "") == "+34611000000"
