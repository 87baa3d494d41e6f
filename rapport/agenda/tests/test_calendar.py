"""The iCalendar feed at a secret address: what the user may see, no special-category data,
revoked and renewed by the user."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from rapport.agenda import services


def _events(body: bytes) -> list[Any]:
    return [c for c in Calendar.from_ical(body).walk() if c.name == "VEVENT"]


def test_the_secret_address_serves_the_users_tasks_and_visits(users: Any, task: Any, person: Any) -> None:
    from django.utils import timezone

    from rapport.visits.services import create_visit

    task(title="Call María", card=person.pk, due_time="09:00")
    create_visit(user=users["rep_ana"], data={"person": person.pk, "date": timezone.localdate().isoformat(), "window_start": "11:00"})
    secret = services.renew_feed(user=users["rep_ana"])
    response = Client().get(reverse("agenda-feed", args=[secret]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    summaries = {str(e["summary"]) for e in _events(response.content)}
    assert {"Call María", "María García"} <= summaries


def test_a_renewed_address_replaces_the_old_and_a_revoked_one_answers_404(users: Any) -> None:
    old = services.renew_feed(user=users["rep_ana"])
    new = services.renew_feed(user=users["rep_ana"])
    assert Client().get(reverse("agenda-feed", args=[old])).status_code == 404
    assert Client().get(reverse("agenda-feed", args=[new])).status_code == 200
    services.revoke_feed(user=users["rep_ana"])
    assert Client().get(reverse("agenda-feed", args=[new])).status_code == 404


def test_a_guessed_or_malformed_secret_answers_404(users: Any) -> None:
    services.renew_feed(user=users["rep_ana"])
    for guess in ("cal_guess", "x" * 200, "cal_" + "a" * 43):
        assert Client().get(reverse("agenda-feed", args=[guess])).status_code == 404


def test_a_deactivated_users_address_stops_working(users: Any) -> None:
    secret = services.renew_feed(user=users["rep_ana"])
    users["rep_ana"].is_active = False
    users["rep_ana"].save()
    assert Client().get(reverse("agenda-feed", args=[secret])).status_code == 404


def test_the_feed_carries_no_notes_and_no_special_category_data(users: Any, task: Any, make_person: Any) -> None:
    from rapport.cards.services import add_fact

    sol = make_person(given_name="Sol", family_name="Ortiz")
    users["rep_ana"].can_see_special = True
    users["rep_ana"].save()
    add_fact(user=users["rep_ana"], card=sol, item_key="health", value="Asthma", source_key="customer_stated",
             legal_basis={"basis": "explicit_consent", "obtained_at": "2026-01-01", "wording": "Agreed"})
    task(title="Visit Sol", card=sol.pk, note="Private: asthma, avoid perfume")
    secret = services.renew_feed(user=users["rep_ana"])
    body = Client().get(reverse("agenda-feed", args=[secret])).content.decode()
    assert "Visit Sol" in body and "sthma" not in body and "perfume" not in body


def test_the_feed_leaves_out_what_the_user_may_no_longer_see(users: Any, task: Any, make_org: Any) -> None:
    from rapport.cards.models import Card

    org = make_org(name="Moved Away S.A.")
    task(title="Follow up Moved Away", card=org.pk)
    Card.objects.filter(pk=org.pk).update(owner=users["rep_bo_other_team"], team=None)
    secret = services.renew_feed(user=users["rep_ana"])
    assert b"Moved Away" not in Client().get(reverse("agenda-feed", args=[secret])).content


def test_the_settings_page_shows_a_new_address_once(ana: Client) -> None:
    response = ana.post(reverse("agenda-settings"), {"action": "renew"})
    assert "/calendar/cal_" in response.content.decode()
    assert "/calendar/cal_" not in ana.get(reverse("agenda-settings")).content.decode()
