"""``rapport user list`` and ``rapport user set-password``."""

from __future__ import annotations

import io
import sys
from typing import Any

from rapport.accounts.models import User
from rapport.audit.models import Action, AuditEntry
from rapport.cli import main


def run(capsys: Any, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_user_list_shows_each_user_with_role_and_teams(users: dict[str, Any], capsys: Any) -> None:
    code, out, _ = run(capsys, "user", "list")
    assert code == 0
    for name in ("rep_ana", "rep_bo_other_team", "manager_mei", "admin", "analyst_al"):
        assert name in out
    line = next(line for line in out.splitlines() if "manager_mei" in line)
    assert "manager" in line and "North" in line


def test_user_list_leaves_out_deactivated_users_unless_asked(users: dict[str, Any], capsys: Any) -> None:
    User.objects.filter(username="rep_ben").update(is_active=False)
    assert "rep_ben" not in run(capsys, "user", "list")[1]
    assert "rep_ben" in run(capsys, "user", "list", "--all")[1]


def test_user_list_on_an_empty_database_says_how_to_create_the_first_user(db: Any, capsys: Any) -> None:
    code, out, _ = run(capsys, "user", "list")
    assert code == 0 and "rapport user create" in out


def test_set_password_from_stdin_changes_it_and_audits_the_change(users: dict[str, Any], capsys: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("Correct-Horse-42\n"))
    code, out, _ = run(capsys, "user", "set-password", "rep_ana", "--password-stdin")
    assert code == 0 and "rep_ana" in out
    assert User.objects.get(username="rep_ana").check_password("Correct-Horse-42")
    assert AuditEntry.objects.filter(action=Action.PERMISSION, field="password", record_id=str(users["rep_ana"].pk)).exists()


def test_set_password_refuses_a_weak_or_empty_password_and_keeps_the_old_one(users: dict[str, Any], capsys: Any, monkeypatch: Any) -> None:
    for given in ("123\n", "\n", ""):
        monkeypatch.setattr(sys, "stdin", io.StringIO(given))
        code, _, err = run(capsys, "user", "set-password", "rep_ana", "--password-stdin")
        assert code == 2 and "Traceback" not in err and err.count("\n") == 1
    assert User.objects.get(username="rep_ana").check_password("x")


def test_set_password_of_an_unknown_user_says_so(db: Any, capsys: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("Correct-Horse-42\n"))
    code, _, err = run(capsys, "user", "set-password", "nobody", "--password-stdin")
    assert code == 2 and err.strip() == "rapport user set-password: user not found"


def test_set_password_without_a_terminal_or_stdin_flag_explains_what_to_give(users: dict[str, Any], capsys: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, _, err = run(capsys, "user", "set-password", "rep_ana")
    assert code == 2 and "--password-stdin" in err


def test_user_list_shows_team_names_literally_even_with_brackets(db: Any, capsys: Any, monkeypatch: Any) -> None:
    from rapport import cli
    from rapport.accounts.services import create_user

    monkeypatch.setattr(cli.out, "width", 200)  # a wide terminal: no cell is wrapped
    create_user(username="ana", role="rep", teams=["[bold]Norte[/bold]"])
    code, out, _ = run(capsys, "user", "list")
    assert code == 0 and "[bold]Norte[/bold]" in out
