"""Dispatch subscribers: the single egress for outbound mail, webhooks and the audit stream."""

from __future__ import annotations

import logging
import re
import time
from datetime import datetime
from email.policy import SMTP

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

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
    AuditRecorded,
    InboxEvent,
    InboxEventKind,
    MailSent,
    SendApproved,
)
from mailmoat.common.events.base import utcnow
from mailmoat.common.mail.structured import StructuredMessage
from mailmoat.common.observability.metrics import OUTBOUND_SENDS, WEBHOOK_DELIVERIES
from mailmoat.common.outbox import stage_event
from mailmoat.common.topics import Topic
from mailmoat.dispatch.adapters.egress import EgressRefused, SafeEgress
from mailmoat.dispatch.adapters.relay import RelayResult, SmtpRelay
from mailmoat.dispatch.adapters.webhooks import WebhookError, inbox_webhook_secret, post_webhook
from mailmoat.dispatch.domain.compose import OutboundContent, compose_message, webhook_body
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
    send twice; a failure is final and reported, never retried."""

    def __init__(self, relay: SmtpRelay, settings: DispatchSettings) -> None:
        self._relay = relay
        self._keys = {
            domain.lower(): DkimKey.from_file(domain, key.selector, key.private_key_file)
            for domain, key in settings.dkim_keys.items()
        }
        self._dkim_required = settings.dkim_required

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
        if (key := self._keys.get(domain)) is not None:
            raw = dkim_sign(raw, key)
            result = await self._relay.send(raw, content.sender, list(content.recipients))
        elif self._dkim_required:
            result = RelayResult(False, f"not sent: no DKIM key for {domain}")
        else:
            result = await self._relay.send(raw, content.sender, list(content.recipients))
        elapsed_ms = (time.perf_counter() - started) * 1000
        async with session.begin():
            await self._record(event, session, message_id, result, elapsed_ms)

    async def _claim(self, event: SendApproved, session: AsyncSession) -> OutboundContent | None:
        outbound = await session.get(OutboundMessage, event.mail_id)
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
        _stage_outcome(session, outbound, result.reply, elapsed_ms)


async def fail_interrupted_sends(session: AsyncSession, older_than: datetime) -> int:
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
    return len(stuck)


def _capability(workspace: Workspace, inbox: Inbox) -> tuple[str, str] | None:
    """The kill switch and the sender's standing, as they are now."""
    if not workspace.outbound_enabled:
        return "capability_disabled", "Outbound sending was turned off before it left"
    if inbox.sending_status == "suspended":
        return "capability_disabled", "The sending inbox was suspended before it left"
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
    announced = InboxEvent(
        mail_id=outbound.id,
        workspace_id=outbound.workspace_id,
        inbox_id=outbound.inbox_id,
        kind=kind,
        message_id=outbound.id,
    )
    stage_event(session, Topic.INBOX_EVENTS, announced, producer=PRODUCER)


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


class WebhookNotifier:
    """POSTs each inbox event to the inbox's webhook URL, signed."""

    def __init__(self, egress: SafeEgress, settings: DispatchSettings) -> None:
        self._egress = egress
        self._key = settings.webhook_secret_key.get_secret_value().encode()

    async def on_inbox_event(self, event: InboxEvent, session: AsyncSession) -> None:
        async with session.begin():
            inbox = await session.get(Inbox, event.inbox_id)
        if inbox is None or inbox.workspace_id != event.workspace_id:
            raise PoisonEvent(f"inbox {event.inbox_id} not found")
        if not inbox.webhook_url:
            return
        body = webhook_body(
            kind=event.kind.value,
            message_id=event.message_id,
            inbox=inbox.address,
            occurred_at=event.occurred_at,
        )
        secret = inbox_webhook_secret(self._key, inbox.id)
        try:
            await post_webhook(
                self._egress,
                inbox.webhook_url,
                secret,
                f"msg_{event.event_id.hex}",
                int(event.occurred_at.timestamp()),
                body,
            )
        except EgressRefused as exc:
            # Retrying cannot help: the address is one Mailmoat may not call.
            WEBHOOK_DELIVERIES.labels("refused").inc()
            log.warning("webhook for inbox %s refused: %s", inbox.id, exc)
            return
        except WebhookError:
            WEBHOOK_DELIVERIES.labels("failed").inc()
            raise
        WEBHOOK_DELIVERIES.labels("delivered").inc()


async def on_audit(event: AuditRecorded, session: AsyncSession) -> None:
    """Audit stream consumer; fan-out to audit webhooks builds on this."""
    log.info("audit %s by %s on %s", event.action, event.actor, event.target)
