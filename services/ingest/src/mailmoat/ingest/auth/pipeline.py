"""Authenticates one received message: SPF, DKIM, ARC, then DMARC for its From domain."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import TypeVar

from mailmoat.common.mail.auth import (
    ArcResult,
    AuthenticationResults,
    DkimResult,
    DmarcResult,
    SpfResult,
)
from mailmoat.ingest.adapters.dns import Resolver
from mailmoat.ingest.auth.arc import verify_arc
from mailmoat.ingest.auth.dkim import verify_dkim
from mailmoat.ingest.auth.dmarc import evaluate_dmarc
from mailmoat.ingest.auth.from_domains import from_domains
from mailmoat.ingest.auth.spf import check_spf

logger = logging.getLogger(__name__)
T = TypeVar("T")


def authenticate(
    raw: bytes,
    *,
    client_ip: str,
    helo: str,
    mail_from: str,
    resolver: Resolver,
    authserv_id: str,
) -> AuthenticationResults:
    """Every check on one message; never raises, a check that breaks reports an error result.

    Synchronous on purpose: the SMTP handler runs it in a worker thread.
    """
    spf = _guarded(
        lambda: check_spf(client_ip=client_ip, mail_from=mail_from, helo=helo, resolver=resolver),
        SpfResult(result="temperror", domain=helo, scope="helo", explanation="SPF check failed"),
    )
    dkim_failed: tuple[DkimResult, ...] = (
        DkimResult(result="temperror", reason="DKIM verification failed"),
    )
    dkim = _guarded(lambda: verify_dkim(raw, resolver), dkim_failed)
    arc = _guarded(
        lambda: verify_arc(raw, resolver), ArcResult(result="fail", reason="ARC check failed")
    )
    dmarc = _guarded(
        lambda: evaluate_dmarc(
            from_domains=from_domains(raw),
            spf=spf,
            dkim=dkim,
            resolver=resolver,
            sample=pct_sample(raw),
        ),
        DmarcResult(result="temperror", reason="DMARC evaluation failed"),
    )
    return AuthenticationResults(authserv_id=authserv_id, spf=spf, dkim=dkim, dmarc=dmarc, arc=arc)


def pct_sample(raw: bytes) -> float:
    """A number in [0, 1) fixed by the message, so a redelivered copy gets the same pct= draw."""
    return int.from_bytes(hashlib.sha256(raw).digest()[:8], "big") / 2**64


def _guarded(check: Callable[[], T], fallback: T) -> T:
    # A verifier bug on hostile input must not lose the message; it gets an error result.
    try:
        return check()
    except Exception:
        logger.exception("authentication check raised; recording an error result")
        return fallback
