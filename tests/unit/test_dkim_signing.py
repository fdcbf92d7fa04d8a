"""Dispatch signs with the sending domain's key; a verifier holding the public half agrees."""

from __future__ import annotations

import base64
import time
import uuid
from datetime import UTC, datetime
from email.policy import SMTP

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from mailmoat.dispatch.domain.compose import OutboundContent, compose_message
from mailmoat.dispatch.domain.signing import (
    SIGNED_HEADERS,
    DkimKey,
    DkimKeyError,
    DkimMessageError,
    dkim_sign,
)
from tests.support.dkim_keys import pem, rsa_record, weak_rsa_key

DOMAIN = "agents.example"


def message() -> bytes:
    content = OutboundContent(
        outbound_id=uuid.uuid4(),
        sender=f"desk@{DOMAIN}",
        recipients=("bob@example.org",),
        subject="Quarterly numbers",
        text="The numbers are below.\n",
        in_reply_to="<q1@example.org>",
        references=("<q1@example.org>",),
    )
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    return compose_message(content, now=now).as_bytes(policy=SMTP)


def pkcs8(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def verifies(signed: bytes, record: str) -> bool:
    name = f"mm1._domainkey.{DOMAIN}."

    def dns(query: bytes, timeout: int = 5) -> bytes:
        return record.encode() if query.decode() == name else b""

    return bool(dkim.verify(signed, dnsfunc=dns))


def test_rsa_sha256_signature_verifies_and_covers_what_the_recipient_reads() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = DkimKey.from_pem(DOMAIN, "mm1", pkcs8(private))
    assert key.algorithm == "rsa-sha256"
    signed = dkim_sign(message(), key)
    assert signed.startswith(b"DKIM-Signature: ")
    header = signed.split(b"\r\n\r\n", 1)[0].decode()
    assert "a=rsa-sha256" in header
    assert "d=agents.example" in header
    for name in ("from", "to", "subject", "date", "message-id", "in-reply-to", "references"):
        assert name in header.split("h=", 1)[1].split(";", 1)[0].replace(" ", "").lower()
    assert verifies(signed, rsa_record(private))
    tampered = signed.replace(b"Quarterly numbers", b"Quarterly numberz")
    assert not verifies(tampered, rsa_record(private))


def test_ed25519_sha256_signature_verifies() -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    key = DkimKey.from_pem(DOMAIN, "mm1", pkcs8(private))
    assert key.algorithm == "ed25519-sha256"
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    record = f"v=DKIM1; k=ed25519; p={base64.b64encode(public).decode()}"
    signed = dkim_sign(message(), key)
    assert b"a=ed25519-sha256" in signed.split(b"\r\n\r\n", 1)[0]
    assert verifies(signed, record)


def test_weak_or_unusable_keys_are_refused() -> None:
    weak = weak_rsa_key(768)
    assert weak.key_size < 1024
    with pytest.raises(DkimKeyError, match="1024"):
        DkimKey.from_pem(DOMAIN, "mm1", pkcs8(weak))
    with pytest.raises(DkimKeyError, match="PEM"):
        DkimKey.from_pem(DOMAIN, "mm1", b"not a key")
    with pytest.raises(DkimKeyError, match="only RSA and Ed25519"):
        DkimKey.from_pem(DOMAIN, "mm1", pkcs8(ec.generate_private_key(ec.SECP256R1())))


T = 1_780_000_000
"""A fixed t= for comparing with dkimpy."""

HEAD = (
    f"From: Desk <desk@{DOMAIN}>\r\nTo: bob@example.org\r\n"
    "Date: Sun, 22 Nov 2026 12:00:00 +0000\r\n"
)
MESSAGES = {
    "plain": (HEAD + "Subject: plain\r\n\r\nHello Bob.\r\n").encode(),
    "folded headers": (
        f"From: Desk\r\n <desk@{DOMAIN}>\r\nTo: bob@example.org,\r\n\tcarol@example.org\r\n"
        "Subject:   a subject\r\n  folded \t twice\r\n   \r\n and three times  \r\n"
        "Message-ID: <f1@agents.example>\r\n\r\nBody.\r\n"
    ).encode(),
    "repeated headers": (
        f"Received: from a\r\nTo: first@example.org\r\n{HEAD}To: second@example.org\r\n"
        "X-Tag: one\r\nX-Tag: two\r\nReceived: from b\r\nSubject: twice\r\n\r\nBody.\r\n"
    ).encode(),
    "trailing empty lines": (HEAD + "Subject: t\r\n\r\nBody.\r\n\r\n\r\n \r\n\r\n\r\n").encode(),
    "empty body": (HEAD + "Subject: nothing\r\n\r\n").encode(),
    "no blank line": (HEAD + "Subject: headers only\r\n").encode(),
    "trailing whitespace": (
        HEAD + "Subject: spaces  \r\n\r\nline one   \r\n\tindented\t \r\nlast \t\r\n"
    ).encode(),
    "8-bit utf-8": (
        HEAD + "Subject: Grüße aus Köln\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "Grüße — 日本語のテキスト, ça va ?\r\n"
    ).encode(),
}


def old_sign(raw: bytes, key: DkimKey) -> bytes:
    """What the module returned when it signed through ``dkim.sign``, at time T."""
    present = {
        line.split(b":", 1)[0].strip().lower()
        for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
        if line and line[:1] not in (b" ", b"\t") and b":" in line
    }
    names = [name.encode() for name in SIGNED_HEADERS if name.encode() in present]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(time, "time", lambda: float(T))
        header = dkim.sign(
            raw,
            key.selector.encode(),
            key.domain.encode(),
            key.private_key,
            include_headers=names,
            signature_algorithm=key.algorithm.encode(),
            linesep=b"\r\n",
        )
    return bytes(header) + raw


@pytest.fixture(scope="module", params=["rsa-1024", "rsa-2048", "ed25519"])
def signing_key(request: pytest.FixtureRequest) -> tuple[DkimKey, str]:
    """A key of each kind we sign with, and the TXT record publishing its public half."""
    if request.param == "ed25519":
        private = ed25519.Ed25519PrivateKey.generate()
        public = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        record = f"v=DKIM1; k=ed25519; p={base64.b64encode(public).decode()}"
        return DkimKey.from_pem(DOMAIN, "mm1", pkcs8(private)), record
    bits = int(request.param.split("-")[1])
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return DkimKey.from_pem(DOMAIN, "mm1", pkcs8(rsa_key)), rsa_record(rsa_key)


@pytest.fixture(params=[*MESSAGES, "with threading headers"])
def raw(request: pytest.FixtureRequest) -> bytes:
    return message() if request.param == "with threading headers" else MESSAGES[request.param]


def test_every_signature_verifies_with_dkimpy(signing_key: tuple[DkimKey, str], raw: bytes) -> None:
    key, record = signing_key
    signed = dkim_sign(raw, key)
    assert signed.endswith(raw)
    assert verifies(signed, record)


def test_the_signature_is_byte_identical_to_dkimpys(
    signing_key: tuple[DkimKey, str], raw: bytes
) -> None:
    key, _ = signing_key
    ours = dkim_sign(raw, key, timestamp=T)
    assert f"t={T};".encode() in ours
    assert ours == old_sign(raw, key)


@pytest.mark.parametrize(
    ("original", "altered"),
    [
        (b"Hello Bob.", b"Hello Rob."),  # body
        (b"Subject: plain", b"Subject: plaIn"),  # signed header
        (b"To: bob@example.org", b"To: bob@example.net"),
        (b"\r\n\r\nHello", b"\r\n\r\n\r\nHello"),  # an empty line added to the body's top
    ],
)
def test_a_tampered_body_or_signed_header_fails_verification(
    signing_key: tuple[DkimKey, str], original: bytes, altered: bytes
) -> None:
    key, record = signing_key
    signed = dkim_sign(MESSAGES["plain"], key)
    assert verifies(signed, record)
    tampered = signed.replace(original, altered, 1)
    assert tampered != signed
    assert not verifies(tampered, record)


def test_of_repeated_headers_the_bottom_instance_is_signed(
    signing_key: tuple[DkimKey, str],
) -> None:
    key, record = signing_key
    signed = dkim_sign(MESSAGES["repeated headers"], key)
    header = signed.split(b"\r\n\r\n", 1)[0].decode()
    assert header.split("h=", 1)[1].split(";", 1)[0].replace("\r\n", "").split() == [
        "from",
        ":",
        "to",
        ":",
        "subject",
        ":",
        "date",
    ]
    assert not verifies(signed.replace(b"second@", b"secund@"), record)
    assert verifies(signed.replace(b"first@", b"furst@"), record)  # as dkimpy, bottom-up
    assert verifies(signed.replace(b"X-Tag: two", b"X-Tag: 2"), record)  # not in h=


def test_relaxed_canonicalisation_tolerates_refolding_and_blank_changes() -> None:
    # 1024 bits: the smallest key verifiers still accept, so the one to test.
    private = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    key = DkimKey.from_pem(DOMAIN, "mm1", pem(private))  # PKCS#1 loads too
    signed = dkim_sign(MESSAGES["folded headers"], key)
    refolded = signed.replace(b"Subject:   a subject\r\n  folded", b"Subject: a subject folded")
    assert refolded != signed
    assert verifies(refolded, rsa_record(private))


def test_messages_that_cannot_be_signed_are_refused() -> None:
    key = DkimKey.from_pem(DOMAIN, "mm1", pkcs8(ed25519.Ed25519PrivateKey.generate()))
    with pytest.raises(DkimMessageError, match="From"):
        dkim_sign(b"To: bob@example.org\r\nSubject: x\r\n\r\nBody\r\n", key)
    with pytest.raises(DkimMessageError, match="continuation"):
        dkim_sign(b" folded: first\r\nFrom: a@agents.example\r\n\r\nBody\r\n", key)
    with pytest.raises(DkimMessageError, match="not a header field"):
        dkim_sign(b"From: a@agents.example\r\nno colon here\r\n\r\nBody\r\n", key)


def test_the_key_is_still_given_in_dkimpys_format() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = DkimKey.from_pem(DOMAIN, "mm1", pkcs8(private))
    assert key.private_key == pem(private)
    assert "PRIVATE KEY" not in repr(key)
    seed = ed25519.Ed25519PrivateKey.generate()
    ed_key = DkimKey.from_pem(DOMAIN, "mm1", pkcs8(seed))
    raw_seed = seed.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    assert ed_key.private_key == base64.b64encode(raw_seed)
