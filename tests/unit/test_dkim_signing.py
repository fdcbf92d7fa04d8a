"""Dispatch signs with the sending domain's key; a verifier holding the public half agrees."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from email.policy import SMTP

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from mailmoat.dispatch.domain.compose import OutboundContent, compose_message
from mailmoat.dispatch.domain.signing import DkimKey, DkimKeyError, dkim_sign
from tests.support.dkim_keys import rsa_record, weak_rsa_key

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
