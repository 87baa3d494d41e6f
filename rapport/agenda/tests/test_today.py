"""Today, the rep's home: overdue first, then today, then the next days; one-click done, snooze
and log a call; the best time to call and a warning when a customer is approached too often; a
manager's view of the team's overdue work."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rapport.agenda.models import Task


def _day(offset: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=offset)).isoformat()


def test_signing_in_lands_on_today(users: Any) -> None:
    response = Client().post(reverse("login"), {"username": "rep_ana", "password": "x"})
    assert response.status_code == 302 and response["Location"] == reverse("agenda-today")


def test_today_lists_overdue_first_then_today_then_the_next_days(ana: Client, task: Any) -> None:
    task(title="Later thing", due_on=_day(2))
    task(title="Late thing", due_on=_day(-3))
    task(title="Today thing", due_on=_day(0))
    html = ana.get(reverse("agenda-today")).content.decode()
    assert html.index("Late thing") < html.index("Today thing") < html.index("Later thing")
    assert "Overdue" in html and "Due today" in html


def test_today_shows_only_the_reps_own_work(ana: Client, task: Any) -> None:
    task(user="rep_ben", title="Ben's call")
    assert "Ben&#x27;s call" not in ana.get(reverse("agenda-today")).content.decode()


def test_one_click_done_answers_the_line_for_htmx(ana: Client, task: Any) -> None:
    t = task(title="Send samples")
    response = ana.post(reverse("agenda-task-done", args=[t.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Done: Send samples" in response.content.decode()
    assert Task.objects.get(pk=t.pk).done_at is not None


def test_snooze_moves_the_task_by_the_chosen_days(ana: Client, task: Any) -> None:
    t = task()
    ana.post(reverse("agenda-task-snooze", args=[t.pk]), {"days": "3"}, HTTP_HX_REQUEST="true")
    assert Task.objects.get(pk=t.pk).due_on == timezone.localdate() + dt.timedelta(days=3)


def test_snooze_with_a_bad_number_answers_422(ana: Client, task: Any) -> None:
    t = task()
    response = ana.post(reverse("agenda-task-snooze", args=[t.pk]), {"days": "forever"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422


def test_log_a_call_records_the_call_and_closes_the_task(ana: Client, task: Any, person: Any) -> None:
    from rapport.activities.models import Activity

    t = task(card=person.pk)
    response = ana.post(reverse("agenda-log-call"), {"card": person.pk, "task": t.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert Activity.objects.filter(kind="call", participants__card=person).exists()
    assert Task.objects.get(pk=t.pk).done_at is not None


def test_log_a_call_on_a_foreign_card_is_refused(ana: Client, make_org: Any) -> None:
    foreign = make_org(owner="rep_bo_other_team", name="South Traders")
    response = ana.post(reverse("agenda-log-call"), {"card": foreign.pk}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422


def test_done_on_another_reps_task_is_not_found(ana: Client, task: Any) -> None:
    t = task(user="rep_bo_other_team")
    assert ana.post(reverse("agenda-task-done", args=[t.pk])).status_code == 404


def test_the_best_time_to_call_and_a_too_often_warning_are_shown(ana: Client, task: Any, person: Any, fact: Any, users: Any) -> None:
    from rapport.activities.services import log_activity

    fact(person, "best_time_to_contact", "Mornings before 10")
    for _ in range(3):
        log_activity(user=users["rep_ana"], data={"kind": "call", "summary": "Call", "cards": [person.pk]})
    task(card=person.pk, title="Ask about the order")
    html = ana.get(reverse("agenda-today")).content.decode()
    assert "Mornings before 10" in html
    assert "Already contacted 3 times in the last 7 days" in html


def test_a_manager_sees_the_teams_overdue_work_and_a_rep_does_not(users: Any, task: Any) -> None:
    task(title="Overdue for Ana", due_on=_day(-2))
    task(user="rep_bo_other_team", title="Overdue elsewhere", due_on=_day(-2))
    mei = Client()
    mei.force_login(users["manager_mei"])
    html = mei.get(reverse("agenda-team")).content.decode()
    assert "Overdue for Ana" in html and "Overdue elsewhere" not in html
    rep = Client()
    rep.force_login(users["rep_ana"])
    assert rep.get(reverse("agenda-team")).status_code == 404


def test_the_page_is_translated(ana: Client, users: Any) -> None:
    users["rep_ana"].language = "es"
    users["rep_ana"].save()
    html = ana.get(reverse("agenda-today"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Hoy" in html


def test_today_reads_a_fixed_number_of_queries(ana: Client, task: Any, person: Any, django_assert_max_num_queries: Any) -> None:
    for i in range(15):
        task(card=person.pk, title=f"Task {i}", due_on=_day(i % 5 - 2))
    with django_assert_max_num_queries(40):
        assert ana.get(reverse("agenda-today")).status_code == 200


def test_the_card_page_shows_its_follow_ups(ana: Client, task: Any, person: Any) -> None:
    task(card=person.pk, title="Bring the brochure")
    assert "Bring the brochure" in ana.get(reverse("card-detail", args=[person.pk])).content.decode()


def test_a_new_task_from_the_form(ana: Client, person: Any) -> None:
    response = ana.post(reverse("agenda-task-new"), {"title": "Quote", "due_on": _day(1), "card": person.pk})
    assert response.status_code == 302
    assert Task.objects.get(title="Quote").card == person
    bad = ana.post(reverse("agenda-task-new"), {"title": "", "due_on": "31/31/2027"})
    assert bad.status_code == 422


def test_a_long_overdue_list_shows_the_oldest_thirty_and_the_rest_on_request(ana: Client, task: Any) -> None:
    for i in range(35):
        task(title=f"Old task {i:02d}", due_on=_day(-40 + i))
    html = ana.get(reverse("agenda-today")).content.decode()
    assert "Old task 29" in html and "Old task 30" not in html and "Show 5 more overdue" in html
    assert "Old task 34" in ana.get(reverse("agenda-today") + "?all=1").content.decode()


def test_today_is_today_in_the_users_time_zone(users: Any) -> None:
    from zoneinfo import ZoneInfo

    from rapport.agenda import selectors, services

    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):  # 25 hours apart: one of them is on another date than UTC
        services.update_settings(user=users["rep_ana"], data={"time_zone": zone})
        assert selectors.local_today(users["rep_ana"]) == timezone.now().astimezone(ZoneInfo(zone)).date()


def test_the_customers_local_time_is_shown_when_it_differs(ana: Client, task: Any, make_person: Any, users: Any) -> None:
    from rapport.agenda import services

    services.update_settings(user=users["rep_ana"], data={"time_zone": "Europe/Madrid"})
    wang = make_person(given_name="Wei", family_name="Wang", addresses=[{"city": "Shanghai", "country": "CN"}])
    task(card=wang.pk, title="Call Wei")
    item = ana.get("/api/v1/agenda/today").json()["due_today"][0]
    assert item["local_time"] and ":" in item["local_time"]
    assert "where the customer is" in ana.get(reverse("agenda-today")).content.decode()


def test_each_customer_line_has_the_number_to_call(ana: Client, task: Any, make_person: Any) -> None:
    customer = make_person(given_name="Lucía", phones=["+34 612 34 56 78"])
    task(title="Call back about the quote", card=customer.pk, due_on=timezone.localdate().isoformat())
    html = ana.get("/today/").content.decode()
    assert 'href="tel:+34612345678"' in html
    assert ana.get("/api/v1/agenda/today").json()["due_today"][0]["phone"] == "+34612345678"


def test_the_overdue_count_includes_the_lines_not_shown(ana: Client, task: Any) -> None:
    today = timezone.localdate()
    for n in range(33):
        task(title=f"Late {n:02d}", due_on=(today - dt.timedelta(days=40 - n)).isoformat())
    html = ana.get("/today/").content.decode()
    assert '<span class="count">33</span>' in html and "Late 00" in html and "Late 30" not in html
    assert "Show 3 more overdue" in html
    assert "Late 32" in ana.get("/today/?all=1").content.decode()
