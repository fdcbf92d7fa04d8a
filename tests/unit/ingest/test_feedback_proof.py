"""A report to the plain feedback address proves itself with our DKIM signature on the mail it
reports: checked against our own key, over one Message-ID, whatever the reporter re-folded."""

from __future__ import annotations

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from mailmoat.dispatch.domain.signing import DkimKey, dkim_sign
from mailmoat.ingest.adapters.own_keys import public_record
from mailmoat.ingest.domain.feedback.proof import OwnKey, signed_message_id
from tests.support.dkim_keys import new_rsa_key, pem

DOMAIN = "agents.example.com"
MESSAGE_ID = "<c0ffee.1@agents.example.com>"


@pytest.fixture(scope="module")
def rsa_pem() -> bytes:
    return pem(new_rsa_key())


def original(message_id: str = MESSAGE_ID) -> bytes:
    return (
        f"From: desk@{DOMAIN}\r\nTo: bob@example.org\r\nSubject: Our offer for the spring "
        "catalogue, with every price list attached as promised last week\r\n"
        f"Date: Wed, 02 Dec 2026 10:00:00 +0000\r\nMessage-ID: {message_id}\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nHello Bob.\r\n"
    ).encode()


def signed(private_pem: bytes, raw: bytes | None = None, *, selector: str = "mm1") -> bytes:
    return dkim_sign(raw or original(), DkimKey.from_pem(DOMAIN, selector, private_pem))


def arf(reported: bytes, part_type: str = "message/rfc822") -> bytes:
    return (
        b"From: fbl@isp.example\r\nTo: feedback@" + DOMAIN.encode() + b"\r\n"
        b"Subject: complaint\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=feedback-report; boundary="F"\r\n\r\n'
        b"--F\r\nContent-Type: text/plain\r\n\r\nA complaint.\r\n"
        b"--F\r\nContent-Type: message/feedback-report\r\n\r\n"
        b"Feedback-Type: abuse\r\nUser-Agent: fbl/1\r\nVersion: 1\r\n\r\n"
        b"--F\r\nContent-Type: " + part_type.encode() + b"\r\n\r\n" + reported + b"\r\n--F--\r\n"
    )


def ours(private_pem: bytes, selector: str = "mm1") -> list[OwnKey]:
    return [OwnKey(DOMAIN, selector, public_record(private_pem))]


def test_our_signature_on_the_reported_mail_proves_it(rsa_pem: bytes) -> None:
    assert signed_message_id(arf(signed(rsa_pem)), ours(rsa_pem)) == MESSAGE_ID


def test_the_headers_alone_are_enough(rsa_pem: bytes) -> None:
    headers = signed(rsa_pem).split(b"\r\n\r\n", 1)[0] + b"\r\n"
    report = arf(headers, "text/rfc822-headers")
    assert signed_message_id(report, ours(rsa_pem)) == MESSAGE_ID


def test_a_cut_or_changed_body_does_not_matter(rsa_pem: bytes) -> None:
    head, _ = signed(rsa_pem).split(b"\r\n\r\n", 1)
    report = arf(head + b"\r\n\r\n[body removed by the feedback loop]\r\n")
    assert signed_message_id(report, ours(rsa_pem)) == MESSAGE_ID


def test_refolded_and_lf_only_headers_still_verify(rsa_pem: bytes) -> None:
    refolded = signed(rsa_pem).replace(b"Subject: Our offer", b"Subject: Our\r\n\toffer")
    report = arf(refolded).replace(b"\r\n", b"\n")
    assert signed_message_id(report, ours(rsa_pem)) == MESSAGE_ID


def test_an_ed25519_key_works_too() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    assert signed_message_id(arf(signed(key_pem)), ours(key_pem)) == MESSAGE_ID


def test_unsigned_or_foreign_signatures_prove_nothing(rsa_pem: bytes) -> None:
    assert signed_message_id(arf(original()), ours(rsa_pem)) is None
    stranger = pem(new_rsa_key())
    assert signed_message_id(arf(signed(stranger)), ours(rsa_pem)) is None  # same d= and s=
    assert signed_message_id(arf(signed(rsa_pem, selector="old")), ours(rsa_pem)) is None
    assert signed_message_id(arf(signed(rsa_pem)), []) is None


def test_a_changed_message_id_breaks_the_proof(rsa_pem: bytes) -> None:
    swapped = signed(rsa_pem).replace(MESSAGE_ID.encode(), b"<victim.9@agents.example.com>")
    assert signed_message_id(arf(swapped), ours(rsa_pem)) is None


def test_a_second_message_id_is_refused(rsa_pem: bytes) -> None:
    # The signature covers the last Message-ID; a reader takes the first: no proof at all.
    doubled = b"Message-ID: <victim.9@agents.example.com>\r\n" + signed(rsa_pem)
    assert signed_message_id(arf(doubled), ours(rsa_pem)) is None


def test_a_signature_not_covering_the_message_id_is_refused(rsa_pem: bytes) -> None:
    raw = original()
    header = dkim.sign(
        raw,
        b"mm1",
        DOMAIN.encode(),
        DkimKey.from_pem(DOMAIN, "mm1", rsa_pem).private_key,
        include_headers=[b"from", b"subject"],
    )
    assert signed_message_id(arf(header + raw), ours(rsa_pem)) is None


@pytest.mark.parametrize(
    "junk",
    [
        b"",
        b"\x00\xff" * 100,
        b"Content-Type: multipart/report\r\n\r\n--",
        arf(b"DKIM-Signature: ;;;"),
    ],
)
def test_junk_is_no_proof_and_never_raises(rsa_pem: bytes, junk: bytes) -> None:
    assert signed_message_id(junk, ours(rsa_pem)) is None


def test_the_public_record_is_the_key_s_public_half(rsa_pem: bytes) -> None:
    record = public_record(rsa_pem)
    assert record.startswith(b"v=DKIM1; k=rsa; p=")
    _, bits, kind, _ = dkim.evaluate_pk(b"mm1._domainkey.agents.example.com.", record)
    assert (bits, kind) == (2048, b"rsa")
