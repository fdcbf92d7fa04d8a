"""Dispatch subscribers: the single egress for outbound mail, webhooks and the audit stream."""

from __future__ import annotations

import logging
import re
import time

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.consumer import PoisonEvent
from mailmoat.common.credits import OUTBOUND_SENT, charge
from mailmoat.common.db.tables import Inbox, Message, OutboundMessage, RawMessage
from mailmoat.common.events import AuditRecorded, InboxEvent, MailSent, SendApproved
from mailmoat.common.events.base import utcnow
from mailmoat.common.mail.structured import StructuredMessage
from mailmoat.common.observability.metrics import OUTBOUND_SENDS, WEBHOOK_DELIVERIES
from mailmoat.common.outbox import stage_event
from mailmoat.common.topics import Topic
from mailmoat.dispatch.adapters.relay import RelayResult, SmtpRelay
from mailmoat.dispatch.adapters.webhooks import WebhookError, inbox_webhook_secret, post_webhook
from mailmoat.dispatch.domain.compose import OutboundContent, compose_message, webhook_body
from mailmoat.dispatch.settings import DispatchSettings

log = logging.getLogger(__name__)

PRODUCER = "dispatch"
# A msg-id as it may go into a header we write: no spaces, controls or nested brackets.
_MSG_ID = re.compile(r"^<[\x21-\x3b\x3d\x3f-\x7e]{1,900}>$")


class MailDispatcher:
    """Sends approved mail: the row is marked ``sending`` and committed before the relay is
    called, so a redelivered approval can never send twice."""

    def __init__(self, relay: SmtpRelay) -> None:
        self._relay = relay

    async def on_send_approved(self, event: SendApproved, session: AsyncSession) -> None:
        async with session.begin():
            content = await self._reserve(event, session)
        if content is None:
            return
        started = time.perf_counter()
        message = compose_message(content, now=utcnow())
        result = await self._relay.send(message, list(content.recipients))
        elapsed_ms = (time.perf_counter() - started) * 1000
        async with session.begin():
            await self._record(event, session, message["Message-ID"], result, elapsed_ms)

    async def _reserve(self, event: SendApproved, session: AsyncSession) -> OutboundContent | None:
        outbound = await session.get(OutboundMessage, event.mail_id)
        if outbound is None or outbound.workspace_id != event.workspace_id:
            raise PoisonEvent(f"outbound message {event.mail_id} not found")
        if outbound.status != "approved":
            return None  # already sending or settled: never send twice
        inbox = await session.get(Inbox, outbound.inbox_id)
        assert inbox is not None
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
        OUTBOUND_SENDS.labels(status).inc()
        if result.accepted:  # a failed or refused send costs nothing
            await charge(session, outbound.workspace_id, OUTBOUND_SENT, outbound.id)
        sent = MailSent(
            mail_id=outbound.id,
            workspace_id=outbound.workspace_id,
            inbox_id=outbound.inbox_id,
            status=status,
            recipients=tuple(outbound.recipients),
            relay_reply=result.reply,
            duration_ms=elapsed_ms,
        )
        stage_event(session, Topic.SENT, sent, producer=PRODUCER)


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

    def __init__(self, client: httpx.AsyncClient, settings: DispatchSettings) -> None:
        self._client = client
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
                self._client,
                inbox.webhook_url,
                secret,
                f"msg_{event.event_id.hex}",
                int(event.occurred_at.timestamp()),
                body,
            )
        except WebhookError:
            WEBHOOK_DELIVERIES.labels("failed").inc()
            raise
        WEBHOOK_DELIVERIES.labels("delivered").inc()


async def on_audit(event: AuditRecorded, session: AsyncSession) -> None:
    """Audit stream consumer; fan-out to audit webhooks builds on this."""
    log.info("audit %s by %s on %s", event.action, event.actor, event.target)
