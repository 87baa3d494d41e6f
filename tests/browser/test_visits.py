"""Field visits in a real browser: a report written with the network cut is kept on the phone and
sent when the connection returns; the day, the reflection, the report and the route on a phone
and at a desk."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.helpers import PASSWORD, console_errors, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("RAPPORT_SCREENSHOTS", "")
WIDTHS = (390, 1366)


@pytest.fixture
def road(transactional_db: None) -> dict[str, Any]:
    from django.utils import timezone

    from rapport.accounts.services import create_user
    from rapport.cards.services import create_organization, create_person
    from rapport.relationships import services as relationships
    from rapport.visits import services

    create_user(username="manager_mei", role="manager", manages=["Norte"], password=PASSWORD, validate=False)
    rep = create_user(username="rep_ana", role="rep", teams=["Norte"], password=PASSWORD, validate=False)
    services.set_start_point(user=rep, data={"label": "Oficina", "latitude": "43.2630", "longitude": "-2.9350", "leaves_at": "08:30"})
    today = timezone.localdate().isoformat()
    names = ("Ferretería Hermanos Ruiz, Distribuciones Industriales del Norte S.L.", "Almacenes Costa Verde", "Pinturas Arriaga",
             "Suministros Deusto")
    spots = (("43.3000", "-2.9900"), ("43.2500", "-2.9000"), ("43.3100", "-2.9800"), ("43.2600", "-2.9200"))
    visits = []
    for i, (name, (lat, lon)) in enumerate(zip(names, spots)):
        org = create_organization(user=rep, data={"name": name})
        services.set_site(user=rep, card=org, data={"latitude": lat, "longitude": lon, "opens_at": "09:00", "closes_at": "19:00"})
        visits.append(services.create_visit(user=rep, data={
            "organization": org.pk, "date": today, "window_start": "09:00", "window_end": "13:00", "position": i + 1,
            "objectives": [{"kind": "collect_payment", "target_amount": "1500", "currency": "EUR"}, "new_products"],
            "tools": ["brochures", "price_lists"],
        }))
    first = visits[0]
    from rapport.commerce import services as commerce

    admin = create_user(username="admin", role="admin", password=PASSWORD, validate=False)
    paint = commerce.create_product(user=admin, data={"sku": "PNT-15", "name": "Pintura plástica 15 L", "category": "Pintura"})
    rival = commerce.create_product(user=admin, data={"sku": "PNT-15-X", "name": "Pintura Colorex 15 L", "category": "Pintura",
                                                      "is_ours": False})
    prices = commerce.create_price_list(user=admin, data={"name": "Distribuidores", "currency": "EUR", "valid_from": "2026-01-01"})
    commerce.set_price(user=admin, price_list=prices, product=paint, data={"list_price": "42", "purchase_price": "36",
                                                                         "min_retail": "48", "max_retail": "61"})
    from rapport.visits import audits

    audits.record_price_audit(user=rep, visit=first, rows=[
        {"product": "PNT-15", "currency": "EUR", "purchase_price": "36", "retail_price": "45.90"},
        {"product": "PNT-15-X", "currency": "EUR", "purchase_price": "31", "retail_price": "44.50"}])
    audits.record_stock_audit(user=rep, visit=first, rows=[{"product": "PNT-15", "quantity": "14"}, {"product": "PNT-15-X", "quantity": "30"}])
    del rival
    buyer = create_person(user=rep, data={"given_name": "Lucía", "family_name": "Pérez Gómez"})
    relationships.add_member(user=rep, organization_id=first.card_id, data={"person": buyer.pk, "roles": ["decision_maker"], "influence": 60})
    services.add_promise(user=rep, card=first.card, data={"by": "them", "text": "Pagar la factura de octubre", "due_on": "2026-11-20"})
    return {"rep": rep, "visit": first, "visits": visits}


def shot(page: "Page", name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        if SHOTS:
            page.screenshot(path=os.path.join(SHOTS, f"visits-{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
        assert not overflow, f"{name} overflows sideways at {width} px"
    page.set_viewport_size({"width": 1366, "height": 900})


def wait_until(page: "Page", script: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not page.evaluate(script):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {script}")
        time.sleep(0.05)


def test_a_report_written_offline_is_kept_and_sent_when_the_connection_returns(browser_page: "Page", live_url: str, road: dict[str, Any]) -> None:
    from rapport.visits.models import Promise, Visit

    page = browser_page
    errors = console_errors(page)
    sign_in(page, live_url)
    visit = road["visit"]
    page.goto(f"{live_url}/visits/{visit.pk}/report/")
    page.check("input[name=outcome][value=partly]")
    page.fill("input[name=outcome_note]", "El comprador estaba de vacaciones")
    page.fill("textarea[name=summary]", "Revisamos el stock de pintura.")
    # The phone loses its connection while the rep is still typing.
    page.context.set_offline(True)
    page.fill("input[name=promise_text_0]", "Enviar el catálogo nuevo")
    page.click("button[type=submit]:has-text('Send the report')")
    wait_until(page, "!document.getElementById('report-status').hidden")
    assert "kept on this phone" in page.inner_text("#report-status")
    assert Visit.objects.get(pk=visit.pk).status == "planned"
    # A reload while offline would fail; the draft is in the browser's storage.
    draft = page.evaluate(f"localStorage.getItem('rapport-visit-report-{visit.pk}')")
    assert draft and "Enviar el cat" in draft
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_url(f"{live_url}/visits/{visit.pk}/", timeout=10000)
    assert Visit.objects.get(pk=visit.pk).status == "done"
    assert list(Promise.objects.filter(visit=visit).values_list("text", flat=True)) == ["Enviar el catálogo nuevo"]
    assert page.evaluate(f"localStorage.getItem('rapport-visit-report-{visit.pk}')") is None
    assert not errors, errors


def test_a_draft_left_behind_comes_back_when_the_report_opens_again(browser_page: "Page", live_url: str, road: dict[str, Any]) -> None:
    page = browser_page
    sign_in(page, live_url)
    visit = road["visit"]
    page.goto(f"{live_url}/visits/{visit.pk}/report/")
    page.fill("textarea[name=summary]", "Notas a medio escribir")
    page.check("input[name=outcome][value=met]")
    page.goto(f"{live_url}/visits/")
    page.goto(f"{live_url}/visits/{visit.pk}/report/")
    assert page.input_value("textarea[name=summary]") == "Notas a medio escribir"
    assert page.is_checked("input[name=outcome][value=met]")
    assert "draft kept on this phone" in page.inner_text("#report-status")


def test_the_rep_s_day_reflection_report_and_route_on_a_phone_and_at_a_desk(browser_page: "Page", live_url: str, road: dict[str, Any]) -> None:
    page = browser_page
    errors = console_errors(page)
    sign_in(page, live_url)
    visit = road["visit"]
    page.goto(f"{live_url}/visits/")
    assert page.locator(".visit-item").count() == 4
    shot(page, "day")
    page.goto(f"{live_url}/visits/{visit.pk}/")
    shot(page, "visit")
    page.goto(f"{live_url}/visits/{visit.pk}/reflection/")
    assert "Pagar la factura de octubre" in page.inner_text("main")
    assert "Lucía Pérez Gómez" in page.inner_text("main")
    shot(page, "reflection")
    page.goto(f"{live_url}/visits/{visit.pk}/report/")
    shot(page, "report")
    page.goto(f"{live_url}/visits/new/?organization={visit.card_id}")
    shot(page, "plan")
    page.goto(f"{live_url}/visits/{visit.pk}/price-audit/")
    shot(page, "price-audit")
    page.goto(f"{live_url}/visits/{visit.pk}/inventory-audit/")
    shot(page, "stock-audit")
    from django.urls import reverse

    page.goto(live_url + reverse("visit-route"))
    page.wait_for_selector(".leaflet-container, [data-route-map]", timeout=10000)
    shot(page, "route")
    assert not errors, errors


def test_the_reflection_reads_in_chinese_without_missing_glyphs(browser_page: "Page", live_url: str, road: dict[str, Any]) -> None:
    page = browser_page
    sign_in(page, live_url)
    page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": live_url}])
    page.goto(f"{live_url}/visits/{road['visit'].pk}/reflection/")
    assert "拜访" in page.inner_text("main") or "承诺" in page.inner_text("main")
    shot(page, "reflection-zh")
