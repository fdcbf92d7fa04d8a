"""Dispatch subscribers: the single egress for outbound mail (webhooks: ``dispatch.webhooks``)."""

from __future__ import annotations

import logging
import re
import time
from datetime import datetime
from email.policy import SMTP

from opentelemetry.trace import SpanKind
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.audit import record_audit
from mailmoat.common.caps import RECIPIENT_DAILY_CAP, WINDOW, WORKSPACE_DAILY_CAP
from mailmoat.common.consumer import PoisonEvent
from mailmoat.common.credits import OUTBOUND_SENT, charge
from mailmoat.common.db.tables import (
    Inbox,
    Message,
    OutboundMessage,
    RawMessage,
    SendReservation,
    Workspace,
)
from mailmoat.common.events import (
    InboxEventKind,
    MailSent,
    SendApproved,
)
from mailmoat.common.events.base import utcnow
from mailmoat.common.mail.structured import StructuredMessage
from mailmoat.common.observability.metrics import OUTBOUND_SENDS, observe_stage
from mailmoat.common.observability.tracing import tracer
from mailmoat.common.outbox import stage_event, stage_inbox_event
from mailmoat.common.standing import standing_refusal
from mailmoat.common.topics import Topic
from mailmoat.common.verp import VerpKey
from mailmoat.dispatch.adapters.relay import RelayResult, SmtpRelay
from mailmoat.dispatch.domain.compose import OutboundContent, compose_message
from mailmoat.dispatch.domain.signing import DkimKey, dkim_sign
from mailmoat.dispatch.settings import DispatchSettings

log = logging.getLogger(__name__)

PRODUCER = "dispatch"
# A msg-id as it may go into a header we write: no spaces, controls or nested brackets.
_MSG_ID = re.compile(r"^<[\x21-\x3b\x3d\x3f-\x7e]{1,900}>$")


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
        async with session.begin():
            content = await self._claim(event, session)
        if content is None:
            return
        started = time.perf_counter()
        message = compose_message(content, now=utcnow())
        message_id = str(message["Message-ID"])
        raw = message.as_bytes(policy=SMTP)
        domain = content.sender.rpartition("@")[2].lower()
        bounces_to = self._verp.address(content.outbound_id)
        with tracer().start_as_current_span("smtp send", kind=SpanKind.CLIENT) as span:
            result = await self._send(raw, domain, bounces_to, content)
            span.set_attribute("smtp.accepted", result.accepted)
        elapsed_ms = (time.perf_counter() - started) * 1000
        async with session.begin():
            await self._record(event, session, message_id, result, elapsed_ms)

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
        # Locked (PostgreSQL; SQLite's write transaction is exclusive): of two dispatchers given
        # the same approval, say across a rebalance, the second sees it already claimed.
        outbound = await session.get(
            OutboundMessage, event.mail_id, with_for_update=True, populate_existing=True
        )
        if outbound is None or outbound.workspace_id != event.workspace_id:
            raise PoisonEvent(f"outbound message {event.mail_id} not found")
        if outbound.status != "approved":
            return None  # already sending or settled: never send twice
        workspace = await session.get(Workspace, outbound.workspace_id)
        inbox = await session.get(Inbox, outbound.inbox_id)
        assert workspace is not None
        assert inbox is not None
        refusal = _capability(workspace, inbox) or await _ledger(session, outbound, utcnow())
        if refusal is not None:
            await _refuse(session, outbound, *refusal)
            _audit_send(session, outbound, "outbound.refused", provider=None)
            return None
        outbound.status = "sending"
        in_reply_to, references = await _thread_headers(session, outbound)
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

    async def _record(
        self,
        event: SendApproved,
        session: AsyncSession,
        message_id: str,
        result: RelayResult,
        elapsed_ms: float,
    ) -> None:
        outbound = await session.get(OutboundMessage, event.mail_id)
        assert outbound is not None
        status = "sent" if result.accepted else "failed"
        outbound.status = status
        outbound.relay_reply = result.reply
        outbound.smtp_message_id = message_id
        await _settle_reservations(session, outbound, status)
        OUTBOUND_SENDS.labels(status).inc()
        if result.accepted:  # a failed or refused send costs nothing
            await charge(session, outbound.workspace_id, OUTBOUND_SENT, outbound.id)
            observe_stage("approval_to_sent", event.occurred_at)
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
    stuck = list(
        await session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.status == "sending", OutboundMessage.updated_at < older_than)
            .limit(500)
            .with_for_update(skip_locked=True)
        )
    )
    for outbound in stuck:
        outbound.status = "failed"
        outbound.relay_reply = (
            "interrupted: dispatch stopped during the relay exchange; the outcome is unknown "
            "and the send is not retried"
        )
        await _settle_reservations(session, outbound, "unknown")
        _stage_outcome(session, outbound, outbound.relay_reply, 0.0)
        _audit_send(session, outbound, "outbound.failed", provider=provider)
    return len(stuck)


def _capability(workspace: Workspace, inbox: Inbox) -> tuple[str, str] | None:
    """The kill switch and the sender's standing, as they are now."""
    if not workspace.outbound_enabled:
        return "capability_disabled", "Outbound sending was turned off before it left"
    if (refusal := standing_refusal(workspace, inbox, utcnow())) is not None:
        return "capability_disabled", f"{refusal} (found at send time)"
    if inbox.deleted_at is not None:
        return "capability_disabled", "The sending inbox was deleted before it left"
    return None


async def _ledger(
    session: AsyncSession, outbound: OutboundMessage, now: datetime
) -> tuple[str, str] | None:
    """The send must hold a live reservation for every recipient, and the ledger must be within
    the caps with those reservations counted."""
    rows = list(
        await session.scalars(
            select(SendReservation).where(SendReservation.outbound_id == outbound.id)
        )
    )
    reserved = {row.recipient for row in rows if row.reserved_at > now - WINDOW}
    missing = sorted({r.lower() for r in outbound.recipients} - reserved)
    if missing:
        return "cap_exceeded", f"No live cap reservation for {', '.join(missing)}"
    mine = SendReservation.workspace_id == outbound.workspace_id
    live = SendReservation.reserved_at > now - WINDOW
    total = await session.scalar(
        select(func.count()).select_from(SendReservation).where(mine, live)
    )
    if (total or 0) > WORKSPACE_DAILY_CAP:
        return "cap_exceeded", f"The workspace's ledger holds {total} messages in 24 h"
    per_recipient = await session.execute(
        select(SendReservation.recipient, func.count())
        .where(mine, live, SendReservation.recipient.in_(sorted(reserved)))
        .group_by(SendReservation.recipient)
    )
    for recipient, count in per_recipient.all():
        if count > RECIPIENT_DAILY_CAP:
            return "cap_exceeded", f"Recipient '{recipient}' has {count} messages in 24 h"
    return None


async def _refuse(
    session: AsyncSession, outbound: OutboundMessage, code: str, message: str
) -> None:
    """Fail a send that no longer qualifies; it keeps its cap slot and never reaches the relay."""
    outbound.status = "failed"
    outbound.decision_code = code
    outbound.decision_message = message
    outbound.relay_reply = f"not sent: {message}"
    await _settle_reservations(session, outbound, "refused")
    OUTBOUND_SENDS.labels("refused").inc()
    _stage_outcome(session, outbound, outbound.relay_reply, 0.0)


async def _settle_reservations(
    session: AsyncSession, outbound: OutboundMessage, outcome: str
) -> None:
    await session.execute(
        update(SendReservation)
        .where(SendReservation.outbound_id == outbound.id)
        .values(outcome=outcome)
    )


def _stage_outcome(
    session: AsyncSession, outbound: OutboundMessage, reply: str, elapsed_ms: float
) -> None:
    status = "sent" if outbound.status == "sent" else "failed"
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


async def _thread_headers(
    session: AsyncSession, outbound: OutboundMessage
) -> tuple[str | None, tuple[str, ...]]:
    """In-Reply-To and References for a reply: the answered mail's Message-ID, after the
    references it carried itself."""
    if outbound.in_reply_to is None:
        return None, ()
    answered = await session.get(Message, outbound.in_reply_to)
    if answered is None or answered.workspace_id != outbound.workspace_id:
        return None, ()
    if answered.message_id_header is None or not _MSG_ID.match(answered.message_id_header):
        return None, ()
    raw = await session.get(RawMessage, answered.raw_id)
    earlier: tuple[str, ...] = ()
    if raw is not None and raw.structured is not None:
        parsed = StructuredMessage.model_validate(raw.structured)
        earlier = tuple(r for r in parsed.references if r != answered.message_id_header)
        if not earlier and parsed.in_reply_to:
            earlier = (parsed.in_reply_to,)
        earlier = tuple(r for r in earlier if _MSG_ID.match(r))
    return answered.message_id_header, (*earlier, answered.message_id_header)
