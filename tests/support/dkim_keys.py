"""DKIM keys made at run time and a dict-backed resolver that serves their public halves."""

from __future__ import annotations

import base64
import secrets
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


def weak_rsa_key(bits: int = 768) -> rsa.RSAPrivateKey:
    """An RSA key too short for DKIM (cryptography will not generate one, so it is built from
    two random primes): for testing that such keys are refused."""
    rng = secrets.SystemRandom()
    exponent = 65537
    while True:
        p, q = _prime(bits // 2, rng), _prime(bits // 2, rng)
        phi = (p - 1) * (q - 1)
        if p != q and phi % exponent:
            break
    d = pow(exponent, -1, phi)
    numbers = rsa.RSAPrivateNumbers(
        p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), rsa.RSAPublicNumbers(exponent, p * q)
    )
    return numbers.private_key(unsafe_skip_rsa_key_validation=True)


def _prime(bits: int, rng: secrets.SystemRandom) -> int:
    while True:
        candidate = rng.getrandbits(bits) | (1 << (bits - 1)) | 1
        if _probably_prime(candidate, rng):
            return candidate


def _probably_prime(n: int, rng: secrets.SystemRandom) -> bool:
    """Miller-Rabin with 32 random bases."""
    for small in (3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        if n % small == 0:
            return n == small
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for _ in range(32):
        x = pow(rng.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True
