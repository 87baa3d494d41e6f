"""Fetching a URL a user typed (a website's favicon, an avatar) without reaching inside our network.

Server-side request forgery is refused at every hop: only http and https, only ports 80 and
443 (or ``allowed_ports``), and only hosts whose *every* resolved address is public — no
loopback, private, link-local (cloud metadata lives at 169.254.169.254), multicast, reserved
or unspecified address. The connection goes to the address that was checked (the Host header
and TLS name stay the host's), so a DNS answer that changes between check and connect cannot
smuggle a private address in. Redirects are followed by hand, each target checked the same way.

    from rapport.core.safe_fetch import UnsafeURL, fetch
    try:
        result = fetch(card.website + "/favicon.ico", max_bytes=200_000)
    except UnsafeURL:
        ...
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
BLOCKED_NAMES = {"localhost", "metadata", "metadata.google.internal", "instance-data", "instance-data.ec2.internal"}
# AWS IPv6 metadata; link-local and private ranges are refused by the address checks.
BLOCKED_NETWORKS = [ipaddress.ip_network("fd00:ec2::254/128"), ipaddress.ip_network("100.64.0.0/10")]


class UnsafeURL(ValueError):
    """The URL (or a redirect it led to) points where Rapport must not fetch from."""


@dataclass(frozen=True)
class FetchResult:
    url: str  # the final URL, after redirects
    status: int
    content_type: str
    body: bytes


# IPv6 forms that carry an IPv4 address a router may reach for them: NAT64 (RFC 6052, 8215)
# and the deprecated IPv4-compatible ::a.b.c.d. 6to4 (2002::/16) and Teredo have their own
# accessors on IPv6Address.
_EMBEDDING_NETWORKS = [ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"), ipaddress.ip_network("::/96")]


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address stands for (``[2002:7f00:1::]`` is 127.0.0.1 over 6to4)."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)  # (server, client)
    if any(ip in net for net in _EMBEDDING_NETWORKS):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def _address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded:
            # Every address it stands for must be public; the IPv6 form itself is then judged too
            # (2002::/16 and 64:ff9b::/96 count as global to Python).
            if not all(_address_allowed(str(v4)) for v4 in embedded):
                return False
            if ip.ipv4_mapped is not None:
                return True
    if any(ip in net for net in BLOCKED_NETWORKS if net.version == ip.version):
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeURL(f"Cannot resolve {host!r}.") from None
    return sorted({str(info[4][0]) for info in infos})


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


def check_url(url: str, *, allowed_ports: tuple[int, ...] = (80, 443)) -> _Target:
    """Parses, resolves and checks a URL; raises UnsafeURL naming the reason."""
    if not isinstance(url, str) or len(url) > 2000:
        raise UnsafeURL("Expected a URL of at most 2000 characters.")
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise UnsafeURL(f"Only http and https URLs are fetched, not {scheme or 'none'!r}.")
    if parts.username or parts.password:
        raise UnsafeURL("URLs with credentials are not fetched.")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UnsafeURL("The URL has no host.")
    if host in BLOCKED_NAMES or host.endswith(".localhost") or host.endswith(".internal"):
        raise UnsafeURL(f"{host!r} is an internal name.")
    try:
        # ``or`` would read an explicit port 0 as "no port" and fetch from 80.
        port = parts.port if parts.port is not None else DEFAULT_PORTS[scheme]
    except ValueError:
        raise UnsafeURL("The port is not a number.") from None
    if port not in allowed_ports:
        raise UnsafeURL(f"Port {port} is not fetched.")
    addresses = _resolve(host, port)
    if not addresses or not all(_address_allowed(a) for a in addresses):
        raise UnsafeURL(f"{host!r} resolves to an address that is not public.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return _Target(scheme, host, port, path, addresses[0])


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to a checked address while verifying the certificate of the host name."""

    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def fetch(
    url: str, *, max_bytes: int = 1_000_000, timeout: float = 5.0, max_redirects: int = 3,
    allowed_ports: tuple[int, ...] = (80, 443),
) -> FetchResult:
    """GETs a URL that passed ``check_url``, following at most ``max_redirects`` checked redirects."""
    current = url
    for _hop in range(max_redirects + 1):
        target = check_url(current, allowed_ports=allowed_ports)
        cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
        conn = cls(target.host, target.address, target.port, timeout)
        try:
            conn.request("GET", target.path, headers={"User-Agent": "Rapport/1", "Accept": "*/*"})
            response = conn.getresponse()
            if response.status in (301, 302, 303, 307, 308):
                location = response.getheader("Location")
                if not location:
                    raise UnsafeURL("A redirect without a Location.")
                current = urljoin(current, location)
                continue
            body = response.read(max_bytes + 1)
            if len(body) > max_bytes:
                raise UnsafeURL(f"The answer is larger than {max_bytes} bytes.")
            return FetchResult(current, response.status, response.getheader("Content-Type", ""), body)
        except (OSError, http.client.HTTPException) as exc:
            raise UnsafeURL(f"Fetching failed: {exc.__class__.__name__}.") from None
        finally:
            conn.close()
    raise UnsafeURL("Too many redirects.")
