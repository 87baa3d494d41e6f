"""A rep's first day in a real browser: sign in, create cards, record a fact, find it, switch language."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.helpers import console_errors, reveal_card_sections, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


@pytest.fixture
def rep(transactional_db: None) -> Any:
    from rapport.accounts.services import create_user

    return create_user(username="rep_ana", role="rep", teams=["Norte"], password="correct horse 42", validate=False)


def test_a_rep_creates_an_organization_and_a_person_records_a_fact_and_finds_it(browser_page: "Page", live_url: str, rep: Any) -> None:
    page = browser_page
    errors = console_errors(page)
    sign_in(page, live_url)

    page.goto(f"{live_url}/organizations/new/")
    page.fill("input[name=name]", "Ferretería Hermanos Ruiz")
    page.fill("[name=phone_number_0]", "+52 55 1234 5678")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/cards/\d+/$"))
    assert "Ferretería Hermanos Ruiz" in page.inner_text("h1")
    org_url = page.url

    page.goto(f"{live_url}/people/new/")
    page.fill("input[name=given_name]", "Lucía")
    page.fill("input[name=family_name]", "Méndez")
    page.fill("#org-q", "Ferre")
    page.locator("#org-choices input[type=radio]").first.check()
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/cards/\d+/$"))
    assert "Lucía Méndez" in page.inner_text("h1")

    page.goto(org_url)
    # Let the sections finish loading first: the test database (SQLite in memory, shared cache)
    # locks a whole table while a read is open, where a real one (WAL, PostgreSQL) does not.
    reveal_card_sections(page)
    page.locator("#add-fact summary").click()
    page.select_option("#add-fact select[name=item]", "business_scope")
    page.wait_for_timeout(300)  # the value widget is swapped in for the chosen item
    page.locator("#add-fact [name=value]").fill("Tornillería y herramientas al por mayor")
    page.select_option("#add-fact select[name=source]", "customer_stated")
    page.locator("#add-fact button[type=submit]").click()
    page.wait_for_selector("text=Tornillería y herramientas al por mayor")
    page.reload()
    reveal_card_sections(page)  # the profile and the timeline load as they come into view
    assert "Tornillería y herramientas al por mayor" in page.inner_text("main")

    page.fill("#top-q", "ruis")  # one typo away from "Ruiz"
    page.wait_for_selector("#live-results >> text=Ferretería Hermanos Ruiz")
    page.press("#top-q", "Enter")  # the full results page: a POST, the text stays out of the URL
    page.wait_for_selector("#search-results")
    assert "ruis" not in page.url
    page.fill("#search-q", "mendez")
    page.wait_for_selector("#search-results >> text=Lucía Méndez")
    assert "mendez" not in page.url
    assert errors == []


@pytest.mark.parametrize(
    "language, expected",
    [("es", "Mis clientes"), ("zh-hans", "我的客户"), ("ro", "Clienții mei")],
)
def test_the_interface_speaks_the_chosen_language(browser_page: "Page", live_url: str, rep: Any, language: str, expected: str) -> None:
    page = browser_page
    sign_in(page, live_url)
    page.select_option("#lang-select", language)
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_url}/")
    assert page.locator("html").get_attribute("lang") == language
    assert expected in page.inner_text("body")
