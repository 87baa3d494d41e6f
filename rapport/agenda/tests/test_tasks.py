"""Tasks: added, changed, done, snoozed and repeated through the services, with bad input
refused by name and other people's tasks out of reach."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from rapport.agenda import selectors, services
from rapport.agenda.models import Task
from rapport.core.errors import Conflict, NotFound, PermissionDenied, ValidationError


def test_a_rep_adds_a_follow_up_on_a_customer_for_a_date_and_time(task: Any, person: Any) -> None:
    t = task(card=person.pk, due_on="2027-03-15", due_time="09:30")
    assert (t.card, t.due_on, t.due_time) == (person, dt.date(2027, 3, 15), dt.time(9, 30))


def test_bad_input_is_refused_by_field(task: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        task(title="", due_on="2027-02-30", due_time="25:99", recurrence="hourly", card="abc", colour="red")
    assert set(exc.value.errors) == {"title", "due_on", "due_time", "recurrence", "card", "__all__"}


def test_an_oversized_title_is_refused(task: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        task(title="x" * 301)
    assert "title" in exc.value.errors


def test_a_date_centuries_away_is_refused(task: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        task(due_on="2999-01-01")
    assert "due_on" in exc.value.errors


def test_a_card_of_another_team_is_answered_as_unknown(task: Any, make_org: Any) -> None:
    foreign = make_org(owner="rep_bo_other_team", name="South Traders")
    with pytest.raises(ValidationError) as exc:
        task(card=foreign.pk)
    assert exc.value.errors["card"] == ["Unknown card."]


def test_a_rep_cannot_see_or_change_another_teams_task(task: Any, users: Any) -> None:
    theirs = task(user="rep_bo_other_team")
    with pytest.raises(NotFound):
        selectors.get_task(users["rep_ana"], theirs.pk)


def test_a_manager_gives_a_task_to_one_of_their_people_but_a_rep_cannot(task: Any, users: Any) -> None:
    given = task(user="manager_mei", owner=users["rep_ana"].pk)
    assert given.owner == users["rep_ana"]
    with pytest.raises(ValidationError) as exc:
        task(user="rep_ana", owner=users["rep_ben"].pk)
    assert "owner" in exc.value.errors


def test_an_analyst_may_not_plan_work(task: Any) -> None:
    with pytest.raises(PermissionDenied):
        task(user="analyst_al")


def test_done_closes_a_task_once(task: Any, users: Any) -> None:
    t = task()
    services.complete_task(user=users["rep_ana"], task=t)
    with pytest.raises(ValidationError):
        services.complete_task(user=users["rep_ana"], task=Task.objects.get(pk=t.pk))


def test_a_monthly_task_on_the_31st_comes_back_on_the_last_day_of_a_shorter_month(task: Any, users: Any) -> None:
    t = task(due_on="2027-01-31", recurrence="monthly")
    services.complete_task(user=users["rep_ana"], task=t)
    assert Task.objects.open().get().due_on == dt.date(2027, 2, 28)


def test_a_yearly_task_on_29_february_comes_back_on_28_february(task: Any, users: Any) -> None:
    t = task(due_on="2028-02-29", recurrence="yearly")
    services.complete_task(user=users["rep_ana"], task=t)
    assert Task.objects.open().get().due_on == dt.date(2029, 2, 28)


def test_snooze_counts_from_today_when_the_task_is_overdue(task: Any, users: Any) -> None:
    t = task(due_on=(timezone.localdate() - dt.timedelta(days=5)).isoformat())
    snoozed = services.snooze_task(user=users["rep_ana"], task=t, days=3)
    assert snoozed.due_on == timezone.localdate() + dt.timedelta(days=3) and snoozed.snoozed == 1


@pytest.mark.parametrize("days", [0, -1, "x", 9999, True, None])
def test_snooze_refuses_a_bad_number_of_days(task: Any, users: Any, days: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        services.snooze_task(user=users["rep_ana"], task=task(), days=days)
    assert "days" in exc.value.errors


def test_a_stale_version_is_a_conflict(task: Any, users: Any) -> None:
    t = task()
    services.update_task(user=users["rep_ana"], task=t, data={"title": "Call back"}, expected_version=1)
    with pytest.raises(Conflict):
        services.update_task(user=users["rep_ana"], task=t, data={"title": "Again"}, expected_version=1)


def test_a_deal_of_another_customer_cannot_be_linked(task: Any, person: Any, make_org: Any, users: Any) -> None:
    from rapport.deals.services import create_deal

    other = make_org(name="Other Co")
    deal = create_deal(user=users["rep_ana"], data={"organization": other.pk, "name": "Paint", "currency": "EUR"})
    with pytest.raises(ValidationError) as exc:
        task(card=person.pk, deal=deal.pk)
    assert "deal" in exc.value.errors
    assert task(deal=deal.pk).card == other


def test_a_task_without_a_date_is_due_today_where_its_owner_is(task: Any, users: Any) -> None:
    from zoneinfo import ZoneInfo

    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):  # 25 hours apart: one is on another date than the server
        services.update_settings(user=users["rep_ana"], data={"time_zone": zone})
        here = timezone.now().astimezone(ZoneInfo(zone)).date()
        assert task().due_on == here
        snoozed = services.snooze_task(user=users["rep_ana"], task=task(due_on=(here - dt.timedelta(days=9)).isoformat()), days=1)
        assert snoozed.due_on == here + dt.timedelta(days=1)
