"""DKIM verification: messages signed here with keys made at run time, keys served from memory."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

import dkim
import nacl.signing
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from mailmoat.ingest.auth.dkim import MAX_SIGNATURES, verify_dkim
from tests.support.dkim_keys import MemoryDns, pem, rsa_record

MESSAGE = (
    b"From: Alice <alice@example.org>\r\n"
    b"To: agent@mailmoat.test\r\n"
    b"Subject: quarterly numbers\r\n"
    b"Date: Mon, 3 Mar 2025 10:00:00 +0000\r\n"
    b"Message-ID: <1@example.org>\r\n"
    b"\r\n"
    b"The numbers are attached.\r\n"
)


@dataclass(frozen=True)
class Key:
    private: bytes
    record: str


def weak_rsa_key(bits: int = 512) -> rsa.RSAPrivateKey:
    """A short RSA key; the library refuses to generate one, so build it from two primes."""

    def prime(size: int) -> int:
        while True:
            n = secrets.randbits(size) | (3 << (size - 2)) | 1
            witnesses = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)
            if n % 65537 != 1 and all(pow(a, n - 1, n) == 1 for a in witnesses):
                return n

    p, q, e = prime(bits // 2), prime(bits // 2), 65537
    d = pow(e, -1, (p - 1) * (q - 1))
    public = rsa.RSAPublicNumbers(e, p * q)
    return rsa.RSAPrivateNumbers(
        p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q), public
    ).private_key()


@pytest.fixture(scope="module")
def rsa_key() -> Key:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return Key(pem(key), rsa_record(key))


@pytest.fixture(scope="module")
def ed_key() -> Key:
    seed = nacl.signing.SigningKey.generate()
    public = base64.b64encode(bytes(seed.verify_key)).decode()
    return Key(base64.b64encode(bytes(seed)), f"v=DKIM1; k=ed25519; p={public}")


def signed(message: bytes, key: Key, algorithm: bytes = b"rsa-sha256", sel: bytes = b"s1") -> bytes:
    header = dkim.sign(message, sel, b"example.org", key.private, signature_algorithm=algorithm)
    return bytes(header) + message


def zone(key: Key, sel: str = "s1") -> MemoryDns:
    return MemoryDns({f"{sel}._domainkey.example.org": key.record})


def test_rsa_signature_passes_with_its_identity(rsa_key: Key) -> None:
    (result,) = verify_dkim(signed(MESSAGE, rsa_key), zone(rsa_key))
    assert result.result == "pass"
    assert (result.domain, result.selector, result.algorithm) == ("example.org", "s1", "rsa-sha256")


def test_ed25519_signature_passes(ed_key: Key) -> None:
    (result,) = verify_dkim(signed(MESSAGE, ed_key, b"ed25519-sha256"), zone(ed_key))
    assert (result.result, result.algorithm) == ("pass", "ed25519-sha256")


def test_tampered_body_fails(rsa_key: Key) -> None:
    raw = signed(MESSAGE, rsa_key).replace(b"attached", b"enclosed")
    (result,) = verify_dkim(raw, zone(rsa_key))
    assert result.result == "fail"
    assert "body hash" in result.reason


def test_tampered_header_fails(ed_key: Key) -> None:
    raw = signed(MESSAGE, ed_key, b"ed25519-sha256").replace(b"quarterly", b"urgent wire")
    (result,) = verify_dkim(raw, zone(ed_key))
    assert result.result == "fail"
    assert result.reason == "signature did not verify"


def test_missing_and_revoked_keys_are_permerrors(rsa_key: Key) -> None:
    (missing,) = verify_dkim(signed(MESSAGE, rsa_key), MemoryDns())
    assert missing.result == "permerror"
    assert "no key record at s1._domainkey.example.org" in missing.reason
    revoked = MemoryDns({"s1._domainkey.example.org": "v=DKIM1; k=rsa; p="})
    assert verify_dkim(signed(MESSAGE, rsa_key), revoked)[0].result == "permerror"


def test_dns_timeout_is_a_temperror(rsa_key: Key) -> None:
    dns = MemoryDns(timeouts={"s1._domainkey.example.org"})
    (result,) = verify_dkim(signed(MESSAGE, rsa_key), dns)
    assert result.result == "temperror"
    assert "temporary DNS error" in result.reason


def test_rsa_sha1_is_refused_without_a_lookup(rsa_key: Key) -> None:
    dns = zone(rsa_key)
    (result,) = verify_dkim(signed(MESSAGE, rsa_key, b"rsa-sha1"), dns)
    assert (result.result, result.algorithm) == ("fail", "rsa-sha1")
    assert "RFC 8301" in result.reason
    assert dns.queries == []


def test_rsa_key_under_1024_bits_is_refused() -> None:
    weak = weak_rsa_key()
    key = Key(pem(weak), rsa_record(weak))
    (result,) = verify_dkim(signed(MESSAGE, key), zone(key))
    assert result.result == "fail"
    assert "RFC 8301" in result.reason
    assert "512" in result.reason


def test_key_restricted_to_sha1_is_a_permerror(rsa_key: Key) -> None:
    sha1_only = MemoryDns(
        {"s1._domainkey.example.org": rsa_key.record.replace(";", "; h=sha1;", 1)}
    )
    (result,) = verify_dkim(signed(MESSAGE, rsa_key), sha1_only)
    assert result.result == "permerror"
    assert "does not allow sha256" in result.reason


def test_unsigned_message_has_no_results() -> None:
    assert verify_dkim(MESSAGE, MemoryDns()) == ()
    assert verify_dkim(b"", MemoryDns()) == ()


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (b"DKIM-Signature: garbage without tags\r\n", "tag=value"),
        (b"DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=s1\r\n", "missing"),
        (b"DKIM-Signature: v=1; a=rsa-md5; d=example.org; s=s1; b=; bh=; h=from\r\n", "rsa-md5"),
    ],
)
def test_malformed_signatures_are_permerrors(header: bytes, reason: str) -> None:
    (result,) = verify_dkim(header + MESSAGE, MemoryDns())
    assert result.result == "permerror"
    assert reason in result.reason


@pytest.mark.parametrize(
    "head",
    [
        b"DKIM-Signature: v=1; d=example.org\r\n\x01 not a header\r\n",
        b" fold\r\nDKIM-Signature: v=1\r\n",
    ],
)
def test_unparsable_header_block_gives_one_permerror_per_signature(head: bytes) -> None:
    (result,) = verify_dkim(head + MESSAGE, MemoryDns())
    assert result.result == "permerror"
    assert "unparsable header" in result.reason


def test_only_the_first_signatures_are_verified(rsa_key: Key) -> None:
    raw = MESSAGE
    for _ in range(MAX_SIGNATURES + 2):
        raw = signed(raw, rsa_key)
    dns = zone(rsa_key)
    results = verify_dkim(raw, dns)
    assert [r.result for r in results] == ["pass"] * MAX_SIGNATURES + ["neutral"] * 2
    assert len(dns.queries) == MAX_SIGNATURES
    assert results[-1].domain == "example.org"


def test_truncated_and_mangled_messages_never_raise(rsa_key: Key) -> None:
    raw = signed(MESSAGE, rsa_key)
    for cut in range(0, len(raw), 3):
        for variant in (raw[:cut], raw[:cut] + b"\x00\xff;=\r\n" + raw[cut:]):
            assert len(verify_dkim(variant, zone(rsa_key))) <= 1
