"""Fetching user-supplied URLs never reaches loopback, private, link-local or metadata addresses."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from rapport.core import safe_fetch
from rapport.core.safe_fetch import UnsafeURL, check_url, fetch


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/", "http://localhost/", "http://LOCALHOST./x", "http://[::1]/", "http://0.0.0.0/",
        "http://10.1.2.3/", "http://172.16.0.1/", "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/", "http://[::ffff:127.0.0.1]/", "http://100.100.100.200/", "http://2130706433/",
        "http://0x7f000001/", "http://metadata.google.internal/", "http://printer.internal/", "http://224.0.0.1/",
        "file:///etc/passwd", "gopher://example.com/", "ftp://example.com/", "javascript:alert(1)", "//example.com/",
        "http://user:pass@example.com/", "http://example.com:22/", "http:///nohost", "",
    ],
)
def test_unsafe_urls_are_refused_before_any_connection(url: str) -> None:
    with pytest.raises(UnsafeURL):
        check_url(url)


def test_a_public_address_passes_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safe_fetch, "_resolve", lambda host, port: ["93.184.215.14"])
    target = check_url("https://example.com/favicon.ico?x=1")
    assert (target.host, target.port, target.path, target.address) == ("example.com", 443, "/favicon.ico?x=1", "93.184.215.14")


def test_a_name_with_any_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safe_fetch, "_resolve", lambda host, port: ["93.184.215.14", "10.0.0.5"])
    with pytest.raises(UnsafeURL):
        check_url("https://rebinding.example/")


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        if self.path == "/to-metadata":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
        elif self.path == "/to-file":
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.end_headers()
        elif self.path == "/hop":
            self.send_response(302)
            self.send_header("Location", "/icon")
            self.end_headers()
        else:
            self.send_response(200)
            self.send_header("Content-Type", "image/x-icon")
            self.end_headers()
            self.wfile.write(b"ICON")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def public_test_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A local server that the checks treat as public, so redirects can be tested end to end."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    real = safe_fetch._address_allowed
    monkeypatch.setattr(safe_fetch, "_address_allowed", lambda a: a == "127.0.0.1" or real(a))
    monkeypatch.setattr(safe_fetch, "BLOCKED_NAMES", set())
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def test_redirects_are_followed_only_to_safe_targets(public_test_server: str) -> None:
    port = int(public_test_server.rsplit(":", 1)[1])
    result = fetch(public_test_server + "/hop", allowed_ports=(port,))
    assert (result.status, result.body, result.url) == (200, b"ICON", public_test_server + "/icon")
    with pytest.raises(UnsafeURL):
        fetch(public_test_server + "/to-metadata", allowed_ports=(port, 80))
    with pytest.raises(UnsafeURL):
        fetch(public_test_server + "/to-file", allowed_ports=(port,))


def test_oversized_answers_are_refused(public_test_server: str) -> None:
    port = int(public_test_server.rsplit(":", 1)[1])
    with pytest.raises(UnsafeURL):
        fetch(public_test_server + "/icon", max_bytes=2, allowed_ports=(port,))
