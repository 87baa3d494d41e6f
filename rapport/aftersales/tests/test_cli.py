"""``rapport aftersales schedule`` and ``rapport aftersales due``."""

from __future__ import annotations

from typing import Any

from rapport.aftersales import services
from rapport.aftersales.models import SatisfactionCheck
from rapport.aftersales.tests.factories import DELIVERED, order
from rapport.cli import main


def test_schedule_creates_the_missing_checks_once(make_org: Any, users: dict[str, Any], capsys: Any) -> None:
    order(make_org())
    assert main(["aftersales", "schedule", "--today", "2026-03-02"]) == 0
    assert main(["aftersales", "schedule", "--today", "2026-03-02"]) == 0
    out = capsys.readouterr().out
    assert "1 satisfaction checks scheduled (14 days after delivery)" in out and "0 satisfaction checks scheduled" in out
    assert SatisfactionCheck.objects.count() == 1


def test_due_prints_the_due_checks_and_open_cases_the_user_sees(make_org: Any, users: dict[str, Any], capsys: Any) -> None:
    card = make_org(name="Ferretería [Norte]")
    order(card, number="ERP-42")
    order(card)
    services.schedule_satisfaction_checks(today=DELIVERED)
    services.open_case(user=users["rep_ana"], card=card, data={"subject": "Tornillos de menos", "due_on": "2026-03-01"})
    assert main(["aftersales", "due", "--user", "rep_ana", "--today", "2026-12-01"]) == 0
    out = capsys.readouterr().out
    assert "Satisfaction checks due (2)" in out and "ERP-42" in out and "Ferretería [Norte]" in out
    assert "Open cases (1)" in out and "Tornillos" in out and "(overdue)" in out
    assert main(["aftersales", "due", "--user", "rep_bo_other_team", "--today", "2026-12-01"]) == 0
    other = capsys.readouterr().out
    assert "Satisfaction checks due (0)" in other and "Open cases (0)" in other


def test_bad_arguments_exit_2_with_one_clear_line(users: dict[str, Any], capsys: Any) -> None:
    assert main(["aftersales", "schedule", "--today", "tomorrow"]) == 2
    assert main(["aftersales", "due", "--user", "nobody"]) == 2
    assert main(["aftersales", "due", "--user", "rep_ana", "--team", "South"]) == 2
    err = capsys.readouterr().err
    assert "--today takes a date" in err and "No active user 'nobody'" in err and "No team 'South'" in err
