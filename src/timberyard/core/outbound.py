"""Where the node may connect on a user's word: the server-side request forgery policy.

An alert channel's URL or SMTP host and an archive destination's endpoint are typed by an
account's user, and the node's network position is an administrator's: a webhook to
169.254.169.254 or an "S3 endpoint" that is an internal admin page must not become a way in.
So by default no loopback, link-local, private, multicast, unspecified or reserved address is
reachable; `alerts_outbound_allow` (CIDRs and host names) opens exactly what the administrator
lists. The host is resolved once and every address it resolves to is checked. Alert deliveries
then connect to the checked address (the name is kept for TLS and the Host header), so a DNS
answer that changes between check and connect changes nothing; redirects are not followed.
Archive destinations are checked on save and each time they are opened, and their SDKs
connect by name.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from timberyard.core.errors import BadRequest

TIMEOUT_S = 10
MAX_RESPONSE_BYTES = 64 * 1024

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class OutboundRefused(BadRequest):
    """The destination is not one this node may reach; raised on save and at delivery."""

    code = "OutboundRefused"


@dataclass(frozen=True)
class OutboundPolicy:
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    hosts: frozenset[str] = frozenset()
    tls: ssl.SSLContext | None = None  # what certificates are verified against; None is the system's

    def tls_context(self) -> ssl.SSLContext:
        return self.tls or ssl.create_default_context()

    @classmethod
    def parse(cls, allow: str) -> OutboundPolicy:
        """From the setting's text: comma-separated CIDRs, addresses and host names."""
        networks, hosts = [], set()
        for item in (part.strip() for part in allow.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                hosts.add(item.lower().rstrip("."))
        return cls(tuple(networks), frozenset(hosts))

    def allows(self, host: str, address: Address) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
        if host.lower().rstrip(".") in self.hosts or any(address in network for network in self.networks):
            return True
        return address.is_global and not (address.is_multicast or address.is_reserved or address.is_unspecified)

    def resolve(self, host: str, port: int, field: str = "url") -> Address:
        """The address to connect to: the first of the host's addresses, once all are allowed."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise OutboundRefused(f"cannot resolve {host}: {exc}", field=field) from None
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
        refused = [a for a in addresses if not self.allows(host, a)]
        if refused:
            raise OutboundRefused(
                f"{host} resolves to {refused[0]}, a loopback, private, link-local or reserved address this node "
                "does not connect to for users; an administrator can allow it with alerts_outbound_allow",
                field=field,
            )
        return addresses[0]


@dataclass(frozen=True)
class Response:
    status: int
    body: str


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query
    address: Address  # what the host resolved to and the policy allowed: connect here


def check_url(url: str, policy: OutboundPolicy, field: str = "url") -> Target:
    """Where an http(s) URL leads, once the policy allows every address of its host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest(f"{field} must be an http:// or https:// URL with a host, got {url[:200]!r}", field=field)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise BadRequest(f"{field} has an invalid port: {url[:200]!r}", field=field) from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, path, policy.resolve(parts.hostname, port, field))


def request(policy: OutboundPolicy, method: str, url: str, body: bytes, headers: dict[str, str]) -> Response:
    """Send one request to the checked address; the answer is read (capped), never followed."""
    target = check_url(url, policy)
    if target.scheme == "https":
        connection: http.client.HTTPConnection = _PinnedHTTPS(target.host, str(target.address), target.port, policy.tls_context())
    else:
        connection = _PinnedHTTP(target.host, str(target.address), target.port)
    try:
        connection.request(method, target.path, body=body, headers=headers)
        answer = connection.getresponse()
        return Response(answer.status, answer.read(MAX_RESPONSE_BYTES).decode("utf-8", "replace"))
    finally:
        connection.close()


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to `address` while the Host header names `host`."""

    def __init__(self, host: str, address: str, port: int) -> None:
        super().__init__(host, port, timeout=TIMEOUT_S)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """Connects to `address` and verifies the certificate against `host`."""

    def __init__(self, host: str, address: str, port: int, context: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=TIMEOUT_S, context=context)
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]
