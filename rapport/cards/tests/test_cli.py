"""The ``rapport`` command line: each subcommand calls its service; user errors exit 2 without a traceback."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rapport.accounts.models import ApiToken, User
from rapport.accounts.services import create_user, user_for_token
from rapport import cli
from rapport.cli import main


def run(capsys: Any, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_user_create_makes_a_rep_in_a_team_with_the_password_from_stdin(db: Any, capsys: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("Correct-Horse-42\n"))
    code, out, _ = run(capsys, "user", "create", "ana", "--role", "rep", "--team", "Norte", "--password-stdin")
    assert code == 0 and "ana" in out
    ana = User.objects.get(username="ana")
    assert ana.role == "rep" and ana.check_password("Correct-Horse-42")
    assert list(ana.teams.values_list("name", flat=True)) == ["Norte"]


def test_user_create_without_a_password_leaves_it_unusable(db: Any, capsys: Any) -> None:
    code, _, _ = run(capsys, "user", "create", "mei", "--role", "manager", "--manages", "Norte", "华东")
    assert code == 0
    mei = User.objects.get(username="mei")
    assert not mei.has_usable_password()
    assert sorted(mei.managed_teams.values_list("name", flat=True)) == ["Norte", "华东"]


def test_user_create_refuses_a_weak_password_with_a_clear_message(db: Any, capsys: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("123\n"))
    code, _, err = run(capsys, "user", "create", "ana", "--role", "rep", "--password-stdin")
    assert code == 2 and "password" in err and "Traceback" not in err
    assert not User.objects.filter(username="ana").exists()


def test_user_create_refuses_an_existing_username(db: Any, capsys: Any) -> None:
    create_user(username="ana", role="rep")
    code, _, err = run(capsys, "user", "create", "ana", "--role", "rep")
    assert code == 2
    assert "already exists" in err and "Traceback" not in err


def test_an_unknown_role_is_a_usage_error(db: Any, capsys: Any) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["user", "create", "ana", "--role", "boss"])
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_user_grant_sensitive_gives_the_special_category_clearance(db: Any, capsys: Any) -> None:
    create_user(username="ana", role="rep")
    code, out, _ = run(capsys, "user", "grant", "ana", "sensitive")
    assert code == 0 and "special-category" in out
    assert User.objects.get(username="ana").can_see_special
    run(capsys, "user", "revoke", "ana", "sensitive")
    assert not User.objects.get(username="ana").can_see_special


def test_granting_to_an_unknown_user_says_so_and_exits_2(db: Any, capsys: Any) -> None:
    code, out, err = run(capsys, "user", "grant", "nobody", "sensitive")
    assert code == 2 and out == ""
    assert err.strip() == "rapport user grant: user not found"


def test_token_create_prints_only_a_working_token(db: Any, capsys: Any) -> None:
    ana = create_user(username="ana", role="rep")
    code, out, _ = run(capsys, "token", "create", "ana", "--name", "laptop", "--days", "30")
    assert code == 0
    token = out.strip()
    assert out.count("\n") == 1 and token.startswith("rp_")
    assert user_for_token(token) == ana
    saved = ApiToken.objects.get(user=ana)
    assert saved.name == "laptop" and saved.expires_at is not None


def test_token_create_refuses_a_non_positive_lifetime(db: Any, capsys: Any) -> None:
    create_user(username="ana", role="rep")
    code, out, err = run(capsys, "token", "create", "ana", "--days", "0")
    assert code == 2 and out == "" and "--days" in err


def test_catalog_load_prints_the_counts(db: Any, capsys: Any) -> None:
    code, out, _ = run(capsys, "catalog", "load")
    assert code == 0
    assert "items" in out and "sources" in out


def test_catalog_load_of_a_missing_or_malformed_file_exits_2(db: Any, capsys: Any, tmp_path: Path) -> None:
    code, _, err = run(capsys, "catalog", "load", "--items", str(tmp_path / "nope.yaml"))
    assert code == 2 and "No such file" in err
    bad = tmp_path / "items.yaml"
    bad.write_text("items:\n  - {type: text}\n", encoding="utf-8")
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources: []\n", encoding="utf-8")
    code, _, err = run(capsys, "catalog", "load", "--items", str(bad), "--sources", str(sources))
    assert code == 2 and "Traceback" not in err
    broken = tmp_path / "broken.yaml"
    broken.write_text("items: [\n", encoding="utf-8")
    code, _, err = run(capsys, "catalog", "load", "--items", str(broken), "--sources", str(sources))
    assert code == 2 and "Traceback" not in err


def test_migrate_says_the_database_is_up_to_date(db: Any, capsys: Any) -> None:
    code, out, _ = run(capsys, "migrate")
    assert code == 0 and "up to date" in out


def test_serve_migrates_then_serves_with_gunicorn(db: Any, capsys: Any, monkeypatch: Any) -> None:
    from rapport.core import serving

    ran: dict[str, Any] = {}
    monkeypatch.setattr(serving.RapportServer, "run", lambda self: ran.update(app=self.application, options=self.options))
    started: list[str] = []
    stopped: list[str] = []

    def start() -> str:
        started.append("worker")
        return "worker"

    monkeypatch.setattr(cli, "start_queue_worker", start)
    monkeypatch.setattr(cli, "stop_queue_worker", stopped.append)
    code, out, _ = run(capsys, "serve", "--host", "0.0.0.0", "--port", "8123")
    assert code == 0
    assert "http://0.0.0.0:8123/" in out
    assert ran["options"]["bind"] == ["0.0.0.0:8123"]
    assert callable(ran["app"])
    assert started == ["worker"] and stopped == ["worker"]  # the queue worker runs beside the server and stops with it
    started.clear()
    monkeypatch.setattr(cli, "_migrate", lambda: None)  # the first run closed this test's connection before "forking"
    code, out, err = run(capsys, "serve", "--no-worker", "--port", "8123")
    assert code == 0, err
    assert started == []


def test_demo_creates_data_once_and_prints_the_sign_ins(db: Any, capsys: Any) -> None:
    code, out, _ = run(capsys, "demo", "--organizations", "5", "--people", "12", "--seed", "3")
    assert code == 0
    assert "Created 5 organisations, 12 people" in out
    assert "rapport-demo" in out and "admin" in out and "http://127.0.0.1:8000/" in out
    code, out, _ = run(capsys, "demo")
    assert code == 0 and "already there" in out and "rapport-demo" in out


def test_a_command_is_required(capsys: Any) -> None:
    assert main([]) == 2
    assert "usage" in capsys.readouterr().err


def test_the_console_script_reports_errors_on_stderr_without_a_traceback(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("rapport")
    if not script.exists():
        pytest.skip("the rapport console script is not installed (pip install -e .)")
    env = {**os.environ, "RAPPORT_HOME": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    env.pop("RAPPORT_SQLITE_PATH", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run([str(script), "migrate"], env=env, check=True, capture_output=True, timeout=300)
    result = subprocess.run([str(script), "token", "create", "nobody"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == "rapport token create: user not found"
