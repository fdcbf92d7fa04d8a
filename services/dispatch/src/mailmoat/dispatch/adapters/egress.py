"""Outbound HTTP that cannot be turned against the inside (SSRF).

The host is resolved once; every address it resolves to must be public (not loopback, private,
link-local, CGNAT, multicast, reserved, unspecified or a cloud metadata address, in IPv4 or
IPv6, IPv4-mapped IPv6 judged by the IPv4 address inside; the other IPv6 transition prefixes
that carry an IPv4 address, 6to4, Teredo, NAT64 and IPv4-compatible, are refused outright)
unless an operator-listed network holds it. The request then
goes to the checked address itself, with the name only in the Host header and TLS's SNI and
certificate check, so a second lookup (DNS rebinding) cannot send it elsewhere. No redirects,
short timeouts, and the response body is read only up to a cap.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolve = Callable[[str, int], Awaitable[list[str]]]

# Ranges Python's flags miss: shared address space (RFC 6598) and the cloud metadata names.
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_METADATA = (
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("fd00:ec2::254"),
    ipaddress.ip_address("100.100.100.200"),
)
# IPv6 prefixes whose packets may end at the IPv4 address carried inside them, which the flags
# never look at: Python calls 6to4 global, yet 2002:7f00:1:: reaches 127.0.0.1 through a relay.
# IPv4-mapped addresses (::ffff:0:0/96) are judged by the IPv4 address itself instead.
_EMBEDS_IPV4 = (
    (ipaddress.ip_network("2002::/16"), "6to4"),
    (ipaddress.ip_network("2001::/32"), "Teredo"),
    (ipaddress.ip_network("64:ff9b::/96"), "NAT64"),
    (ipaddress.ip_network("64:ff9b:1::/48"), "local-use NAT64"),
    (ipaddress.ip_network("::ffff:0:0:0/96"), "IPv4-translated"),
    (ipaddress.ip_network("::/96"), "IPv4-compatible"),
)
MAX_RESPONSE_BYTES = 64 * 1024


class EgressRefused(Exception):
    """The destination is not one Mailmoat may call."""


async def system_resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, by the system resolver."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def refusal(address: IPAddress, allowed: Sequence[IPNetwork] = ()) -> str | None:
    """Why ``address`` may not be called, or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return refusal(address.ipv4_mapped, allowed)
    if any(address in network for network in allowed):
        return None
    if address in _METADATA:
        return "a cloud metadata address"
    checks = (
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT, "CGNAT"),
        (address.is_multicast, "multicast"),
        (address.is_unspecified, "unspecified"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
        (not address.is_global, "not globally routable"),
    )
    for hit, why in checks:
        if hit:
            return why
    return _carries_ipv4(address)


def _carries_ipv4(address: IPAddress) -> str | None:
    if isinstance(address, ipaddress.IPv4Address):
        return None
    for prefix, name in _EMBEDS_IPV4:
        if address in prefix:
            return f"a {name} address, which carries an IPv4 address"
    return None


@dataclass
class SafeEgress:
    """POSTs to URLs of the outside world only."""

    client: httpx.AsyncClient
    allowed: Sequence[IPNetwork] = ()
    resolve: Resolve = system_resolve
    max_response_bytes: int = MAX_RESPONSE_BYTES

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        """One POST to the checked address of ``url``; raises EgressRefused or httpx errors."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise EgressRefused(f"not an http(s) URL: {url!r}")
        host = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = await self._checked_address(host, port)
        literal = f"[{address}]" if address.version == 6 else str(address)
        target = parts._replace(netloc=f"{literal}:{port}").geturl()
        request = self.client.build_request(
            "POST",
            target,
            content=body,
            headers={**headers, "host": parts.netloc.rpartition("@")[2]},
            extensions={"sni_hostname": host},
        )
        response = await self.client.send(request, stream=True, follow_redirects=False)
        try:
            received = bytearray()
            async for chunk in response.aiter_bytes():
                received += chunk
                if len(received) > self.max_response_bytes:
                    break
        finally:
            await response.aclose()
        return response

    async def _checked_address(self, host: str, port: int) -> IPAddress:
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                found = await self.resolve(host, port)
            except OSError as exc:
                raise EgressRefused(f"{host} does not resolve: {exc}") from exc
            addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in found]
        if not addresses:
            raise EgressRefused(f"{host} does not resolve")
        for address in addresses:  # every answer must be public, not just the first
            if (why := refusal(address, self.allowed)) is not None:
                raise EgressRefused(f"{host} resolves to {address}, {why}")
        return addresses[0]
