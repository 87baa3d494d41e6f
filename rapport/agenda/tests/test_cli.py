"""``rapport agenda remind``, ``digest`` and ``today`` on the command line."""

from __future__ import annotations

import json
from typing import Any

from rapport.agenda.models import Source, Task
from rapport.cli import main


def test_remind_makes_the_days_reminders_once_and_prints_what_it_did(person: Any, fact: Any, capsys: Any) -> None:
    fact(person, "birth_date", "1980-05-12")
    assert main(["agenda", "remind", "--date", "2027-05-10"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["created"] >= 1
    assert main(["agenda", "remind", "--date", "2027-05-10"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["created"] == 0
    assert Task.objects.filter(source=Source.BIRTHDAY).count() == 1


def test_a_malformed_date_is_a_usage_error(users: Any, capsys: Any) -> None:
    assert main(["agenda", "remind", "--date", "2027-02-30"]) == 2
    assert "not a date" in capsys.readouterr().err


def test_today_prints_a_users_day(task: Any, capsys: Any) -> None:
    task(title="Call Ferretería Ruiz")
    assert main(["agenda", "today", "--user", "rep_ana"]) == 0
    assert "Call Ferretería Ruiz" in capsys.readouterr().out


def test_digest_without_e_mail_addresses_sends_nothing(users: Any, capsys: Any) -> None:
    assert main(["agenda", "digest"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["sent"] == 0
