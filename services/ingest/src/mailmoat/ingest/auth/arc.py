"""ARC chain validation (RFC 8617) of inbound mail: the ``cv`` verdict, never raises.

The chain is bounded at ``MAX_INSTANCES`` sets (RFC 8617 4.2.1 caps ``i=`` at 50), so a message
cannot make us verify an unbounded number of seals. RSA keys under 1024 bits do not validate.
A chain whose newest seal itself reports ``cv=fail`` has failed (RFC 8617 5.2).
"""

from __future__ import annotations

import dkim

from mailmoat.common.mail.auth import ArcResult
from mailmoat.ingest.adapters.dns import Resolver
from mailmoat.ingest.auth.dkim import LIBRARY_LOG, MIN_RSA_BITS, count_header_fields
from mailmoat.ingest.auth.dkim_dns import KeyLookup

MAX_INSTANCES = 50
_REASON_LIMIT = 300
_ARC_FIELDS = ("arc-seal", "arc-message-signature", "arc-authentication-results")


def verify_arc(raw: bytes, resolver: Resolver) -> ArcResult:
    """Validate the ARC sets on ``raw``; ``none`` when it carries no ARC header field."""
    try:
        verifier = dkim.ARC(raw, logger=LIBRARY_LOG, minkey=MIN_RSA_BITS)
        highest, _ = verifier.sorted_arc_headers()
    except Exception as exc:  # dkimpy raises assorted types on unparsable headers
        if any(count_header_fields(raw, name) for name in _ARC_FIELDS):
            return _failed(0, f"unparsable header: {exc!r}")
        return ArcResult(result="none")
    instances = int(highest)
    if instances > MAX_INSTANCES:
        return _failed(instances, f"{instances} ARC sets exceed the limit of {MAX_INSTANCES}")
    return _validated(verifier, instances, KeyLookup(resolver))


def _validated(verifier: dkim.ARC, instances: int, lookup: KeyLookup) -> ArcResult:
    try:
        cv, _, reason = verifier.verify(dnsfunc=lookup)
    except Exception as exc:  # dkimpy can trip over hostile input (IndexError, ValueError, ...)
        return _failed(instances, f"verifier error: {exc!r}")
    if cv == dkim.CV_Pass:
        return ArcResult(result="pass", instances=instances)
    if cv == dkim.CV_None:
        return ArcResult(result="none", instances=instances)
    if lookup.temp_error:
        return _failed(instances, lookup.temp_error)
    return _failed(instances, str(reason))


def _failed(instances: int, reason: str) -> ArcResult:
    return ArcResult(result="fail", instances=instances, reason=reason[:_REASON_LIMIT])
