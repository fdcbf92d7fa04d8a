"""Our DKIM public keys, read from the signing keys the deployment names (no DNS): what a
complaint's reported mail must be signed with to count."""

from __future__ import annotations

import base64
from collections.abc import Mapping

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from mailmoat.common.dkim_keys import DkimKeySetting
from mailmoat.ingest.domain.feedback.proof import OwnKey


def load_own_keys(keys: Mapping[str, DkimKeySetting]) -> tuple[OwnKey, ...]:
    """One ``OwnKey`` per configured domain, its record built from the private key's file."""
    return tuple(
        OwnKey(domain.lower(), key.selector, public_record(key.private_key_file.read_bytes()))
        for domain, key in keys.items()
    )


def public_record(pem: bytes) -> bytes:
    """The DKIM TXT record that would publish the public half of the PEM private key."""
    key = serialization.load_pem_private_key(pem, password=None)
    if isinstance(key, rsa.RSAPrivateKey):
        der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return b"v=DKIM1; k=ed25519; p=" + base64.b64encode(raw)
    raise ValueError("only RSA and Ed25519 keys sign DKIM")
