"""Flanker's DKIM canonicalisation vectors against the simple and relaxed algorithms we verify with.

Each vector is an ``email.NN`` and its expected ``simple`` / ``relaxed`` output: the canonical
header fields, the empty separator line, then the canonical body. The ``nofws`` outputs belong to
DomainKeys (RFC 4870), which we do not verify.
"""

from __future__ import annotations

from pathlib import Path

import dkim
from dkim.canonicalization import Relaxed, Simple

from tests.support.external import external, report

ALGORITHMS = {"simple": Simple, "relaxed": Relaxed}


def canonicalise(raw: bytes, algorithm: str) -> bytes:
    """The message as DKIM hashes it under ``algorithm`` for both header fields and body."""
    canon = ALGORITHMS[algorithm]
    headers, body = dkim.rfc822_parse(raw)
    fields = b"".join(name + b":" + value for name, value in canon.canonicalize_headers(headers))
    return bytes(fields + b"\r\n" + canon.canonicalize_body(body))


def vectors(folder: Path) -> list[tuple[str, str, Path]]:
    return [
        (email.name.split(".")[1], algorithm, email)
        for email in sorted(folder.glob("email.*"))
        for algorithm in ALGORITHMS
    ]


def test_flanker_canonicalisation_vectors() -> None:
    folder = external("flanker", "messages", "dkim")
    cases = vectors(folder)
    mismatches = [
        f"{algorithm}.{number}"
        for number, algorithm, email in cases
        if canonicalise(email.read_bytes(), algorithm)
        != (folder / f"{algorithm}.expected.{number}").read_bytes()
    ]
    assert len(cases) == 42
    assert mismatches == []
    report("dkim canonicalisation", len(cases) - len(mismatches), len(cases))
