"""Dispatch subscribers: the single egress for outbound mail, webhooks and the audit stream."""

from __future__ import annotations

import base64
import logging
import re
import time
import uuid
from datetime import datetime, timedelta
from email.policy import SMTP
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.audit import record_audit, subject_hash
from mailmoat.common.caps import RECIPIENT_DAILY_CAP, WINDOW, WORKSPACE_DAILY_CAP
from mailmoat.common.consumer import PoisonEvent
from mailmoat.common.credits import OUTBOUND_SENT, charge
from mailmoat.common.db.session import reading
from mailmoat.common.db.tables import (
    Inbox,
    Message,
    OutboundMessage,
    RawMessage,
    SendReservation,
    WebhookDelivery,
    WebhookEndpoint,
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
from mailmoat.common.mail.exposure import shown
from mailmoat.common.mail.structured import StructuredMessage
from mailmoat.common.observability.metrics import OUTBOUND_SENDS, WEBHOOK_DELIVERIES
from mailmoat.common.outbox import stage_event, stage_inbox_event
from mailmoat.common.standing import standing_refusal
from mailmoat.common.topics import Topic
from mailmoat.dispatch.adapters.egress import EgressRefused, SafeEgress
from mailmoat.dispatch.adapters.relay import RelayResult, SmtpRelay
from mailmoat.dispatch.adapters.webhooks import WebhookError, inbox_webhook_secret, post_webhook
from mailmoat.dispatch.domain.compose import OutboundContent, compose_message
from mailmoat.dispatch.domain.deliveries import delivery_id, next_attempt, render
from mailmoat.dispatch.domain.signing import DkimKey, dkim_sign
from mailmoat.dispatch.settings import DispatchSettings

log = logging.getLogger(__name__)

PRODUCER = "dispatch"
GONE = 410
RETRY_BATCH = 100
ATTEMPT_LEASE = timedelta(seconds=60)
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


class WebhookDispatcher:
    """Message events to the inbox's webhook URL and the workspace's message endpoints, and the
    audit stream to its audit endpoints, each signed the Standard Webhooks way.

    Each event owed to each target is a durable delivery row, tried at once and then on the
    retry schedule (over three days) until a 2xx. ``410 Gone``, or a schedule run out, disables
    the target and writes an audit event; a destination the SSRF guard refuses is not retried.
    """

    def __init__(self, egress: SafeEgress, settings: DispatchSettings) -> None:
        self._egress = egress
        self._key = settings.webhook_secret_key.get_secret_value().encode()

    async def on_inbox_event(self, event: InboxEvent, session: AsyncSession) -> None:
        kind = event.kind.value
        with reading():  # nobody listening is the common case: then nothing is written
            async with session.begin():
                inbox = await session.get(Inbox, event.inbox_id)
                if inbox is None or inbox.workspace_id != event.workspace_id:
                    raise PoisonEvent(f"inbox {event.inbox_id} not found")
                endpoints = await _endpoints(session, event.workspace_id, "message", kind)
                if not inbox.webhook_url and not endpoints:
                    return
                data = await _event_data(session, event, inbox)
        await self._deliver(session, event, kind, data, endpoints, inbox=inbox)

    async def on_audit(self, event: AuditRecorded, session: AsyncSession) -> None:
        data = {
            "action": event.action,
            "actor": event.actor,
            "source": event.source,
            "provider": event.provider,
            "target": event.target,
            "subject_sha256": event.subject_sha256,
            "audit_id": str(event.audit_id),
        }
        with reading():
            async with session.begin():
                endpoints = await _endpoints(session, event.workspace_id, "audit", None)
        if endpoints:
            await self._deliver(session, event, event.action, data, endpoints)

    async def _deliver(
        self,
        session: AsyncSession,
        event: InboxEvent | AuditRecorded,
        kind: str,
        data: dict[str, Any],
        endpoints: list[WebhookEndpoint],
        *,
        inbox: Inbox | None = None,
    ) -> None:
        """Owe the event to the inbox's URL (if any) and each endpoint in one transaction,
        then try each delivery at once."""
        async with session.begin():
            ids = []
            if inbox is not None and inbox.webhook_url:
                url = inbox.webhook_url
                ids.append(await _owe(session, event, kind, data, url=url, inbox_id=inbox.id))
            for endpoint in endpoints:
                ids.append(await _owe(session, event, kind, data, endpoint=endpoint))
        for owed_id in ids:
            if owed_id is not None:
                await self.attempt(session, owed_id)

    async def retry_due(self, session: AsyncSession, now: datetime) -> int:
        """Try the deliveries whose next attempt is due; returns how many were tried."""
        async with session.begin():
            due = list(
                await session.scalars(
                    select(WebhookDelivery.id)
                    .where(
                        WebhookDelivery.status == "pending",
                        WebhookDelivery.next_attempt_at <= now,
                    )
                    .order_by(WebhookDelivery.next_attempt_at)
                    .limit(RETRY_BATCH)
                )
            )
        for owed_id in due:
            await self.attempt(session, owed_id)
        return len(due)

    async def attempt(self, session: AsyncSession, owed_id: uuid.UUID) -> None:
        """One try of one delivery, recorded; never raises for the endpoint's failures."""
        async with session.begin():
            owed = await session.get(
                WebhookDelivery, owed_id, populate_existing=True, with_for_update=True
            )
            if owed is None or owed.status != "pending":
                return
            if owed.next_attempt_at is not None and owed.next_attempt_at > utcnow():
                return  # another attempt holds it, or it is not due
            secret = await self._secret(session, owed)
            if secret is None:  # the target was disabled or removed meanwhile
                owed.status = "abandoned"
                owed.last_error = "the endpoint is disabled or gone"
                return
            # Claimed for a while, so the retry loop leaves it to this attempt.
            owed.next_attempt_at = utcnow() + ATTEMPT_LEASE
            url, webhook_id, timestamp, body = (
                owed.url,
                owed.webhook_id,
                owed.timestamp,
                owed.payload,
            )
        status: int | None = None
        error: str | None = None
        try:
            status = await post_webhook(self._egress, url, secret, webhook_id, timestamp, body)
        except EgressRefused as exc:
            error = f"refused: {exc}"
        except WebhookError as exc:
            error = str(exc)
            status = exc.status
        async with session.begin():
            owed = await session.get(WebhookDelivery, owed_id, populate_existing=True)
            assert owed is not None
            await self._settle(session, owed, status, error)

    async def _settle(
        self, session: AsyncSession, owed: WebhookDelivery, status: int | None, error: str | None
    ) -> None:
        now = utcnow()
        owed.attempts += 1
        if error is None:
            owed.status, owed.delivered_at, owed.next_attempt_at = "delivered", now, None
            WEBHOOK_DELIVERIES.labels("delivered").inc()
            return
        owed.last_error = error[:2000]
        if error.startswith("refused:"):
            owed.status, owed.next_attempt_at = "abandoned", None
            WEBHOOK_DELIVERIES.labels("refused").inc()
            return
        WEBHOOK_DELIVERIES.labels("failed").inc()
        retry_at = None if status == GONE else next_attempt(owed.attempts, now)
        if retry_at is not None:
            owed.next_attempt_at = retry_at
            return
        owed.status, owed.next_attempt_at = "abandoned", None
        why = "answered 410 Gone" if status == GONE else f"failed {owed.attempts} attempts"
        await _disable_target(session, owed, why)

    async def _secret(self, session: AsyncSession, owed: WebhookDelivery) -> bytes | None:
        if owed.endpoint_id is not None:
            endpoint = await session.get(WebhookEndpoint, owed.endpoint_id)
            if endpoint is None or endpoint.disabled_at is not None:
                return None
            return base64.b64decode(endpoint.secret.removeprefix("whsec_"))
        inbox = await session.get(Inbox, owed.inbox_id)
        if inbox is None or inbox.webhook_url != owed.url:
            return None
        return inbox_webhook_secret(self._key, inbox.id)


async def _endpoints(
    session: AsyncSession, workspace_id: uuid.UUID, kind: str, event_type: str | None
) -> list[WebhookEndpoint]:
    rows = await session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.workspace_id == workspace_id,
            WebhookEndpoint.kind == kind,
            WebhookEndpoint.disabled_at.is_(None),
        )
    )
    return [e for e in rows if event_type is None or event_type in e.events]


async def _event_data(session: AsyncSession, event: InboxEvent, inbox: Inbox) -> dict[str, Any]:
    """What a message webhook says: the message or send it concerns, as the API shows it to an
    agent (``exposure.shown``: a withheld message without its subject or text). ``url`` fetches
    it whole; one deleted since is named by id alone."""
    if event.kind.value.startswith("sender."):  # reputation's word on the inbox as a sender
        return {
            "inbox": inbox.address,
            "status": event.kind.value.removeprefix("sender."),
            "reason": event.reason,
            "url": f"/api/v1/inboxes/{inbox.slug}",
        }
    data: dict[str, Any] = {"message_id": str(event.message_id), "inbox": inbox.address}
    if event.kind.value.startswith("message."):
        message = await session.get(Message, event.message_id)
        if message is None or message.workspace_id != event.workspace_id:
            return data
        view = shown(message)
        data |= {
            "url": f"/api/v1/messages/{message.id}",
            "status": message.status,
            "from": view.from_address,
            "subject": view.subject,
            "subject_sha256": subject_hash(message.subject),
            "consensus": message.consensus,
            "risk_score": message.risk_score,
            "risk_reasons": view.risk_reasons,
            "withheld_reason": view.withheld_reason,
            "received_at": message.received_at.isoformat(),
            "thread_id": None if message.thread_id is None else str(message.thread_id),
            "text": view.text,
        }
        return data
    outbound = await session.get(OutboundMessage, event.message_id)
    if outbound is None or outbound.workspace_id != event.workspace_id:
        return data
    data |= {
        "url": f"/api/v1/outbound/{outbound.id}",
        "status": outbound.status,
        "to": list(outbound.recipients),
        "subject": outbound.subject,
        "risk_score": outbound.risk_score,
        "error": outbound.error(),
    }
    return data


async def _owe(
    session: AsyncSession,
    event: InboxEvent | AuditRecorded,
    event_type: str,
    data: dict[str, Any],
    *,
    url: str | None = None,
    inbox_id: uuid.UUID | None = None,
    endpoint: WebhookEndpoint | None = None,
) -> uuid.UUID | None:
    """Record a delivery owed (once per event and target); its id, or None if already owed."""
    target = f"endpoint:{endpoint.id}" if endpoint is not None else f"inbox:{inbox_id}"
    owed_id = delivery_id(event.event_id, target)
    if await session.get(WebhookDelivery, owed_id) is not None:
        return None
    fmt = endpoint.format if endpoint is not None else "json"
    session.add(
        WebhookDelivery(
            id=owed_id,
            workspace_id=event.workspace_id,
            endpoint_id=endpoint.id if endpoint is not None else None,
            inbox_id=inbox_id,
            url=endpoint.url if endpoint is not None else str(url),
            webhook_id=f"msg_{owed_id.hex}",
            event_type=event_type,
            payload=render(fmt, event_type, event.occurred_at, data),
            timestamp=int(event.occurred_at.timestamp()),
            next_attempt_at=utcnow(),
        )
    )
    return owed_id


async def _disable_target(session: AsyncSession, owed: WebhookDelivery, why: str) -> None:
    """Stop calling a target that is gone or keeps failing, and say so in the audit log."""
    if owed.endpoint_id is not None:
        endpoint = await session.get(WebhookEndpoint, owed.endpoint_id)
        if endpoint is None or endpoint.disabled_at is not None:
            return
        endpoint.disabled_at = utcnow()
        endpoint.disabled_reason = why
        target = f"webhook:{endpoint.id}"
    else:
        inbox = await session.get(Inbox, owed.inbox_id)
        if inbox is None or inbox.webhook_url != owed.url:
            return
        inbox.webhook_url = None
        target = f"inbox:{inbox.slug}"
    record_audit(
        session,
        workspace_id=owed.workspace_id,
        mail_id=owed.id,
        action="webhook.disabled",
        actor="system:dispatch",
        source="webhooks",
        target=f"{target} ({owed.url}): {why}",
        producer=PRODUCER,
    )
