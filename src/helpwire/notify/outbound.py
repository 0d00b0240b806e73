"""Where notifications may go: public addresses only, unless the deployment allows more.

An admin names a receiver by URL; without a check, a channel pointing at the cloud
metadata service, a database on the private network or helpwire itself would turn *Send
test* into a way to read internal services. So loopback, private, link-local,
unspecified, multicast and reserved addresses are refused, in every spelling (``127.1``,
``2130706433``, ``[::ffff:127.0.0.1]``, NAT64 and 6to4 forms), unless
``HELPWIRE_CHANNEL_ALLOWED_NETWORKS`` names them.

The check that counts is made on the address actually connected to: a name is resolved,
every address it resolves to is checked, and the connection goes to a checked address
(the name still serves as Host header and TLS server name). So a name that resolves to a
public address when the channel is saved and to an internal one later (DNS rebinding) is
still refused. Checks at save time only give an early, clear answer.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

SETTING = "HELPWIRE_CHANNEL_ALLOWED_NETWORKS"
# Prefixes that carry an IPv4 address in their last 32 bits: NAT64 (RFC 6052, RFC 8215)
# and the deprecated IPv4-compatible form.
_EMBEDDING_V4 = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
    ipaddress.IPv6Network("::/96"),
)
# Names that only ever lead inside: RFC 6761 / 6762 / 8375 special-use names, the
# private-use TLD, and the cloud metadata services' names.
_INTERNAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".localdomain")
_INTERNAL_NAMES = frozenset({"localhost", "metadata", "instance-data"})
_CATEGORIES = (
    ("is_loopback", "a loopback address"),
    ("is_unspecified", "the unspecified address"),
    ("is_link_local", "a link-local address"),
    ("is_multicast", "a multicast address"),
    ("is_private", "a private address"),
    ("is_reserved", "a reserved address"),
)


class RefusedTarget(httpcore.ConnectError):
    """The receiver's address is not one notifications may go to. A ConnectError, so that
    httpx reports it like any other failed connection."""


def _normal_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def literal_ip(host: str) -> IPAddress | None:
    """The address a host written as an IP literal means, in any spelling the system
    resolver accepts (``127.1``, ``2130706433``, ``0x7f.0.0.1``); None for a name."""
    host = _normal_host(host)
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefx." for c in host) and host[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _embedded_v4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in net for net in _EMBEDDING_V4) and int(ip) > 1:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _category(ip: IPAddress) -> str | None:
    for attribute, label in _CATEGORIES:
        if getattr(ip, attribute):
            return label
    return None if ip.is_global else "not a public address"


class AddressPolicy:
    """Which receivers are allowed: public addresses, plus the networks and host names of
    the allow-list (``10.0.0.0/8``, ``192.168.1.5``, ``hooks.corp``, ``.corp.example`` for
    a whole domain)."""

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self.networks: list[IPNetwork] = []
        self.hosts: set[str] = set()
        self.domains: list[str] = []
        for raw in allowed:
            entry = raw.strip()
            if not entry:
                continue
            try:
                self.networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            name = _normal_host(entry.removeprefix("*"))
            if name.startswith("."):
                self.domains.append(name)
            else:
                self.hosts.add(name)

    @classmethod
    def from_setting(cls, value: str | None) -> AddressPolicy:
        return _parsed(value or "")

    def host_allowed(self, host: str) -> bool:
        name = _normal_host(host)
        return name in self.hosts or any(name.endswith(d) for d in self.domains)

    def ip_allowed(self, ip: IPAddress) -> bool:
        return any(ip in net for net in self.networks)

    def refusal(self, ip: IPAddress) -> str | None:
        """Why notifications may not go to ``ip``; None when they may."""
        inner = _embedded_v4(ip)
        if self.ip_allowed(ip) or (inner is not None and self.ip_allowed(inner)):
            return None
        if inner is not None and (reason := _category(inner)) is not None:
            return f"{reason} ({inner} inside {ip})"
        return _category(ip)

    def host_refusal(self, host: str) -> str | None:
        """Save-time check of a receiver's host: IP literals and names that only ever lead
        inside. Other names are checked when they are resolved, at each send."""
        if self.host_allowed(host):
            return None
        ip = literal_ip(host)
        if ip is not None:
            reason = self.refusal(ip)
            return None if reason is None else f"{host} is {reason}"
        name = _normal_host(host)
        if name in _INTERNAL_NAMES or name.endswith(_INTERNAL_SUFFIXES) or "." not in name:
            return f"{host} is an internal host name"
        return None

    def url_refusal(self, url: str) -> str | None:
        host = urlsplit(url).hostname
        return None if host is None else self.host_refusal(host)

    async def checked_addresses(self, host: str, port: int) -> list[str]:
        """The addresses of ``host``, each one checked; RefusedTarget if any is refused
        (a name with one internal address among public ones is refused as a whole)."""
        try:
            infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if self.host_allowed(host):
            return addresses
        for address in addresses:
            reason = self.refusal(ipaddress.ip_address(address.split("%")[0]))
            if reason is not None:
                raise RefusedTarget(
                    f"refused: {host} resolves to {address}, {reason}; "
                    f"allow it with {SETTING} if it is an intranet receiver"
                )
        return addresses


@lru_cache(maxsize=8)
def _parsed(value: str) -> AddressPolicy:
    return AddressPolicy(value.split(","))


STRICT = AddressPolicy()


class CheckedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the address check between resolving and
    connecting: it connects to the checked address itself, never to the name again."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        with anyio.fail_after(timeout):
            addresses = await self.policy.checked_addresses(host, port)
        failure: Exception = httpcore.ConnectError(f"no address for {host}")
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise RefusedTarget("refused: notifications are not sent over Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def checked_transport(policy: AddressPolicy, **options: Any) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose connections pass the policy. httpx builds its httpcore pool
    without a way to name the network backend, so the pool is rebuilt with the same
    settings and ours (tests/notify/test_outbound.py proves the check is in the path)."""
    transport = httpx.AsyncHTTPTransport(trust_env=False, **options)
    old: Any = transport._pool
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=old._ssl_context,
        max_connections=old._max_connections,
        max_keepalive_connections=old._max_keepalive_connections,
        keepalive_expiry=old._keepalive_expiry,
        http1=old._http1,
        http2=old._http2,
        retries=old._retries,
        network_backend=CheckedBackend(policy),
    )
    return transport


async def checked_socket(
    policy: AddressPolicy, host: str, port: int, *, limit_s: float
) -> socket.socket:
    """A connected socket to a checked address of ``host`` (for SMTP, which takes one)."""
    failure: OSError = OSError(f"no address for {host}")
    for address in await policy.checked_addresses(host, port):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            with anyio.fail_after(limit_s):
                await asyncio.get_running_loop().sock_connect(sock, (address, port))
            return sock
        except (OSError, TimeoutError) as exc:
            sock.close()
            failure = OSError(f"cannot connect to {host} ({address}): {exc}")
    raise failure


def redact_url(url: str | None) -> str:
    """A URL as it may appear in logs: scheme and host only (webhook URLs of Slack,
    Discord and Teams carry their credential in the path)."""
    if not url:
        return ""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}/…" if parts.scheme else "…"
