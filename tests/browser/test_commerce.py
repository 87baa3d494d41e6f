"""A rep enters an order and records a payment in a real browser; the statement and the matrix follow."""

from __future__ import annotations

import datetime as dt
import os
import re
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.helpers import PASSWORD, console_errors, reveal_card_sections, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("RAPPORT_SCREENSHOTS", "")  # a folder: save screenshots there while developing
WIDTHS = (390, 1366)  # a rep's phone, a manager's desk


@pytest.fixture
def account(transactional_db: None) -> dict[str, Any]:
    from rapport.accounts.services import create_user
    from rapport.cards.services import create_organization
    from rapport.commerce import services

    admin = create_user(username="admin", role="admin", password=PASSWORD, validate=False)
    rep = create_user(username="rep_ana", role="rep", teams=["Norte"], password=PASSWORD, validate=False)
    oil = services.create_product(user=admin, data={"sku": "OIL-5L", "name": "Engine oil 5 L", "category": "Lubricants"})
    flt = services.create_product(user=admin, data={"sku": "FLT-01", "name": "Oil filter", "category": "Filters"})
    prices = services.create_price_list(user=admin, data={"name": "Distributors 2026", "currency": "EUR", "valid_from": "2026-01-01"})
    services.set_price(user=admin, price_list=prices, product=oil, data={"list_price": "24.50"})
    services.set_price(user=admin, price_list=prices, product=flt, data={"list_price": "6.20"})
    services.set_collection_policy(user=admin, team=None, currency="EUR", long_after_days=30, large_from="1000")
    org = create_organization(user=rep, data={"name": "Ferretería Hermanos Ruiz, Distribuciones Industriales del Norte S.L."})
    today = dt.date.today()
    for number, amount, days_overdue in (("F-2026-0101", "380.00", 12), ("F-2026-0077", "4200.00", 64), ("F-2026-0140", "150.00", -20)):
        due = today - dt.timedelta(days=days_overdue)
        services.create_invoice(user=rep, card=org, data={"external_id": number, "currency": "EUR", "amount": amount,
                                                          "issued_on": (due - dt.timedelta(days=30)).isoformat(), "due_on": due.isoformat()})
    from rapport.commerce import collection

    collection.generate_tasks(as_of=today)
    return {"rep": rep, "org": org}


def shot(page: "Page", name: str) -> None:
    """Full-page screenshots at a phone's and a desk's width, when a folder is given."""
    if not SHOTS:
        return
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=os.path.join(SHOTS, f"commerce-{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
        assert not overflow, f"{name} overflows sideways at {width} px"
    page.set_viewport_size({"width": 1366, "height": 900})


def test_a_rep_enters_an_order_records_a_payment_and_reads_the_account(browser_page: "Page", live_url: str, account: Any) -> None:
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 900})
    errors = console_errors(page)
    sign_in(page, live_url)
    org = account["org"]

    page.goto(f"{live_url}/cards/{org.pk}/")
    reveal_card_sections(page)  # the account panel loads as it comes into view
    panel = page.locator("#account")
    assert "€4,730.00" in panel.inner_text() and "€4,580.00" in panel.inner_text()
    shot(page, "1-card")

    panel.locator("text=+ Order").click()
    page.wait_for_url(re.compile(r".*/orders/new/$"))
    lines = page.locator(".order-line")
    lines.nth(0).locator("[name=line_product]").fill("OIL-5L")
    lines.nth(0).locator("[name=line_product]").dispatch_event("change")
    page.wait_for_selector(".order-line >> nth=0 >> input[name=line_unit_price][value='24.5']")
    page.locator(".order-line").nth(0).locator("[name=line_quantity]").fill("10")
    page.locator(".order-line").nth(1).locator("[name=line_product]").fill("FLT-01")
    page.locator(".order-line").nth(1).locator("[name=line_product]").dispatch_event("change")
    page.wait_for_selector(".order-line >> nth=1 >> input[name=line_unit_price][value='6.2']")
    page.locator(".order-line").nth(1).locator("[name=line_quantity]").fill("4")
    page.click("text=+ Add a line")
    page.locator(".order-line").nth(4).wait_for()
    shot(page, "2-order-form")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/orders/\d+/$"))
    assert "€269.80" in page.inner_text(".big-amount")
    assert "Engine oil 5 L" in page.inner_text("main") and "Oil filter" in page.inner_text("main")
    shot(page, "3-order")

    page.goto(f"{live_url}/cards/{org.pk}/payments/new/")
    page.fill("input[name=amount]", "500")
    page.locator("tr", has_text="F-2026-0077").locator("input[name=alloc_amount]").fill("400")
    page.locator("tr", has_text="F-2026-0101").locator("input[name=alloc_amount]").fill("100")
    shot(page, "4-payment")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/cards/\d+/statement/$"))
    assert "Payment recorded." in page.inner_text(".messages")
    assert "€4,230.00" in page.inner_text(".figure-main")
    shot(page, "5-statement")
    if SHOTS:
        page.emulate_media(media="print")
        page.screenshot(path=os.path.join(SHOTS, "commerce-5-statement-print.png"), full_page=True)
        page.emulate_media(media="screen")

    page.goto(f"{live_url}/receivables/")
    matrix = page.locator(".matrix")
    assert "Special arrangement" in matrix.inner_text() and "€3,800.00" in matrix.inner_text()
    assert page.locator("svg.aging-chart-wide rect.chart-bar").count() == 5
    shot(page, "6-receivables")
    page.locator(".matrix-cell", has_text="Special arrangement").click()
    page.wait_for_url(re.compile(r".*/receivables/long_large/.*"))
    assert "F-2026-0077" in page.inner_text("main")
    shot(page, "7-cell")

    page.click("text=F-2026-0077")
    page.wait_for_url(re.compile(r".*/invoices/\d+/$"))
    page.select_option("select[name=cause]", "unwilling")
    page.click("#cause button[type=submit]")
    page.wait_for_url(re.compile(r".*/invoices/\d+/$"))
    assert "Unwilling to pay" in page.inner_text("main")
    shot(page, "8-invoice")
    page.goto(f"{live_url}/collection/")
    assert "Special arrangement" in page.inner_text("main")
    shot(page, "9-collection")
    page.goto(f"{live_url}/products/")
    page.click("text=Engine oil 5 L")
    assert "€24.50" in page.inner_text("main")
    shot(page, "10-product")
    assert errors == []
