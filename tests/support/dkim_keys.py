"""DKIM keys made at run time and a dict-backed resolver that serves their public halves."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mailmoat.ingest.adapters.dns import DnsTempError


@dataclass
class MemoryDns:
    """A Resolver over a dict of TXT records; names in ``timeouts`` raise DnsTempError."""

    records: dict[str, str] = field(default_factory=dict)
    timeouts: set[str] = field(default_factory=set)
    queries: list[str] = field(default_factory=list)

    def lookup(self, name: str, rdtype: str) -> tuple[str, ...]:
        self.queries.append(name)
        if name in self.timeouts:
            raise DnsTempError("timed out")
        record = self.records.get(name) if rdtype == "TXT" else None
        return () if record is None else (record,)

    def exists(self, name: str) -> bool:
        return name in self.records


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> bytes:
    """The private key as dkimpy takes it."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def rsa_record(key: rsa.RSAPrivateKey, extra: str = "") -> str:
    """The DKIM TXT record publishing ``key``'s public half."""
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return f"v=DKIM1; k=rsa;{extra} p={base64.b64encode(der).decode()}"
