"""Today in a real browser: the rep lands on it after signing in, marks a task done and snoozes
another with one click each (htmx, no reload), logs a call; readable on a phone at 390 px."""

from __future__ import annotations

import datetime as dt
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
        page.screenshot(path=os.path.join(SHOTS, f"agenda-{name}.png"), full_page=True)


@pytest.fixture
def day(transactional_db: None) -> dict[str, Any]:
    from django.utils import timezone

    from rapport.accounts.services import create_user
    from rapport.agenda import services
    from rapport.cards.services import add_fact, create_organization, create_person

    create_user(username="manager_mei", role="manager", manages=["Norte"], password=PASSWORD, validate=False)
    rep = create_user(username="rep_ana", role="rep", teams=["Norte"], password=PASSWORD, validate=False)
    org = create_organization(user=rep, data={"name": "Ferretería Hermanos Ruiz, Distribuciones Industriales del Norte S.L.", "tier": "A"})
    person = create_person(user=rep, data={"given_name": "María", "family_name": "García Fernández",
                                           "addresses": [{"city": "Bilbao", "country": "ES"}]})
    add_fact(user=rep, card=person, item_key="best_time_to_contact", value="Mañanas, antes de las 10", source_key="rep_observation")
    today = timezone.localdate()
    tasks = {
        "late": services.create_task(user=rep, data={"title": "Enviar la tarifa nueva", "card": org.pk,
                                                     "due_on": (today - dt.timedelta(days=3)).isoformat()}),
        "now": services.create_task(user=rep, data={"title": "Llamar para cerrar el pedido de pintura", "card": person.pk,
                                                    "due_on": today.isoformat(), "due_time": "09:30"}),
        "soon": services.create_task(user=rep, data={"title": "Preparar la visita", "card": org.pk,
                                                     "due_on": (today + dt.timedelta(days=2)).isoformat()}),
    }
    return {"rep": rep, "org": org, "person": person, **tasks}


@pytest.mark.parametrize("width", [390, 1366])
def test_a_rep_lands_on_today_and_clears_it_with_one_click(browser_page: "Page", live_url: str, day: dict[str, Any], width: int) -> None:
    from rapport.agenda.models import Task

    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    errors = console_errors(page)
    sign_in(page, live_url)
    assert page.url == f"{live_url}/today/"
    main = page.inner_text("main")
    assert main.index("Enviar la tarifa nueva") < main.index("Llamar para cerrar") < main.index("Preparar la visita")
    assert "Mañanas, antes de las 10" in main
    # Nothing overflows sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"today-{width}")

    late = page.locator("li.agenda-item", has_text="Enviar la tarifa nueva")
    late.get_by_role("button", name="Done").click()
    page.locator("li.agenda-gone", has_text="Done: Enviar la tarifa nueva").wait_for()
    assert Task.objects.get(pk=day["late"].pk).done_at is not None

    soon = page.locator("li.agenda-item", has_text="Preparar la visita")
    soon.locator("select[name=days]").select_option("3")
    soon.get_by_role("button", name="Snooze").click()
    page.locator("li.agenda-gone", has_text="Preparar la visita").wait_for()
    assert Task.objects.get(pk=day["soon"].pk).due_on == day["soon"].due_on + dt.timedelta(days=3)

    now = page.locator("li.agenda-item", has_text="Llamar para cerrar")
    now.get_by_role("button", name="Log a call").click()
    page.locator("li.agenda-gone", has_text="Call logged.").wait_for()
    shot(page, f"today-after-{width}")
    assert errors == []


def test_the_calendar_page_on_a_phone(browser_page: "Page", live_url: str, day: dict[str, Any]) -> None:
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 800})
    sign_in(page, live_url)
    page.goto(f"{live_url}/today/settings/")
    page.get_by_role("button", name="Turn on the calendar address").click()
    address = page.locator("#cal-address").input_value()
    assert "/calendar/cal_" in address
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "settings-390")
    response = page.request.get(address)
    assert response.status == 200 and b"BEGIN:VCALENDAR" in response.body()
