"""check_spf over an in-memory zone: identities, results, temporary errors and odd senders."""

from __future__ import annotations

import pytest

from mailmoat.ingest.adapters.dns.static import StaticResolver
from mailmoat.ingest.auth.spf import check_spf

RESOLVER = StaticResolver(
    {
        "example.com": {"TXT": ["v=spf1 ip4:192.0.2.0/24 -all"]},
        "helo.example.net": {"TXT": ["v=spf1 a -all"], "A": ["198.51.100.9"]},
        "soft.example.org": {"TXT": ["v=spf1 ~all"]},
        "broken.example.org": {"TXT": ["v=spf1 ip4:not-an-ip -all"]},
        "slow.example.org": {},
    },
    timeouts=["slow.example.org"],
)


def _check(mail_from: str, ip: str = "192.0.2.7", helo: str = "helo.example.net") -> str:
    result = check_spf(client_ip=ip, mail_from=mail_from, helo=helo, resolver=RESOLVER)
    return result.result


@pytest.mark.parametrize(
    ("mail_from", "ip", "expected"),
    [
        ("<user@example.com>", "192.0.2.7", "pass"),
        ("user@example.com", "203.0.113.1", "fail"),
        ("user@soft.example.org", "203.0.113.1", "softfail"),
        ("user@broken.example.org", "203.0.113.1", "permerror"),
        ("user@slow.example.org", "203.0.113.1", "temperror"),
        ("user@nowhere.example.org", "203.0.113.1", "none"),
    ],
)
def test_mail_from_results(mail_from: str, ip: str, expected: str) -> None:
    assert _check(mail_from, ip) == expected


def test_null_sender_checks_helo() -> None:
    result = check_spf(
        client_ip="198.51.100.9", mail_from="<>", helo="helo.example.net", resolver=RESOLVER
    )
    assert (result.result, result.scope, result.domain) == ("pass", "helo", "helo.example.net")


def test_reported_domain_is_the_checked_one() -> None:
    result = check_spf(
        client_ip="192.0.2.7", mail_from="<User@EXAMPLE.com>", helo="x", resolver=RESOLVER
    )
    assert (result.scope, result.domain) == ("mailfrom", "example.com")


@pytest.mark.parametrize(
    "mail_from",
    [
        "<any@legitimate.com(a.example.com>",
        "<any@legitimate.com'@any.example.com>",
        "a@[192.0.2.7]",
    ],
)
def test_malformed_sender_domains_are_none(mail_from: str) -> None:
    assert _check(mail_from) == "none"


def test_source_route_is_ignored() -> None:
    result = check_spf(
        client_ip="192.0.2.7",
        mail_from="<@relay.test,@other.test:user@example.com>",
        helo="x",
        resolver=RESOLVER,
    )
    assert (result.result, result.domain) == ("pass", "example.com")


def test_garbage_client_ip_is_an_error_not_an_exception() -> None:
    assert _check("user@example.com", ip="not-an-ip") == "permerror"
