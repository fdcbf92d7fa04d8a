"""SSRF: IPv6 transition prefixes that carry an IPv4 address are refused (their packets may end
at an internal IPv4 address the guard never saw), unless an operator lists them; IPv4-mapped
addresses are judged by the IPv4 address inside."""

from __future__ import annotations

import ipaddress

import httpx
import pytest

from mailmoat.dispatch.adapters.egress import EgressRefused, SafeEgress, refusal

CARRIERS = {
    "6to4 of loopback": ("2002:7f00:1::", "6to4"),
    "6to4 of a private address": ("2002:a00:1::1", "6to4"),
    "6to4 of a public address": ("2002:808:808::1", "6to4"),
    "Teredo": ("2001:0:4136:e378:8000:63bf:3fff:fdd2", ""),
    "NAT64": ("64:ff9b::a9fe:a9fe", ""),
    "NAT64 of a public address": ("64:ff9b::808:808", ""),
    "local-use NAT64": ("64:ff9b:1::a00:1", ""),
    "IPv4-compatible": ("::a00:1", ""),
    "IPv4-translated": ("::ffff:0:a00:1", ""),
}


@pytest.mark.parametrize("name", sorted(CARRIERS))
def test_transition_addresses_are_refused(name: str) -> None:
    address, why = CARRIERS[name]
    found = refusal(ipaddress.ip_address(address))
    assert found is not None
    assert why in found


def test_mapped_addresses_are_judged_by_their_ipv4_address() -> None:
    assert refusal(ipaddress.ip_address("::ffff:8.8.8.8")) is None
    assert refusal(ipaddress.ip_address("::ffff:10.0.0.1")) == "private"
    assert refusal(ipaddress.ip_address("::ffff:127.0.0.1")) == "loopback"


def test_public_ipv6_and_listed_networks_pass() -> None:
    assert refusal(ipaddress.ip_address("2606:4700:4700::1111")) is None
    nat64 = [ipaddress.ip_network("64:ff9b::/96")]
    assert refusal(ipaddress.ip_address("64:ff9b::808:808"), nat64) is None


async def test_a_6to4_literal_is_never_connected_to() -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return ["2002:7f00:1::"]

    async with httpx.AsyncClient() as client:
        egress = SafeEgress(client, resolve=resolve)
        for url in ("http://[2002:7f00:1::]:8080/hook", "http://hooks.example/hook"):
            with pytest.raises(EgressRefused, match="6to4"):
                await egress.post(url, b"{}", {})
