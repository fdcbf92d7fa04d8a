"""ARC chain validation: chains sealed here with a key made at run time, keys served from memory."""

from __future__ import annotations

import re
from dataclasses import dataclass

import dkim
import pytest

from mailmoat.ingest.auth.arc import MAX_INSTANCES, verify_arc
from tests.support.dkim_keys import MemoryDns, new_rsa_key, pem, rsa_record

ORIGINAL = (
    b"Authentication-Results: list.example; spf=pass smtp.mailfrom=alice@example.org\r\n"
    b"From: Alice <alice@example.org>\r\n"
    b"To: team@list.example\r\n"
    b"Subject: minutes\r\n"
    b"Date: Mon, 3 Mar 2025 10:00:00 +0000\r\n"
    b"Message-ID: <2@example.org>\r\n"
    b"\r\n"
    b"Minutes of the meeting.\r\n"
)
KEY_NAMES = ("arc._domainkey.list.example", "arc._domainkey.relay.example")


@dataclass(frozen=True)
class Sealer:
    private: bytes
    record: str

    def seal(self, message: bytes, domain: bytes) -> bytes:
        """Add the next ARC set as ``domain`` would, after its own Authentication-Results."""
        arc_set = dkim.arc_sign(message, b"arc", domain, self.private, srv_id=domain)
        return b"".join(arc_set) + message

    def zone(self) -> MemoryDns:
        return MemoryDns(dict.fromkeys(KEY_NAMES, self.record))


@pytest.fixture(scope="module")
def sealer() -> Sealer:
    key = new_rsa_key()
    return Sealer(pem(key), rsa_record(key))


@pytest.fixture(scope="module")
def two_hops(sealer: Sealer) -> bytes:
    """Sealed by the list, then by a relay that saw the list's chain pass."""
    first = sealer.seal(ORIGINAL, b"list.example")
    relayed = b"Authentication-Results: relay.example; arc=pass\r\n" + first
    return sealer.seal(relayed, b"relay.example")


def test_message_without_arc_is_none() -> None:
    assert verify_arc(ORIGINAL, MemoryDns()).result == "none"
    assert verify_arc(b"", MemoryDns()).result == "none"


def test_one_hop_chain_passes(sealer: Sealer) -> None:
    result = verify_arc(sealer.seal(ORIGINAL, b"list.example"), sealer.zone())
    assert (result.result, result.instances) == ("pass", 1)


def test_two_hop_chain_passes_asking_dns_once_per_key(sealer: Sealer, two_hops: bytes) -> None:
    dns = sealer.zone()
    result = verify_arc(two_hops, dns)
    assert (result.result, result.instances, result.reason) == ("pass", 2, "")
    assert sorted(dns.queries) == sorted(KEY_NAMES)


def test_body_changed_after_the_last_hop_fails(sealer: Sealer, two_hops: bytes) -> None:
    result = verify_arc(two_hops.replace(b"Minutes", b"Orders"), sealer.zone())
    assert (result.result, result.instances) == ("fail", 2)
    assert "ARC-Message-Signature" in result.reason


def test_rewritten_first_hop_results_fail_the_seals(sealer: Sealer, two_hops: bytes) -> None:
    aar = b"ARC-Authentication-Results: i=1; list.example;\r\n spf=pass"
    broken = two_hops.replace(aar, aar.replace(b"pass", b"fail"), 1)
    assert broken != two_hops
    result = verify_arc(broken, sealer.zone())
    assert result.result == "fail"
    assert "ARC-Seal[" in result.reason


def test_missing_set_fails_the_chain(sealer: Sealer, two_hops: bytes) -> None:
    # The whole folded field goes: up to the next line that does not start with white space.
    unsealed, removed = re.subn(rb"ARC-Seal: i=1;.*?\r\n(?=\S)", b"", two_hops, flags=re.S)
    assert removed == 1
    result = verify_arc(unsealed, sealer.zone())
    assert result.result == "fail"
    assert "Incomplete ARC set for instance 1" in result.reason


def test_unknown_key_fails(two_hops: bytes) -> None:
    assert verify_arc(two_hops, MemoryDns()).result == "fail"


def test_dns_timeout_fails_with_the_reason(sealer: Sealer, two_hops: bytes) -> None:
    dns = sealer.zone()
    dns.timeouts.add("arc._domainkey.relay.example")
    result = verify_arc(two_hops, dns)
    assert result.result == "fail"
    assert "temporary DNS error" in result.reason


def test_too_many_sets_are_refused_before_any_lookup() -> None:
    seal = f"ARC-Seal: i={MAX_INSTANCES + 1}; a=rsa-sha256; cv=pass; d=x.example; s=a; b=AA==\r\n"
    dns = MemoryDns(timeouts={"a._domainkey.x.example"})
    result = verify_arc(seal.encode() + ORIGINAL, dns)
    assert (result.result, result.instances) == ("fail", MAX_INSTANCES + 1)
    assert "exceed" in result.reason


def test_unparsable_headers_fail_with_arc_and_are_none_without() -> None:
    for broken in (b"\x01 broken line\r\n", b" fold\r\n"):
        assert verify_arc(broken + b"ARC-Seal: i=1\r\n" + ORIGINAL, MemoryDns()).result == "fail"
        assert verify_arc(broken + ORIGINAL, MemoryDns()).result == "none"
