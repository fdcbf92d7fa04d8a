"""SSRF: outbound HTTP reaches public addresses only (or networks the operator lists), goes to
the address it checked (no second lookup to rebind), and follows no redirects."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import httpx
import pytest

from mailmoat.dispatch.adapters.egress import EgressRefused, SafeEgress
from tests.support.peers import WebhookReceiver

REFUSED = {
    "loopback": ["127.0.0.1"],
    "loopback6": ["::1"],
    "private10": ["10.1.2.3"],
    "private172": ["172.16.0.1"],
    "private192": ["192.168.1.1"],
    "link-local": ["169.254.1.1"],
    "link-local6": ["fe80::1"],
    "cgnat": ["100.64.1.1"],
    "multicast": ["224.0.0.1"],
    "multicast6": ["ff02::1"],
    "metadata": ["169.254.169.254"],
    "metadata6": ["fd00:ec2::254"],
    "unique-local6": ["fd12:3456::1"],
    "mapped-loopback": ["::ffff:127.0.0.1"],
    "mapped-private": ["::ffff:10.0.0.1"],
    "unspecified": ["0.0.0.0"],  # noqa: S104 - a refused destination, not a bind
    "one-bad-answer": ["93.184.216.34", "10.0.0.1"],
}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        server.answers["/redirect"] = [302]
        yield server


def requests(receiver: WebhookReceiver) -> list[tuple[str, str]]:
    """Each request's path and Host header."""
    return [(d.path, d.headers.get("host", "")) for d in receiver.deliveries]


class Resolver:
    """An injected resolver: the answers for each lookup in turn, counting lookups."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.lookups = 0

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups += 1
        return self.answers[min(self.lookups, len(self.answers)) - 1]


@pytest.mark.parametrize("name", sorted(REFUSED))
async def test_internal_addresses_are_refused(name: str, receiver: WebhookReceiver) -> None:
    async with httpx.AsyncClient() as client:
        egress = SafeEgress(client, resolve=Resolver(REFUSED[name]))
        with pytest.raises(EgressRefused, match="resolves to"):
            await egress.post(f"http://hooks.example:{receiver.port}/hook", b"{}", {})
    assert requests(receiver) == []


async def test_literal_internal_addresses_and_other_schemes_are_refused(
    receiver: WebhookReceiver,
) -> None:
    async with httpx.AsyncClient() as client:
        egress = SafeEgress(client, resolve=Resolver(["8.8.8.8"]))
        for url in (
            f"http://127.0.0.1:{receiver.port}/hook",
            f"http://[::1]:{receiver.port}/hook",
            "http://169.254.169.254/latest/meta-data/",
            f"http://[::ffff:7f00:1]:{receiver.port}/hook",
            "file:///etc/passwd",
            "gopher://hooks.example/",
        ):
            with pytest.raises(EgressRefused):
                await egress.post(url, b"{}", {})
    assert requests(receiver) == []


async def test_an_operator_listed_network_is_reached_at_the_checked_address_only(
    receiver: WebhookReceiver,
) -> None:
    # Any later lookup would rebind the name to an internal address: the connection must not
    # make one.
    resolver = Resolver(["127.0.0.1"], ["10.0.0.1"])
    allowed = [ipaddress.ip_network("127.0.0.1/32")]
    async with httpx.AsyncClient() as client:
        egress = SafeEgress(client, allowed=allowed, resolve=resolver)
        answer = await egress.post(f"http://hooks.example:{receiver.port}/hook", b"{}", {})
    assert answer.status_code == 204
    assert resolver.lookups == 1
    assert requests(receiver) == [("/hook", f"hooks.example:{receiver.port}")]


async def test_redirects_are_reported_not_followed(receiver: WebhookReceiver) -> None:
    allowed = [ipaddress.ip_network("127.0.0.0/8")]
    async with httpx.AsyncClient() as client:
        egress = SafeEgress(client, allowed=allowed, resolve=Resolver(["127.0.0.1"]))
        answer = await egress.post(f"http://hooks.example:{receiver.port}/redirect", b"{}", {})
    assert answer.status_code == 302
    assert [path for path, _ in requests(receiver)] == ["/redirect"]
