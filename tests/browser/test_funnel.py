"""A rep qualifies a prospect, makes it a target, and a manager reads the funnel and builds a segment."""

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
    from rapport.cards.services import create_organization

    user = create_user(username="rep_ana", role="rep", teams=["Norte"], password="correct horse 42", validate=False)
    create_organization(user=user, data={"name": "Ferretería Hermanos Ruiz", "lifecycle_stage": "prospect"})
    return user


def test_a_prospect_is_qualified_moved_to_target_and_counted(browser_page: "Page", live_url: str, rep: Any, tmp_path: Any) -> None:
    from rapport.cards.models import Card

    page = browser_page
    errors = console_errors(page)
    sign_in(page, live_url)
    card = Card.objects.get()
    page.goto(f"{live_url}/cards/{card.id}/")
    reveal_card_sections(page)  # the funnel panel loads as it comes into view
    assert "To become a target" in page.inner_text("#funnel")
    page.select_option("#funnel select[name=intent]", "clear")
    page.select_option("#funnel select[name=power]", "strong")
    page.select_option("#funnel select[name=timeframe]", "quarter")
    page.click("#funnel form.qualification button[type=submit]")
    page.wait_for_url(re.compile(r".*/cards/\d+/#funnel$"))
    reveal_card_sections(page)
    assert "Invest time now" in page.inner_text("#funnel")
    page.select_option("#funnel select[name=to]", "target")
    page.click("#funnel form.stage-move button[type=submit]")
    page.wait_for_url(re.compile(r".*/cards/\d+/#funnel$"))
    assert "Target" in page.inner_text(".card-head")
    reveal_card_sections(page)
    page.screenshot(path=str(tmp_path / "card.png"), full_page=True)

    page.goto(f"{live_url}/reports/funnel/")
    assert page.locator("svg.funnel-chart rect.chart-bar").count() == 7
    page.goto(f"{live_url}/segments/new/")
    page.fill("input[name=name]", "Targets")
    page.locator("input[name=stage][value=target]").check()
    page.wait_for_selector("#segment-count:has-text('1 card matches')")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/segments/\d+/$"))
    assert "Ferretería Hermanos Ruiz" in page.inner_text("main")
    assert errors == []
