"""``rapport serve``: gunicorn worker processes, configured from the command line."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from rapport import cli


@pytest.fixture(autouse=True)
def _collect_as_usual_afterwards() -> Any:
    # ``rapport serve`` moves every object it made out of the garbage collector's reach before
    # its workers fork; the test process gets them back.
    import gc

    yield
    gc.unfreeze()


def options(*argv: str) -> dict[str, Any]:
    args = cli.build_parser().parse_args(["serve", *argv])
    return cli.gunicorn_options(args)


def test_the_default_is_two_workers_per_core_of_two_threads_and_at_least_two_workers(monkeypatch: Any) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert options()["workers"] == 2
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert options()["workers"] == 12
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert options()["workers"] == 2
    assert options()["threads"] == 2 and options()["worker_class"] == "gthread"


def test_each_worker_listens_on_its_own_socket_so_the_kernel_spreads_connections() -> None:
    assert options()["reuse_port"] is True


def test_workers_threads_and_address_come_from_the_command_line() -> None:
    chosen = options("--host", "0.0.0.0", "--port", "8123", "--workers", "3", "--threads", "2")
    assert chosen["bind"] == ["0.0.0.0:8123"]
    assert chosen["workers"] == 3 and chosen["threads"] == 2 and chosen["worker_class"] == "gthread"
    assert options("--host", "::1")["bind"] == ["[::1]:8000"]


def test_one_thread_per_worker_uses_plain_sync_workers() -> None:
    assert options("--threads", "1")["worker_class"] == "sync"


def test_the_app_is_loaded_once_before_the_workers_fork_and_workers_are_recycled() -> None:
    chosen = options("--max-requests", "500")
    assert chosen["preload_app"] is True
    assert chosen["max_requests"] == 500 and 0 < chosen["max_requests_jitter"] <= 50


def test_gunicorn_believes_no_proxy_headers_itself_and_writes_no_access_log() -> None:
    # rapport.core.http.behind_proxies decides from RAPPORT_TRUSTED_PROXIES; gunicorn's own
    # default would trust 127.0.0.1 for X-Forwarded-Proto whatever the setting says.
    chosen = options()
    assert chosen["forwarded_allow_ips"] == "" and chosen["secure_scheme_headers"] == {}
    assert chosen["accesslog"] is None


def test_gunicorn_accepts_every_option_we_give_it() -> None:
    from rapport.core.serving import RapportServer

    server = RapportServer(lambda environ, start: [], options("--workers", "3", "--threads", "2"))
    assert server.cfg.workers == 3 and server.cfg.threads == 2 and server.cfg.forwarded_allow_ips == []
    assert server.cfg.worker_class_str == "gthread" and server.cfg.preload_app is True


def test_serve_migrates_then_runs_gunicorn_with_the_proxy_aware_app(db: Any, capsys: Any, monkeypatch: Any) -> None:
    from rapport.core import serving

    ran: dict[str, Any] = {}
    monkeypatch.setattr(serving.RapportServer, "run", lambda self: ran.update(app=self.application, options=self.options))
    migrated: list[bool] = []
    monkeypatch.setattr(cli, "_migrate", lambda: migrated.append(True))
    assert cli.main(["serve", "--no-worker", "--port", "8124", "--workers", "2"]) == 0
    assert migrated == [True]
    assert ran["options"]["workers"] == 2 and ran["options"]["bind"] == ["127.0.0.1:8124"]
    assert callable(ran["app"]) and ran["app"].__name__ == "dispatch"  # behind_proxies' wrapper
    assert "with 2 worker processes" in capsys.readouterr().out


def test_serve_loads_the_url_table_and_each_language_before_the_workers_fork(db: Any, monkeypatch: Any) -> None:
    import gc

    from django.conf import settings
    from django.forms.renderers import get_default_renderer
    from django.urls import clear_url_caches, get_resolver

    from rapport.core import serving

    clear_url_caches()
    get_default_renderer.cache_clear()  # type: ignore[attr-defined]
    monkeypatch.setattr(serving.RapportServer, "run", lambda self: None)
    monkeypatch.setattr(cli, "_migrate", lambda: None)
    assert cli.main(["serve", "--no-worker", "--port", "8126"]) == 0
    resolver = get_resolver()
    assert "url_patterns" in resolver.__dict__  # the URLconf and the API's routers are imported
    assert set(resolver._reverse_dict) >= {code for code, _name in settings.LANGUAGES}
    assert get_default_renderer()._in_jinja2.get("django/forms/widgets/select.html") is True  # type: ignore[attr-defined]
    assert gc.get_freeze_count() > 0


def test_serve_falls_back_to_waitress_where_gunicorn_cannot_run(db: Any, capsys: Any, monkeypatch: Any) -> None:
    import waitress

    served: dict[str, Any] = {}
    monkeypatch.setitem(sys.modules, "rapport.core.serving", None)  # import fails, as on Windows
    monkeypatch.setattr(cli, "_migrate", lambda: None)
    monkeypatch.setattr(waitress, "serve", lambda app, **kwargs: served.update(app=app, **kwargs))
    assert cli.main(["serve", "--no-worker", "--port", "8125"]) == 0
    assert served["port"] == 8125 and served["threads"] == 8 and served["clear_untrusted_proxy_headers"] is False
    assert "waitress" in capsys.readouterr().err


def test_a_worker_count_of_zero_is_refused_clearly(db: Any, capsys: Any) -> None:
    assert cli.main(["serve", "--workers", "0"]) == 2
    assert "--workers" in capsys.readouterr().err
    assert cli.main(["serve", "--max-requests", "-1"]) == 2
    assert "--max-requests" in capsys.readouterr().err


def test_max_requests_zero_never_replaces_a_worker() -> None:
    chosen = options("--max-requests", "0")
    assert chosen["max_requests"] == 0 and chosen["max_requests_jitter"] == 0


def test_the_help_says_when_waitress_serves_instead() -> None:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert "waitress" in sub.choices["serve"].format_help() and "Windows" in sub.choices["serve"].format_help()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.django_db(transaction=True)
def test_rapport_serve_with_two_workers_answers_a_page_and_stops(tmp_path: Path) -> None:
    """The real thing, briefly: two worker processes on a migrated copy of the test database."""
    from django.db import connection

    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "RAPPORT_SQLITE_PATH")}
    env["RAPPORT_HOME"] = str(tmp_path)
    if connection.vendor == "sqlite":
        # The test database is in memory; the server gets a file with the same (migrated) tables.
        connection.ensure_connection()
        target = sqlite3.connect(tmp_path / "rapport.sqlite3")
        connection.connection.backup(target)
        target.close()
        env.pop("DATABASE_URL", None)
    else:
        settings_dict = connection.settings_dict
        env["DATABASE_URL"] = (
            f"postgresql://{settings_dict['USER']}:{settings_dict['PASSWORD'] or ''}@{settings_dict['HOST'] or '127.0.0.1'}:"
            f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
        )
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "rapport.cli", "serve", "--no-worker", "--workers", "2", "--threads", "1", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        status = None
        deadline = time.monotonic() + 60  # under 15 s on an idle machine; CI shares its cores
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2) as answer:
                    status = answer.status
                    break
            except OSError:
                time.sleep(0.2)
        workers = Path(f"/proc/{server.pid}/task/{server.pid}/children")
        assert status == 200, server.stdout.read().decode() if server.poll() is not None and server.stdout else status
        if workers.exists():
            # Each worker opens its own socket (SO_REUSEPORT), so the first one may answer before
            # gunicorn has started the second (it spaces their starts by up to 0.1 s).
            while len(workers.read_text().split()) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert len(workers.read_text().split()) == 2
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert server.returncode == 0
