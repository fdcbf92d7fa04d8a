"""DKIM signing of outbound mail with the sending domain's key (rsa-sha256 or ed25519-sha256)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

Algorithm = Literal["rsa-sha256", "ed25519-sha256"]

# Headers the signature covers when present; From always is. Listing To, Subject and the
# threading headers keeps a relay from rewriting what the recipient reads.
SIGNED_HEADERS = (
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "auto-submitted",
)


class DkimKeyError(ValueError):
    """A configured key cannot be used for its algorithm."""


@dataclass(frozen=True)
class DkimKey:
    """A domain's signing key as dkimpy takes it: PEM for RSA, the base64 seed for Ed25519."""

    domain: str
    selector: str
    algorithm: Algorithm
    private_key: bytes

    @classmethod
    def from_pem(cls, domain: str, selector: str, pem: bytes) -> DkimKey:
        """Load a PEM private key (PKCS#1 or PKCS#8); its type decides the algorithm. RSA keys
        under 1024 bits are refused, as verifiers ignore them (RFC 8301)."""
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as exc:
            raise DkimKeyError(f"{domain}: not an unencrypted PEM private key") from exc
        if isinstance(key, rsa.RSAPrivateKey):
            if key.key_size < 1024:
                raise DkimKeyError(f"{domain}: RSA keys under 1024 bits are not accepted")
            traditional = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
            return cls(domain.lower(), selector, "rsa-sha256", traditional)
        if isinstance(key, ed25519.Ed25519PrivateKey):
            seed = key.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
            return cls(domain.lower(), selector, "ed25519-sha256", base64.b64encode(seed))
        raise DkimKeyError(f"{domain}: only RSA and Ed25519 keys can sign DKIM")

    @classmethod
    def from_file(cls, domain: str, selector: str, path: Path) -> DkimKey:
        return cls.from_pem(domain, selector, path.read_bytes())


def dkim_sign(message: bytes, key: DkimKey) -> bytes:
    """``message`` (CRLF line endings) with a DKIM-Signature header prepended."""
    present = {
        line.split(b":", 1)[0].strip().lower()
        for line in message.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
        if line and line[:1] not in (b" ", b"\t") and b":" in line
    }
    headers = [name.encode() for name in SIGNED_HEADERS if name.encode() in present]
    signature = dkim.sign(
        message,
        key.selector.encode(),
        key.domain.encode(),
        key.private_key,
        include_headers=headers,
        signature_algorithm=key.algorithm.encode(),
        linesep=b"\r\n",
    )
    return bytes(signature) + message
