"""DKIM verification (RFC 6376, RFC 8463): one result per DKIM-Signature header, never raises.

Policy on top of dkimpy (RFC 8301): rsa-sha1 signatures and RSA keys shorter than 1024 bits are
refused as ``fail`` with a reason; rsa-sha256 and ed25519-sha256 are verified. Only the first
``MAX_SIGNATURES`` signatures are checked, so a message stuffed with signatures costs bounded CPU;
the rest are reported ``neutral``.
"""

from __future__ import annotations

import logging
import re

import dkim
from dkim.util import InvalidTagValueList, parse_tag_value

from mailmoat.common.mail.auth import DkimResult, DkimResultCode
from mailmoat.ingest.adapters.dns import Resolver
from mailmoat.ingest.auth.dkim_dns import KeyLookup

MAX_SIGNATURES = 10
MIN_RSA_BITS = 1024
SUPPORTED_ALGORITHMS = frozenset({"rsa-sha256", "ed25519-sha256"})
_REASON_LIMIT = 300
_HEADER_END = re.compile(rb"\r?\n\r?\n")
# dkimpy logs every bad signature from the internet at ERROR; our results carry the reason instead.
LIBRARY_LOG = logging.getLogger("mailmoat.ingest.auth.dkimpy")
LIBRARY_LOG.setLevel(logging.CRITICAL)


def verify_dkim(raw: bytes, resolver: Resolver) -> tuple[DkimResult, ...]:
    """Verify every DKIM-Signature on ``raw`` in header order; no signature gives ``()``."""
    try:
        verifier = dkim.DKIM(raw, logger=LIBRARY_LOG, minkey=MIN_RSA_BITS)
    except Exception as exc:  # a header block dkimpy cannot split (even IndexError on a fold)
        count = count_header_fields(raw, "dkim-signature")
        return tuple(_result("permerror", f"unparsable header: {exc!r}") for _ in range(count))
    values = [value for name, value in verifier.headers if name.lower() == b"dkim-signature"]
    return tuple(
        _verify_one(verifier, idx, value, resolver)
        if idx < MAX_SIGNATURES
        else _described(
            value, "neutral", f"not verified: only the first {MAX_SIGNATURES} are checked"
        )
        for idx, value in enumerate(values)
    )


def count_header_fields(raw: bytes, name: str) -> int:
    """How many header fields called ``name`` start a line in the header block of ``raw``."""
    head = _HEADER_END.split(raw, maxsplit=1)[0]
    pattern = re.compile(rb"^" + re.escape(name.encode("ascii")) + rb"[ \t]*:", re.I | re.M)
    return len(pattern.findall(head))


def _verify_one(verifier: dkim.DKIM, idx: int, value: bytes, resolver: Resolver) -> DkimResult:
    refusal = _refusal(value)
    if refusal is not None:
        return refusal
    lookup = KeyLookup(resolver)
    try:
        verified = bool(verifier.verify(idx=idx, dnsfunc=lookup))
    except dkim.DKIMException as exc:
        return _classified(value, exc)
    except Exception as exc:  # dkimpy can trip over hostile input (IndexError, ValueError, ...)
        return _described(value, "permerror", f"verifier error: {exc!r}")
    if verified and (refused := lookup.hash_refused()):
        return _described(value, "permerror", refused)
    if verified:
        return _described(value, "pass", "")
    return _unverified(value, lookup)


def _refusal(value: bytes) -> DkimResult | None:
    """A result decided before any DNS or crypto work: bad tag list or refused algorithm."""
    tags = _tags(value)
    if tags is None:
        return _result("permerror", "signature is not a valid tag=value list")
    algorithm = tags.get("a", "").lower()
    if algorithm == "rsa-sha1":
        return _described(value, "fail", "rsa-sha1 signatures are refused (RFC 8301)")
    if algorithm not in SUPPORTED_ALGORITHMS:
        return _described(value, "permerror", f"unsupported algorithm a={algorithm!r}")
    return None


def _unverified(value: bytes, lookup: KeyLookup) -> DkimResult:
    """Name the reason behind dkimpy's bare ``False``: DNS, the key, or the signature."""
    if lookup.temp_error:
        return _described(value, "temperror", lookup.temp_error)
    if problem := lookup.key_problem():
        return _described(value, "permerror", problem)
    return _described(value, "fail", "signature did not verify")


def _classified(value: bytes, exc: dkim.DKIMException) -> DkimResult:
    """Map dkimpy's exceptions: broken content or a refused key fails, the rest is permerror."""
    message = str(exc)
    if isinstance(exc, dkim.UnknownKeyTypeError):
        return _described(value, "permerror", "key record has an unsupported k= or s= tag")
    if message.startswith("public key too small"):
        refused = f"RSA keys under {MIN_RSA_BITS} bits are refused (RFC 8301): {message}"
        return _described(value, "fail", refused)
    code: DkimResultCode = "fail" if message.startswith("body hash mismatch") else "permerror"
    return _described(value, code, message)


def _tags(value: bytes) -> dict[str, str] | None:
    try:
        parsed = parse_tag_value(value)
    except InvalidTagValueList:
        return None
    return {
        key.decode("ascii", errors="replace"): tag.decode("utf-8", errors="replace")
        for key, tag in parsed.items()
    }


def _described(value: bytes, code: DkimResultCode, reason: str) -> DkimResult:
    tags = _tags(value) or {}
    return DkimResult(
        result=code,
        domain=tags.get("d", "").strip().lower(),
        selector=tags.get("s", "").strip(),
        algorithm=tags.get("a", "").strip().lower(),
        reason=reason[:_REASON_LIMIT],
    )


def _result(code: DkimResultCode, reason: str) -> DkimResult:
    return DkimResult(result=code, reason=reason[:_REASON_LIMIT])
