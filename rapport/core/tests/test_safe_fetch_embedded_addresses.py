"""IPv6 addresses that stand for a private IPv4 address, and port 0, are refused like the address itself."""

from __future__ import annotations

import pytest

from rapport.core import safe_fetch
from rapport.core.safe_fetch import UnsafeURL, check_url


@pytest.mark.parametrize(
    "url",
    [
        "http://[2002:a9fe:a9fe::]/",  # 6to4 of 169.254.169.254, the cloud metadata service
        "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
        "http://[2002:0a00:0001::1]/",  # 6to4 of 10.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
        "http://[::7f00:1]/",  # IPv4-compatible 127.0.0.1
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo, client 127.0.0.1
        "http://example.com:0/",
        "https://example.com:0/",
    ],
)
def test_addresses_embedding_a_private_ipv4_and_port_zero_are_refused(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safe_fetch, "_resolve", lambda host, port: ["93.184.215.14"] if "example" in host else [host.strip("[]")])
    with pytest.raises(UnsafeURL):
        check_url(url)


def test_a_name_resolving_to_a_6to4_form_of_a_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safe_fetch, "_resolve", lambda host, port: ["2002:c0a8:101::"])  # 192.168.1.1
    with pytest.raises(UnsafeURL, match="not public"):
        check_url("https://innocent.example/")


def test_public_ipv6_and_a_6to4_form_of_a_public_address_still_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    for address in ("2606:2800:220:1:248:1893:25c8:1946", "2002:5db8:d70e::1", "::ffff:93.184.215.14"):
        monkeypatch.setattr(safe_fetch, "_resolve", lambda host, port, a=address: [a])
        assert check_url("https://example.com/").address == address
