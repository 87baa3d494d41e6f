"""Behind a TLS-terminating proxy: its X-Forwarded-Proto is believed, anyone else's is not."""

from __future__ import annotations

import http.client
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections


@pytest.fixture
def server(settings: Any) -> Iterator[int]:
    """``rapport serve``'s waitress, in production's security settings, trusting 127.0.0.1 only."""
    import waitress
    from django.core.handlers.wsgi import WSGIHandler

    from rapport.core.http import behind_proxies

    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    from waitress import wasyncore

    handler = WSGIHandler()  # a fresh one: its middleware reads the settings above

    def application(environ: dict[str, Any], start_response: Any) -> Any:
        try:
            return handler(environ, start_response)
        finally:
            connections.close_all()  # the server's threads keep no connection to the test database

    served = waitress.create_server(behind_proxies(application, ["127.0.0.1"]), host="127.0.0.1", port=0, threads=2,
                                    clear_untrusted_proxy_headers=False)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            wasyncore.loop(timeout=0.05, map=served._map, count=1)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield int(served.effective_port)
    stop.set()
    thread.join(timeout=2)
    served.close()
    served.task_dispatcher.shutdown()


def _get(port: int, *, source: str, proto: str | None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5, source_address=(source, 0))
    headers = {"Host": "localhost"}
    if proto:
        headers["X-Forwarded-Proto"] = proto
    conn.request("GET", "/static/rapport-probe-missing.txt", headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def test_a_request_through_the_trusted_proxy_is_secure_and_gets_hsts(server: int) -> None:
    answer = _get(server, source="127.0.0.1", proto="https")
    assert answer.status != 301  # no redirect loop: the proxy already speaks https to the browser
    assert answer.getheader("Strict-Transport-Security", "").startswith("max-age=3600")


def test_plain_http_through_the_proxy_is_redirected_to_https(server: int) -> None:
    answer = _get(server, source="127.0.0.1", proto="http")
    assert answer.status == 301 and answer.getheader("Location", "").startswith("https://")
    assert answer.getheader("Strict-Transport-Security") is None


def test_a_forwarded_proto_from_any_other_address_is_ignored(server: int) -> None:
    answer = _get(server, source="127.0.0.2", proto="https")  # a client posing as the proxy
    assert answer.status == 301 and answer.getheader("Location", "").startswith("https://")
    assert answer.getheader("Strict-Transport-Security") is None


def test_a_trusted_proxy_setting_that_is_not_an_address_is_refused_clearly() -> None:
    from rapport.core.http import behind_proxies

    for bad in ("proxy.example.com", "10.0.0.0/33", ""):
        with pytest.raises(ValueError, match="RAPPORT_TRUSTED_PROXIES"):
            behind_proxies(lambda environ, start: [], [bad])


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Any) -> None:
    import os

    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='rapport.settings'; django.setup()"
    env = {k: v for k, v in os.environ.items() if k != "RAPPORT_SECRET_KEY"}
    env.update(RAPPORT_ENV="production", RAPPORT_HOME=str(tmp_path))
    for key in (None, "too-short"):
        if key:
            env["RAPPORT_SECRET_KEY"] = key
        run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert run.returncode != 0
        assert "RAPPORT_SECRET_KEY" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "secret_key").exists()
