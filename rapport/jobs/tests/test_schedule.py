"""The daily schedule: each job at its HH:MM on the team's clock (RAPPORT_TIME_ZONE, summer time
included), none when its time is empty; each scheduled run is recorded as a job."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from rapport.jobs import tasks
from rapport.jobs.models import Job, Status
from rapport.jobs.queue import daily_at


def test_a_daily_time_is_read_on_the_teams_clock_in_winter_and_in_summer(settings: Any) -> None:
    settings.TIME_ZONE = "Europe/Madrid"
    at = daily_at("05:30")
    # Huey asks with the time in UTC: 04:30 UTC in winter, 03:30 UTC in summer.
    assert at(dt.datetime(2026, 1, 15, 4, 30)) and not at(dt.datetime(2026, 1, 15, 5, 30))
    assert at(dt.datetime(2026, 7, 15, 3, 30)) and not at(dt.datetime(2026, 7, 15, 4, 30))
    assert not at(dt.datetime(2026, 1, 15, 4, 31))


def test_an_empty_time_is_never_due_and_a_bad_one_is_refused() -> None:
    never = daily_at("")
    assert not any(never(dt.datetime(2026, 1, 1, h, m)) for h in range(24) for m in range(60))
    with pytest.raises(ImproperlyConfigured):
        daily_at("25:99")


def test_the_nightly_and_morning_jobs_are_due_at_their_times() -> None:
    from zoneinfo import ZoneInfo

    from django.conf import settings

    from rapport.jobs.queue import huey

    def due_at(hhmm: str) -> set[str]:
        hour, minute = (int(p) for p in hhmm.split(":"))
        local = dt.datetime(2026, 1, 15, hour, minute, tzinfo=ZoneInfo(settings.TIME_ZONE))
        return {task.name for task in huey.read_periodic(local.astimezone(dt.timezone.utc).replace(tzinfo=None))}

    for kind, hhmm in settings.RAPPORT_SCHEDULE.items():
        assert due_at(hhmm) == {f"scheduled_{kind}", "sweep_dead_jobs"}
    assert tasks.sweep_dead_jobs.name in due_at("12:07")


def test_a_scheduled_run_is_recorded_as_a_job_without_an_asker(users: Any) -> None:
    tasks.scheduled_agenda_remind.call_local()
    tasks.scheduled_funnel_rules.call_local()
    runs = {job.kind: job for job in Job.objects.all()}
    assert runs["agenda_remind"].status == Status.DONE and runs["agenda_remind"].user is None
    assert "created" in runs["agenda_remind"].result
    assert runs["funnel_rules"].status == Status.DONE and runs["funnel_rules"].result == {"moves": 0}


def test_the_worker_keeps_the_schedule_unless_told_not_to() -> None:
    from rapport.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["worker"]).beat is True
    assert parser.parse_args(["worker", "--no-beat"]).beat is False
    assert parser.parse_args(["worker", "--workers", "4", "--threads"]).workers == 4
