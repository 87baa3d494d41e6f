"""The analytics pages in a real browser, as a manager at a desk and a rep on a phone: the churn
report with its risk bars, the RFM segments chart, the retention heat map, profitability by tier
and performance against last year, without sideways overflow or console errors."""

from __future__ import annotations

import datetime as dt
import os
from typing import TYPE_CHECKING

import pytest

from tests.browser.helpers import PASSWORD, console_errors, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("RAPPORT_SCREENSHOTS", "")
WIDTHS = (390, 1366)


@pytest.fixture
def customers(transactional_db: None) -> None:
    from django.utils import timezone

    from rapport.accounts.services import create_user
    from rapport.cards.services import create_organization
    from rapport.activities.services import log_activity
    from rapport.commerce.models import Order, OrderLine, OrderStatus, Product

    create_user(username="manager_mei", role="manager", manages=["Norte"], password=PASSWORD, validate=False)
    rep = create_user(username="rep_ana", role="rep", teams=["Norte"], password=PASSWORD, validate=False)
    today = timezone.localdate()
    rhythms = (("Ferretería Hermanos Ruiz, Distribuciones Industriales del Norte S.L.", 30, 95), ("Almacenes Costa Verde", 30, 10),
               ("Pinturas Arriaga", 120, 90), ("Suministros Deusto", 14, 60), ("Bricolaje Getxo", 45, 20), ("Maderas Bilbao", 7, 3))
    for name, every, silent in rhythms:
        card = create_organization(user=rep, data={"name": name, "lifecycle_stage": "regular"})
        last = today - dt.timedelta(days=silent)
        days = [last - dt.timedelta(days=every * k) for k in range(8)]
        Order.objects.bulk_create([Order(card=card, currency="EUR", ordered_on=d, total=100 + 10 * k, status=OrderStatus.CONFIRMED)
                                   for k, d in enumerate(days)])
        if every == 30:  # order lines and visits for the profitability and performance pages
            product = Product.objects.get_or_create(sku=f"P-{every}-{silent}", defaults={
                "name": "Pintura plástica 15 L", "category": "Pinturas", "unit_cost": 70})[0]
            for order in Order.objects.filter(card=card):
                OrderLine.objects.create(order=order, product=product, quantity=1, unit_price=order.total, amount=order.total)
            for k in range(6):
                log_activity(user=rep, data={"kind": "visit", "summary": "Visita", "cards": [card.pk],
                                             "occurred_at": (timezone.now() - dt.timedelta(days=20 * k)).isoformat()})


def shot(page: "Page", name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        if SHOTS:
            page.screenshot(path=os.path.join(SHOTS, f"analytics-{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
        assert not overflow, f"{name} overflows sideways at {width} px"
    page.set_viewport_size({"width": 1366, "height": 900})


@pytest.mark.parametrize("who", ["manager_mei", "rep_ana"])
def test_the_churn_and_rfm_pages_read_on_a_phone_and_at_a_desk(browser_page: "Page", live_url: str, customers: None, who: str) -> None:
    page = browser_page
    errors = console_errors(page)
    sign_in(page, live_url, username=who)
    page.goto(f"{live_url}/analytics/churn/")
    text = page.inner_text("main")
    assert "Ferretería Hermanos Ruiz" in text and "Flagged" in text
    shot(page, f"churn-{who}")
    page.goto(f"{live_url}/analytics/rfm/")
    assert page.locator("svg").count() >= 1
    shot(page, f"rfm-{who}")
    page.goto(f"{live_url}/analytics/retention/")
    assert page.locator("table").count() >= 1
    shot(page, f"retention-{who}")
    page.goto(f"{live_url}/analytics/profitability/")
    assert "Almacenes Costa Verde" in page.inner_text("main") and page.locator("svg.profit-chart").count() == 1
    shot(page, f"profitability-{who}")
    page.goto(f"{live_url}/analytics/performance/?by=month")
    assert page.locator("svg.perf-chart").count() == 1
    shot(page, f"performance-{who}")
    page.goto(f"{live_url}/analytics/products/")
    assert page.locator("svg.abc-chart").count() == 1
    shot(page, f"products-{who}")
    page.goto(f"{live_url}/analytics/reps/")
    assert page.locator("svg.rep-chart").count() == 1
    shot(page, f"reps-{who}")
    assert not errors, errors


@pytest.fixture
def team_month(customers: None) -> None:
    """A second rep in the team with a customer of their own, and this month's calls, visits and promises."""
    from django.utils import timezone

    from rapport.accounts.models import User
    from rapport.accounts.services import create_user
    from rapport.activities.services import log_activity
    from rapport.cards.models import Card
    from rapport.cards.services import create_organization
    from rapport.commerce.models import Order, OrderStatus
    from rapport.visits.models import Promise, Visit

    ana = User.objects.get(username="rep_ana")
    ben = create_user(username="rep_ben", role="rep", teams=["Norte"], password=PASSWORD, validate=False,
                      first_name="Benito", last_name="Larrañaga")
    today = timezone.localdate()
    card = create_organization(user=ben, data={"name": "Comercial Ibaizabal", "lifecycle_stage": "regular"})
    Order.objects.bulk_create([Order(card=card, currency="EUR", ordered_on=today - dt.timedelta(days=20 * k + 1), total=900,
                                     status=OrderStatus.CONFIRMED) for k in range(20)])
    prospect = create_organization(user=ana, data={"name": "Prospecto Barakaldo", "lifecycle_stage": "prospect"})
    for k in range(4):
        log_activity(user=ana, data={"kind": "call", "summary": "Llamada", "cards": [prospect.pk],
                                     "occurred_at": (timezone.now() - dt.timedelta(hours=k)).isoformat()})
    steady = Card.objects.get(display_name="Suministros Deusto")
    common = {"card_owner_id": ana.pk, "card_team_id": steady.team_id}
    Visit.objects.create(card=steady, planned_on=today, owner=ana, status="done", **common)
    Promise.objects.create(card=steady, owner=ana, by="us", text="Enviar catálogo", due_on=today, kept_on=today)


@pytest.mark.parametrize("who", ["rep_ana", "manager_mei"])
def test_the_dashboard_reads_on_a_phone_and_at_a_desk(browser_page: "Page", live_url: str, team_month: None, who: str) -> None:
    page = browser_page
    errors = console_errors(page)
    sign_in(page, live_url, username=who)
    page.click("nav.mainnav >> text=Analytics")
    page.wait_for_url(f"{live_url}/analytics/")
    text = page.inner_text("main")
    assert "Sales this month" in text and "Silent regulars to call first" in text and "Ferretería Hermanos Ruiz" in text
    assert page.locator("svg.rfm-chart").count() >= 2
    if who == "manager_mei":
        assert "Benito Larrañaga" in text and "Team dashboard" in text and "Comercial Ibaizabal" not in text
    else:
        assert "My dashboard" in text and "Benito" not in text
    shot(page, f"dashboard-{who}")
    if who == "manager_mei":  # one rep picked from the table
        page.click("table.rep-table >> text=Benito Larrañaga")
        assert "Benito Larrañaga" in page.inner_text("h1")
        shot(page, "dashboard-manager-picks-ben")
    page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": live_url}])
    page.goto(f"{live_url}/analytics/")
    assert "本月销售额" in page.inner_text("main")
    shot(page, f"dashboard-{who}-zh")
    assert not errors, errors
