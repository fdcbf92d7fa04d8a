"""Outbound journey, last step: the single egress for outbound mail (webhooks: ``webhooks``)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from email.policy import SMTP

from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.audit import record_audit
from mailmoat.common.caps import CapLedger
from mailmoat.common.credits import OUTBOUND_SENT, charge
from mailmoat.common.db.tables import Inbox, OutboundMessage, Workspace
from mailmoat.common.events import InboxEventKind, MailSent, SendApproved
from mailmoat.common.events.base import utcnow
from mailmoat.common.mail.draft import content_sha256
from mailmoat.common.observability.committed import observe_stage_on_commit, on_commit
from mailmoat.common.observability.metrics import OUTBOUND_SENDS
from mailmoat.common.observability.tracing import tracer
from mailmoat.common.outbound_status import OutboundStatus
from mailmoat.common.outbox import stage_event, stage_inbox_event
from mailmoat.common.standing import standing_refusal
from mailmoat.common.subscription import Job
from mailmoat.common.topics import Topic
from mailmoat.common.verp import VerpKey
from mailmoat.dispatch.adapters import sends
from mailmoat.dispatch.adapters.relay import RelayResult, SmtpRelay
from mailmoat.dispatch.domain.compose import OutboundContent, compose_message
from mailmoat.dispatch.domain.signing import DkimKey, dkim_sign
from mailmoat.dispatch.settings import DispatchSettings

log = logging.getLogger(__name__)

PRODUCER = "dispatch"
CLAIM_BATCH = 20
"""Sends claimed in one transaction, at most: what a stop in the middle of a batch leaves
``sending`` (failed by the interrupted-send sweep, never retried)."""


@dataclass(frozen=True)
class Handed:
    """What became of a send at the relay: its Message-ID, the relay's answer, how long."""

    message_id: str
    result: RelayResult
    elapsed_ms: float


class MailDispatcher:
    """Sends approved mail, trusting nothing upstream for what can change: at the moment of
    sending it checks the kill switch, the sender's standing and the cap ledger again, and a
    send that no longer qualifies fails without reaching the relay. The row is marked
    ``sending`` and committed before the relay is called, so a redelivered approval can never
    send twice; a failure is final and reported, never retried. The envelope sender is the
    send's bounce address (``common.verp``), so bounces reach reputation, not the inbox."""

    def __init__(self, relay: SmtpRelay, settings: DispatchSettings) -> None:
        self._relay = relay
        self._verp = VerpKey.derive(
            settings.webhook_secret_key.get_secret_value(), settings.mail_domain
        )
        self._keys = {
            domain.lower(): DkimKey.from_file(domain, key.selector, key.private_key_file)
            for domain, key in settings.dkim_keys.items()
        }
        self._dkim_required = settings.dkim_required
        self.provider = relay_provider(settings)

    async def on_send_approved(self, event: SendApproved, session: AsyncSession) -> None:
        """One approved send: claimed and committed, handed to the relay, its outcome recorded."""
        async with session.begin():
            content = await self._claim(event, session)
        if content is None:
            return
        handed = await self._hand(content)
        async with session.begin():
            await self._record(event, session, handed)

    async def on_approved_batch(self, jobs: list[Job[SendApproved]], session: AsyncSession) -> None:
        """Approved sends a few at a time: each few claimed in one transaction, committed
        before the relay is called for any of them (as one send's claim is), handed to the
        relay in turn, and their outcomes recorded in one transaction."""
        for at in range(0, len(jobs), CLAIM_BATCH):
            claimed: list[tuple[Job[SendApproved], OutboundContent]] = []
            async with session.begin():
                for job in jobs[at : at + CLAIM_BATCH]:
                    with job.traced():
                        if (content := await self._claim(job.event, session)) is not None:
                            claimed.append((job, content))
            handed = []
            for job, content in claimed:
                with job.traced():
                    handed.append(await self._hand(content))
            async with session.begin():
                for (job, _), outcome in zip(claimed, handed, strict=True):
                    with job.traced():
                        await self._record(job.event, session, outcome)

    async def _hand(self, content: OutboundContent) -> Handed:
        """Compose, sign and hand one claimed send to the relay. Whatever goes wrong is its
        outcome: a claimed send always gets one recorded."""
        started = time.perf_counter()
        message_id = ""
        with tracer().start_as_current_span("smtp send", kind=SpanKind.CLIENT) as span:
            try:
                message = compose_message(content, now=utcnow())
                message_id = str(message["Message-ID"])
                raw = message.as_bytes(policy=SMTP)
                domain = content.sender.rpartition("@")[2].lower()
                bounces_to = self._verp.address(content.outbound_id)
                result = await self._send(raw, domain, bounces_to, content)
            except Exception as exc:
                log.exception("send %s could not be handed to the relay", content.outbound_id)
                result = RelayResult(False, f"not sent: {type(exc).__name__}: {exc}")
            span.set_attribute("smtp.accepted", result.accepted)
        return Handed(message_id, result, (time.perf_counter() - started) * 1000)

    async def _send(
        self, raw: bytes, domain: str, bounces_to: str, content: OutboundContent
    ) -> RelayResult:
        """Sign with the domain's DKIM key and hand to the relay; unsigned only where allowed."""
        if (key := self._keys.get(domain)) is not None:
            return await self._relay.send(dkim_sign(raw, key), bounces_to, list(content.recipients))
        if self._dkim_required:
            return RelayResult(False, f"not sent: no DKIM key for {domain}")
        return await self._relay.send(raw, bounces_to, list(content.recipients))

    async def _claim(self, event: SendApproved, session: AsyncSession) -> OutboundContent | None:
        claimed = await sends.claim(session, event.workspace_id, event.mail_id)
        if claimed is None:
            return None  # already sending or settled: never send twice
        outbound, inbox = claimed.outbound, claimed.inbox
        now = utcnow()
        ledger = CapLedger(session, outbound.workspace_id)
        refusal = _capability(claimed.workspace, inbox, now) or _not_as_approved(outbound)
        if refusal is None and (
            over := await ledger.refusal(outbound.id, outbound.recipients, now)
        ):
            refusal = ("cap_exceeded", over)
        if refusal is not None:
            await _refuse(session, outbound, *refusal)
            _audit_send(session, outbound, "outbound.refused", provider=None)
            return None
        outbound.status = OutboundStatus.SENDING
        in_reply_to, references = await sends.thread_headers(session, outbound)
        return OutboundContent(
            outbound_id=outbound.id,
            sender=inbox.address,
            recipients=tuple(outbound.recipients),
            subject=outbound.subject,
            text=outbound.text,
            html=outbound.html,
            in_reply_to=in_reply_to,
            references=references,
        )

    async def _record(self, event: SendApproved, session: AsyncSession, handed: Handed) -> None:
        message_id, result, elapsed_ms = handed.message_id, handed.result, handed.elapsed_ms
        outbound = await sends.sending(session, event.mail_id)
        status = OutboundStatus.SENT if result.accepted else OutboundStatus.FAILED
        outbound.status = status
        outbound.relay_reply = result.reply
        outbound.smtp_message_id = message_id or None
        await CapLedger(session, outbound.workspace_id).settle(outbound.id, status)
        on_commit(session, OUTBOUND_SENDS.labels(status).inc)
        if result.accepted:  # a failed or refused send costs nothing
            await charge(session, outbound.workspace_id, OUTBOUND_SENT, outbound.id)
            observe_stage_on_commit(session, "approval_to_sent", event.occurred_at)
        _stage_outcome(session, outbound, result.reply, elapsed_ms)
        _audit_send(session, outbound, f"outbound.{status}", provider=self.provider)


def relay_provider(settings: DispatchSettings) -> str:
    """How the audit log names the relay a send went to."""
    return f"smtp:{settings.relay_host}:{settings.relay_port}"


def _audit_send(
    session: AsyncSession, outbound: OutboundMessage, action: str, *, provider: str | None
) -> None:
    """The durable record of a send's outcome, and its copy for the audit webhooks: the
    recipients, the relay, the path the send came by and the subject's hash."""
    record_audit(
        session,
        workspace_id=outbound.workspace_id,
        mail_id=outbound.id,
        action=action,
        actor="system:dispatch",
        source=outbound.source,
        target=",".join(outbound.recipients),
        producer=PRODUCER,
        subject=outbound.subject,
        provider=provider,
    )


async def fail_interrupted_sends(
    session: AsyncSession, older_than: datetime, *, provider: str | None = None
) -> int:
    """Sends left ``sending`` by a dispatcher that stopped mid-exchange: the relay may or may
    not have taken them, so they are not retried (that could send twice) but failed, saying so.
    Returns how many."""
    stuck = await sends.interrupted(session, older_than)
    for outbound in stuck:
        outbound.status = OutboundStatus.FAILED
        outbound.relay_reply = (
            "interrupted: dispatch stopped during the relay exchange; the outcome is unknown "
            "and the send is not retried"
        )
        await CapLedger(session, outbound.workspace_id).settle(outbound.id, "unknown")
        _stage_outcome(session, outbound, outbound.relay_reply, 0.0)
        _audit_send(session, outbound, "outbound.failed", provider=provider)
    return len(stuck)


def _capability(workspace: Workspace, inbox: Inbox, now: datetime) -> tuple[str, str] | None:
    """The kill switch and the sender's standing, as they are now."""
    if not workspace.outbound_enabled:
        return "capability_disabled", "Outbound sending was turned off before it left"
    if (refusal := standing_refusal(workspace, inbox, now)) is not None:
        return "capability_disabled", f"{refusal} (found at send time)"
    if inbox.deleted_at is not None:
        return "capability_disabled", "The sending inbox was deleted before it left"
    return None


def _not_as_approved(outbound: OutboundMessage) -> tuple[str, str] | None:
    """A draft that is not the one approved (changed after policy, or a person, approved it)
    never leaves."""
    leaving = content_sha256(outbound.recipients, outbound.subject, outbound.text, outbound.html)
    if leaving == outbound.approved_sha256:
        return None
    return "approval_mismatch", "The draft changed after it was approved"


async def _refuse(
    session: AsyncSession, outbound: OutboundMessage, code: str, message: str
) -> None:
    """Fail a send that no longer qualifies; it keeps its cap slot and never reaches the relay."""
    outbound.status = OutboundStatus.FAILED
    outbound.decision_code = code
    outbound.decision_message = message
    outbound.relay_reply = f"not sent: {message}"
    await CapLedger(session, outbound.workspace_id).settle(outbound.id, "refused")
    on_commit(session, OUTBOUND_SENDS.labels("refused").inc)
    _stage_outcome(session, outbound, outbound.relay_reply, 0.0)


def _stage_outcome(
    session: AsyncSession, outbound: OutboundMessage, reply: str, elapsed_ms: float
) -> None:
    status = "sent" if outbound.status == OutboundStatus.SENT else "failed"
    sent = MailSent(
        mail_id=outbound.id,
        workspace_id=outbound.workspace_id,
        inbox_id=outbound.inbox_id,
        status=status,
        recipients=tuple(outbound.recipients),
        relay_reply=reply,
        duration_ms=elapsed_ms,
    )
    stage_event(session, Topic.SENT, sent, producer=PRODUCER)
    kind = InboxEventKind.OUTBOUND_SENT if status == "sent" else InboxEventKind.OUTBOUND_FAILED
    stage_inbox_event(session, kind, outbound, producer=PRODUCER)
