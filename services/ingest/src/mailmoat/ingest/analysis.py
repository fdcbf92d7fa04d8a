"""What ingest learns about a message before storing it: structure, authentication, L1 findings."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mailmoat.common.events.inbound import Finding
from mailmoat.common.mail.auth import ArcResult, AuthenticationResults, DmarcResult, SpfResult
from mailmoat.common.mail.structured import StructuredMessage
from mailmoat.ingest.adapters.dns import Resolver
from mailmoat.ingest.auth.header import stamp
from mailmoat.ingest.auth.pipeline import authenticate
from mailmoat.ingest.domain.checks import run_checks
from mailmoat.ingest.domain.mime import MimeLimits, parse_message

if TYPE_CHECKING:
    from mailmoat.ingest.adapters.store import Envelope

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Analysis:
    """The stamped copy we store and everything the later stages need to know about it."""

    stored_raw: bytes
    message: StructuredMessage
    authentication: AuthenticationResults
    findings: tuple[Finding, ...]

    @property
    def header_senders(self) -> tuple[str, ...]:
        """Addresses in From and Sender: the identities a person would read as the sender."""
        people = (
            *self.message.from_,
            *(() if self.message.sender is None else (self.message.sender,)),
        )
        return tuple(p.address for p in people if p.address)

    @property
    def header_from(self) -> str:
        """The first From address, lowercased: the sender the agent is shown ('' if none)."""
        first = next((p.address for p in self.message.from_ if p.address), "")
        return first.lower()[:320]

    def quarantine_reason(self, *, blocked: bool) -> str | None:
        """Why this copy must wait for a person, or ``None`` when it may go on."""
        reasons = [f"{f.code}: {f.reason}" for f in self.findings]
        if blocked:
            reasons.insert(0, "sender blocked by the inbox's sender rules")
        if self.authentication.dmarc.disposition == "quarantine":
            reasons.append(
                f"DMARC policy of {self.authentication.dmarc.from_domain} says quarantine"
            )
        return "; ".join(reasons) or None


def analyse(
    raw: bytes, envelope: Envelope, *, resolver: Resolver, authserv_id: str, limits: MimeLimits
) -> Analysis:
    """Parse, authenticate and check ``raw``; blocking (DNS, CPU), so run it in a thread."""
    parsed = parse_message(raw, limits)
    results = authenticate(
        raw,
        client_ip=envelope.client_ip,
        helo=envelope.helo,
        mail_from=envelope.mail_from,
        resolver=resolver,
        authserv_id=authserv_id,
    )
    return Analysis(stamp(raw, results), parsed.message, results, run_checks(parsed.parts))


@dataclass(frozen=True)
class Analyser:
    """Runs ``analyse`` off the event loop with a deadline; failure is recorded, never fatal."""

    resolver: Resolver
    authserv_id: str
    limits: MimeLimits
    timeout: float

    async def analyse(self, raw: bytes, envelope: Envelope) -> Analysis:
        work = asyncio.to_thread(
            analyse,
            raw,
            envelope,
            resolver=self.resolver,
            authserv_id=self.authserv_id,
            limits=self.limits,
        )
        try:
            return await asyncio.wait_for(work, self.timeout)
        except TimeoutError:
            log.warning(
                "analysis took longer than %.1f s; storing the message unanalysed", self.timeout
            )
            return self.unanalysed(raw, envelope, "analysis_timeout")
        except Exception:  # the message is already ours: store it flagged, never drop it
            log.exception("analysis failed; storing the message unanalysed")
            return self.unanalysed(raw, envelope, "analysis_failed")

    def unanalysed(self, raw: bytes, envelope: Envelope, defect: str) -> Analysis:
        """A stand-in analysis: unparsed, authentication unknown (temperror), no findings."""
        results = AuthenticationResults(
            authserv_id=self.authserv_id,
            spf=SpfResult(
                result="temperror", domain=envelope.mail_from.rpartition("@")[2], scope="mailfrom"
            ),
            dmarc=DmarcResult(result="temperror", reason=defect),
            arc=ArcResult(result="none"),
        )
        message = StructuredMessage(invalid_mime=True, defects=(defect,))
        stamped = raw
        try:
            stamped = stamp(raw, results)
        except Exception:
            log.exception("could not stamp Authentication-Results; storing the bytes as received")
        return Analysis(stamped, message, results, ())
