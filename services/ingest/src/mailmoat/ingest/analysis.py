"""What ingest learns about a message before storing it: structure, L1 findings, authentication.

The analysis runs in two stages so that a late failure never undoes what was already learnt:
1. parse and L1 checks: no DNS, CPU bounded by the MIME limits and the checks' scan caps;
2. authentication (SPF, DKIM, ARC, DMARC), every lookup charged to a per-mail DNS budget.
An analysis that fails (raises, times out, runs out of DNS budget) fails closed: the message
keeps whatever stage 1 found and is quarantined with the reason ``analysis_failed``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from mailmoat.common.events.inbound import Finding
from mailmoat.common.mail import structured
from mailmoat.common.mail.auth import ArcResult, AuthenticationResults, DmarcResult, SpfResult
from mailmoat.common.mail.structured import StructuredMessage
from mailmoat.ingest.adapters.dns import Resolver, TimedResolver
from mailmoat.ingest.adapters.dns.budget import BudgetedResolver, DnsAllowance, DnsBudget
from mailmoat.ingest.auth.header import stamp
from mailmoat.ingest.auth.pipeline import authenticate
from mailmoat.ingest.domain.checks import run_checks
from mailmoat.ingest.domain.mime import MimeLimits, parse_message
from mailmoat.ingest.domain.parts import PartPayload

if TYPE_CHECKING:
    from mailmoat.ingest.adapters.store import Envelope

log = logging.getLogger(__name__)

ANALYSIS_FAILED = structured.ANALYSIS_FAILED
"""Defect code and quarantine reason code of every message whose analysis did not complete."""
BLOCKED_SENDER = "blocked_sender"
DMARC_QUARANTINE = "dmarc_quarantine"

Failure = Literal["analysis_timeout", "analysis_error", "dns_budget_exhausted"]
"""Why an analysis did not complete: past its deadline, an exception, or out of DNS budget."""

CheckRunner = Callable[[Sequence[PartPayload]], tuple[Finding, ...]]


@dataclass(frozen=True)
class Analysis:
    """The stamped copy we store and everything the later stages need to know about it."""

    stored_raw: bytes
    message: StructuredMessage
    authentication: AuthenticationResults
    findings: tuple[Finding, ...]
    failure: Failure | None = None

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
        """Why this copy must wait for a person, as codes of ours (never the sender's text,
        such as a file name: the reason is shown to the agent), or ``None`` when it may go on."""
        codes = [BLOCKED_SENDER] if blocked else []
        codes += [ANALYSIS_FAILED] if self.failure is not None else []
        codes += list(dict.fromkeys(f.code for f in self.findings))
        if self.authentication.dmarc.disposition == "quarantine":
            codes.append(DMARC_QUARANTINE)
        return ", ".join(codes) or None


@dataclass(frozen=True)
class Checked:
    """Stage 1's result, kept whatever happens to authentication afterwards."""

    message: StructuredMessage
    findings: tuple[Finding, ...]
    failure: Failure | None = None


def check(raw: bytes, limits: MimeLimits, checks: CheckRunner = run_checks) -> Checked:
    """Stage 1: parse and run the L1 checks; needs no DNS. Checks that raise fail the analysis."""
    parsed = parse_message(raw, limits)
    try:
        return Checked(parsed.message, checks(parsed.parts))
    except Exception:  # fail closed: mail whose parts went unchecked is quarantined, not passed
        log.exception("L1 checks raised; the message is quarantined")
        return Checked(parsed.message, (), "analysis_error")


def analyse(
    raw: bytes, envelope: Envelope, *, resolver: Resolver, authserv_id: str, limits: MimeLimits
) -> Analysis:
    """Both stages in the calling thread, with no deadline beyond the resolver's own timeouts."""
    checked = check(raw, limits)
    results = _authenticate(raw, envelope, resolver, authserv_id)
    return concluded(raw, checked, results, checked.failure)


def concluded(
    raw: bytes, checked: Checked, results: AuthenticationResults, failure: Failure | None
) -> Analysis:
    """The analysis to store: ``raw`` stamped with ``results``, a failure among the defects."""
    message = checked.message if failure is None else _flagged(checked.message, failure)
    return Analysis(stamp(raw, results), message, results, checked.findings, failure)


@dataclass
class _Job:
    """One message on its way through a worker; ``checked`` is set as soon as stage 1 is done,
    so a caller that stops waiting still gets the parse and the findings."""

    raw: bytes
    envelope: Envelope
    budget: DnsBudget
    checked: Checked | None = None


@dataclass(frozen=True)
class Analyser:
    """Runs the stages on a dedicated, bounded pool with a deadline; a failure quarantines.

    Why the pool cannot be exhausted: a message holds a worker for its stage 1 (CPU bounded by
    the MIME limits and the checks' scan caps) and its DNS, whose budget starts at submission and
    ends before ``timeout``: each query's lifetime is what is left of the budget, and once it is
    spent every lookup is refused at once. So a worker waiting on DNS that never answers is free
    shortly after the budget's deadline (the resolver's last retry pause, then the CPU to finish
    verifying), before the caller's deadline. A message still queued when its deadline passes is
    cancelled before it starts; one that starts after its budget ran out skips authentication.
    One client has at most one message in analysis per connection, so with more workers than
    connections per client (the settings insist) it cannot hold them all.
    """

    resolver: TimedResolver
    authserv_id: str
    limits: MimeLimits
    timeout: float
    dns: DnsAllowance
    pool: Executor
    checks: CheckRunner = run_checks

    def __post_init__(self) -> None:
        if self.dns.seconds >= self.timeout:
            raise ValueError("the DNS budget must end before the analysis deadline")

    async def analyse(self, raw: bytes, envelope: Envelope) -> Analysis:
        """The analysis of ``raw``, within ``timeout``; never raises."""
        job = _Job(raw, envelope, self.dns.start())
        try:
            work = asyncio.get_running_loop().run_in_executor(self.pool, self._run, job)
            return await asyncio.wait_for(work, self.timeout)
        except TimeoutError:
            log.warning("analysis took longer than %.1f s; quarantining the message", self.timeout)
            return self._failed(job, "analysis_timeout")
        except Exception:  # the message is already ours: store it quarantined, never drop it
            log.exception("analysis failed; quarantining the message")
            return self._failed(job, "analysis_error")

    async def close(self) -> None:
        """Stop taking work; a running analysis ends by itself within its DNS budget."""
        self.pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, job: _Job) -> Analysis:
        job.checked = check(job.raw, self.limits, self.checks)
        if job.budget.spent():  # stage 1 used up the time: authentication could ask nothing
            return self._failed(job, job.checked.failure or "dns_budget_exhausted")
        resolver = BudgetedResolver(self.resolver, job.budget)
        results = _authenticate(job.raw, job.envelope, resolver, self.authserv_id)
        failure = job.checked.failure or _budget_failure(job.budget)
        return concluded(job.raw, job.checked, results, failure)

    def _failed(self, job: _Job, failure: Failure) -> Analysis:
        """Stage 1's result if it finished (else an unparsed stand-in), authentication unknown."""
        results = _unknown(self.authserv_id, job.envelope, failure)
        checked = job.checked or Checked(StructuredMessage(invalid_mime=True), ())
        message = _flagged(checked.message, failure)
        return Analysis(_stamped(job.raw, results), message, results, checked.findings, failure)


def _authenticate(
    raw: bytes, envelope: Envelope, resolver: Resolver, authserv_id: str
) -> AuthenticationResults:
    return authenticate(
        raw,
        client_ip=envelope.client_ip,
        helo=envelope.helo,
        mail_from=envelope.mail_from,
        resolver=resolver,
        authserv_id=authserv_id,
    )


def _budget_failure(budget: DnsBudget) -> Failure | None:
    if not budget.exhausted:
        return None
    log.warning("DNS budget spent after %d queries; quarantining the message", budget.queries)
    return "dns_budget_exhausted"


def _flagged(message: StructuredMessage, failure: Failure) -> StructuredMessage:
    """``message`` with the failure among its defects, for the scanner to see."""
    defects = tuple(dict.fromkeys((*message.defects, ANALYSIS_FAILED, failure)))
    return message.model_copy(update={"defects": defects})


def _unknown(authserv_id: str, envelope: Envelope, failure: Failure) -> AuthenticationResults:
    """Authentication that never ran or never finished: temperror, so DMARC decides nothing."""
    return AuthenticationResults(
        authserv_id=authserv_id,
        spf=SpfResult(
            result="temperror", domain=envelope.mail_from.rpartition("@")[2], scope="mailfrom"
        ),
        dmarc=DmarcResult(result="temperror", reason=failure),
        arc=ArcResult(result="none"),
    )


def _stamped(raw: bytes, results: AuthenticationResults) -> bytes:
    try:
        return stamp(raw, results)
    except Exception:  # already quarantined: keep the bytes rather than lose the message
        log.exception("could not stamp Authentication-Results; storing the bytes as received")
        return raw
