"""Every ``rapport`` command prepares the database it needs on a fresh RAPPORT_HOME, or says in
one line what to run; none ends in a traceback."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rapport import cli

SCRIPT = Path(sys.executable).with_name("rapport")


def _fresh_home_env(home: Path) -> dict[str, str]:
    env = {**os.environ, "RAPPORT_HOME": str(home)}
    for name in ("DATABASE_URL", "RAPPORT_SQLITE_PATH", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    return env


def _rapport(home: Path, *argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    if not SCRIPT.exists():
        pytest.skip("the rapport console script is not installed (pip install -e .)")
    return subprocess.run(
        [str(SCRIPT), *argv], env=_fresh_home_env(home), input=stdin, capture_output=True, text=True, timeout=600, check=False
    )


def test_the_readme_order_for_a_team_works_on_a_fresh_home(tmp_path: Path) -> None:
    created = _rapport(tmp_path, "user", "create", "ana", "--role", "rep", "--team", "Norte", "--password-stdin",
                       stdin="Correct-Horse-42\n")
    assert created.returncode == 0, created.stderr
    assert "Traceback" not in created.stderr and "no such table" not in created.stderr
    assert "Preparing a new database" in created.stderr
    assert created.stdout.strip() == "Created user ana (rep)."

    manager = _rapport(tmp_path, "user", "create", "mei", "--role", "manager", "--manages", "Norte", "--password-stdin",
                       stdin="Other-Horse-43\n")
    assert manager.returncode == 0 and manager.stderr == ""  # prepared once, not again

    token = _rapport(tmp_path, "token", "create", "ana")
    assert token.returncode == 0 and token.stdout.startswith("rp_") and len(token.stdout.split()) == 1

    listed = _rapport(tmp_path, "user", "list")
    assert listed.returncode == 0 and "ana" in listed.stdout and "mei" in listed.stdout


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("export", "--kind", "people", "--format", "csv", "--output", "OUT"), "--user"),
        (("dedup", "--kind", "people"), "--user"),
        (("segments", "refresh"), "Refreshed 0 cards"),
    ],
    ids=["export", "dedup", "segments-refresh"],
)
def test_export_dedup_and_segments_refresh_prepare_a_fresh_home(tmp_path: Path, argv: tuple[str, ...], expected: str) -> None:
    argv = tuple(str(tmp_path / "people.csv") if a == "OUT" else a for a in argv)
    result = _rapport(tmp_path, *argv)
    both = result.stdout + result.stderr
    assert "Traceback" not in both and "no such table" not in both
    assert "Preparing a new database" in result.stderr
    assert expected in both
    # What remains is one line of advice at most, not a page of errors.
    assert len([line for line in result.stderr.splitlines() if line.strip()]) <= 2


def _leaf_commands(parser: argparse.ArgumentParser) -> list[tuple[list[str], argparse.ArgumentParser]]:
    """Every runnable subcommand with the words that reach it."""
    found: list[tuple[list[str], argparse.ArgumentParser]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                if sub.get_default("func") is not None:
                    found.append(([name], sub))
                for words, leaf in _leaf_commands(sub):
                    found.append(([name, *words], leaf))
    return found


def _minimal_argv(words: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """The command with a harmless value for each required argument ("1" parses as any number)."""
    argv = list(words)
    chosen = [group._group_actions[0] for group in parser._mutually_exclusive_groups if group.required]
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        value = str(action.choices[0] if isinstance(action.choices, list) else next(iter(action.choices))) if action.choices else "1"
        if not action.option_strings:
            if action.nargs in (None, 1, "+"):
                argv.append(value)
        elif action.required or action in chosen:
            argv += [action.option_strings[0], value]
    return argv


COMMANDS = _leaf_commands(cli.build_parser())


def test_every_command_is_found_by_the_walk() -> None:
    names = {" ".join(words) for words, _ in COMMANDS}
    assert {"user create", "user list", "user set-password", "token create", "export", "dedup", "segments refresh",
            "serve", "demo", "migrate"} <= names


@pytest.mark.parametrize(("words", "parser"), COMMANDS, ids=[" ".join(w) for w, _ in COMMANDS])
def test_every_command_prepares_the_database_before_it_runs(
    words: list[str], parser: argparse.ArgumentParser, monkeypatch: Any, capsys: Any
) -> None:
    func = parser.get_default("func")
    calls: list[str] = []

    def prepared() -> None:
        calls.append("prepare")
        raise cli.UsageError("stopped after preparing")

    def migrated() -> None:
        calls.append("migrate")
        raise cli.UsageError("stopped after migrating")

    monkeypatch.setattr(cli, "_prepare_database", prepared)
    monkeypatch.setattr(cli, "_migrate", migrated)
    code = cli.main(_minimal_argv(words, parser))
    assert code == 2
    # Either main() prepared the database first, or the command migrates as its first step.
    assert calls[:1] == (["migrate"] if func in cli._PREPARES_ITS_OWN_DATABASE else ["prepare"]), capsys.readouterr().err


def test_a_database_that_cannot_be_prepared_is_reported_in_one_line_with_what_to_run(monkeypatch: Any, capsys: Any) -> None:
    from django.db import OperationalError

    def broken() -> None:
        raise OperationalError('connection to server at "db" (10.0.0.9), port 5432 failed: Connection refused\n\tIs the server running?')

    monkeypatch.setattr(cli, "_prepare_database", broken)
    assert cli.main(["user", "list"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("rapport user list: the database is not ready (connection to server")
    assert err.endswith("run: rapport migrate")
