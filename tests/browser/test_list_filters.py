"""The people list in a real browser: a name typed as a filter narrows the list and pages
through it, and never shows up in the address bar."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.helpers import console_errors, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


@pytest.fixture
def rep(transactional_db: None) -> Any:
    from rapport.accounts.services import create_user
    from rapport.cards.bulk import bulk_create_cards

    user = create_user(username="rep_ana", role="rep", teams=["Norte"], password="correct horse 42", validate=False)
    people = [{"kind": "person", "given_name": f"Mara {i:03d}", "family_name": "Ionescu"} for i in range(60)]
    people += [{"kind": "person", "given_name": f"Luis {i:03d}", "family_name": "Pérez"} for i in range(5)]
    bulk_create_cards(user=user, rows=people)
    return user


def test_a_name_filter_narrows_and_pages_the_list_without_entering_the_address(browser_page: "Page", live_url: str, rep: Any) -> None:
    page = browser_page
    errors = console_errors(page)
    sign_in(page, live_url)

    page.goto(f"{live_url}/people/")
    assert "1–50 of 65" in page.inner_text("#results")
    page.fill("#id_q", "mara")
    page.wait_for_function("() => document.querySelector('#results').innerText.includes('of 60')")
    assert "Luis 000" not in page.inner_text("#results")

    page.locator("#results button[rel=next]").click()
    page.wait_for_function("() => document.querySelector('#results').innerText.includes('51–60 of 60')")
    assert "Mara 059" in page.inner_text("#results") and "Luis" not in page.inner_text("#results")

    page.locator("#results button[rel=prev]").click()
    page.wait_for_function("() => document.querySelector('#results').innerText.includes('1–50 of 60')")
    assert page.url == f"{live_url}/people/"  # the name never reached the address
    assert errors == [], errors
