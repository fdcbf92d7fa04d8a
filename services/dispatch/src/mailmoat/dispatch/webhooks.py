"""Webhook subscribers: what each message event and audit event owes to the inbox's webhook URL
and the workspace's endpoints. The consumers only record deliveries owed; the delivery worker
(``dispatch.delivery``) makes the attempts, so no endpoint can hold a consumer."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.audit import subject_hash
from mailmoat.common.db.session import reading
from mailmoat.common.db.tables import (
    Inbox,
    Message,
    OutboundMessage,
    WebhookDelivery,
    WebhookEndpoint,
)
from mailmoat.common.deliveries import delivery_id
from mailmoat.common.events import AuditRecorded, InboxEvent
from mailmoat.common.events.base import utcnow
from mailmoat.common.mail.exposure import shown
from mailmoat.common.observability.tracing import current_trace_headers
from mailmoat.common.subscription import Job, PoisonEvent
from mailmoat.dispatch.domain.deliveries import render
from mailmoat.dispatch.domain.fairness import Due, target_of
from mailmoat.dispatch.domain.payloads import (
    AuditData,
    MessageData,
    Named,
    OutboundData,
    Payload,
    SenderData,
)

HandOver = Callable[[list[Due]], None]
Target = tuple[str, Inbox | WebhookEndpoint]
"""Where a delivery goes: the URL, and the inbox or endpoint it belongs to."""


class WebhookDispatcher:
    """Message events to the inbox's webhook URL and the workspace's message endpoints, and the
    audit stream to its audit endpoints.

    Each event owed to each target is a durable delivery row, committed by the consumer and then
    handed over to the delivery worker, which tries it at once and then on the retry schedule
    (over three days) until a 2xx. A row handed over but never tried (a crash) is found again
    by the worker's poll: at least once."""

    def __init__(self, hand_over: HandOver) -> None:
        self._hand_over = hand_over

    async def on_inbox_event(self, event: InboxEvent, session: AsyncSession) -> None:
        await self.on_inbox_events([Job.alone(event)], session)

    async def on_inbox_events(self, jobs: list[Job[InboxEvent]], session: AsyncSession) -> None:
        """A batch of message events: one read for their inboxes and their workspaces'
        endpoints (and each listened-to event's message), one write for every delivery owed.
        An event whose inbox is unknown is left out and, once the rest are owed, raised for
        the one-by-one path, which dead-letters it (the others find their rows owed already)."""
        unknown: list[uuid.UUID] = []
        rows: list[WebhookDelivery] = []
        with reading():  # nobody listening is the common case: then nothing is written
            async with session.begin():
                ids = {job.event.inbox_id for job in jobs}
                found = await session.scalars(select(Inbox).where(Inbox.id.in_(ids)))
                inboxes = {inbox.id: inbox for inbox in found}
                workspaces = {job.event.workspace_id for job in jobs}
                endpoints = await _endpoints_of(session, workspaces, "message")
                for job in jobs:
                    event, kind = job.event, job.event.kind.value
                    inbox = inboxes.get(event.inbox_id)
                    if inbox is None or inbox.workspace_id != event.workspace_id:
                        unknown.append(event.inbox_id)
                        continue
                    listening = [
                        e for e in endpoints.get(event.workspace_id, []) if kind in e.events
                    ]
                    if not inbox.webhook_url and not listening:
                        continue
                    with job.traced():
                        data = await _event_data(session, event, inbox)
                        rows += _owed(event, kind, data, _targets(listening, inbox))
        await self._owe(session, rows)
        if unknown:
            raise PoisonEvent(f"inbox {', '.join(map(str, unknown))} not found")

    async def on_audit(self, event: AuditRecorded, session: AsyncSession) -> None:
        await self.on_audits([Job.alone(event)], session)

    async def on_audits(self, jobs: list[Job[AuditRecorded]], session: AsyncSession) -> None:
        """A batch of audit events: one read for their workspaces' audit endpoints, one write
        for every delivery owed."""
        with reading():
            async with session.begin():
                workspaces = {job.event.workspace_id for job in jobs}
                subscribed = await _endpoints_of(session, workspaces, "audit")
        rows: list[WebhookDelivery] = []
        for job in jobs:
            event = job.event
            endpoints = [
                e
                for e in subscribed.get(event.workspace_id, [])
                if audit_subscribed(e.events, event.action)
            ]
            if endpoints:
                with job.traced():
                    rows += _owed(event, event.action, _audit_data(event), _targets(endpoints))
        await self._owe(session, rows)

    async def _owe(self, session: AsyncSession, rows: list[WebhookDelivery]) -> None:
        """Owe ``rows`` in one transaction (one read for what a redelivered event already
        owes), then hand what is newly owed to the delivery worker; nothing owed, nothing
        written."""
        if not rows:
            return
        async with session.begin():
            ids = [row.id for row in rows]
            query = select(WebhookDelivery.id).where(WebhookDelivery.id.in_(ids))
            known = set(await session.scalars(query))
            new = [row for row in rows if row.id not in known]
            session.add_all(new)
        self._hand_over([Due(row.id, row.workspace_id, target_of(row.url)) for row in new])


def _targets(endpoints: list[WebhookEndpoint], inbox: Inbox | None = None) -> list[Target]:
    """The inbox's own URL (if any), then each endpoint's."""
    targets: list[Target] = [(endpoint.url, endpoint) for endpoint in endpoints]
    if inbox is not None and inbox.webhook_url:
        targets.insert(0, (inbox.webhook_url, inbox))
    return targets


def _audit_data(event: AuditRecorded) -> AuditData:
    return AuditData(
        action=event.action,
        actor=event.actor,
        source=event.source,
        provider=event.provider,
        target=event.target,
        subject_sha256=event.subject_sha256,
        audit_id=str(event.audit_id),
    )


def audit_subscribed(patterns: list[str], action: str) -> bool:
    """Whether an audit endpoint's ``events`` take ``action``: ``*``, the action itself, or a
    family (``outbound.*`` takes ``outbound.sent`` and ``outbound.approval.timed_out``)."""
    for pattern in patterns:
        if pattern in ("*", action):
            return True
        if pattern.endswith(".*") and action.startswith(pattern[:-1]):
            return True
    return False


async def _endpoints_of(
    session: AsyncSession, workspace_ids: set[uuid.UUID], kind: str
) -> dict[uuid.UUID, list[WebhookEndpoint]]:
    """The enabled endpoints of ``kind`` of each workspace, in one query."""
    rows = await session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.workspace_id.in_(workspace_ids),
            WebhookEndpoint.kind == kind,
            WebhookEndpoint.disabled_at.is_(None),
        )
    )
    by_workspace: dict[uuid.UUID, list[WebhookEndpoint]] = {}
    for endpoint in rows:
        by_workspace.setdefault(endpoint.workspace_id, []).append(endpoint)
    return by_workspace


async def _event_data(session: AsyncSession, event: InboxEvent, inbox: Inbox) -> Payload:
    """What a message webhook says: the message or send it concerns, as the API shows it to an
    agent (``exposure.shown``: a withheld message without its subject or text). ``url`` fetches
    it whole; one deleted since is named by id alone."""
    if event.kind.value.startswith("sender."):  # reputation's word on the inbox as a sender
        return SenderData(
            inbox=inbox.address,
            status=event.kind.value.removeprefix("sender."),
            reason=event.reason,
            url=f"/api/v1/inboxes/{inbox.slug}",
        )
    named = Named(message_id=str(event.message_id), inbox=inbox.address)
    if event.kind.value.startswith("message."):
        message = await session.get(Message, event.message_id)
        if message is None or message.workspace_id != event.workspace_id:
            return named
        view = shown(message)
        return MessageData(
            **named.model_dump(),
            url=f"/api/v1/messages/{message.id}",
            status=message.status,
            from_address=view.from_address,
            subject=view.subject,
            subject_sha256=subject_hash(message.subject),
            consensus=message.consensus,
            risk_score=message.risk_score,
            risk_reasons=view.risk_reasons,
            withheld_reason=view.withheld_reason,
            received_at=message.received_at.isoformat(),
            thread_id=None if message.thread_id is None else str(message.thread_id),
            text=view.text,
        )
    outbound = await session.get(OutboundMessage, event.message_id)
    if outbound is None or outbound.workspace_id != event.workspace_id:
        return named
    return OutboundData(
        **named.model_dump(),
        url=f"/api/v1/outbound/{outbound.id}",
        status=outbound.status,
        to=list(outbound.recipients),
        subject=outbound.subject,
        risk_score=outbound.risk_score,
        error=outbound.error(),
    )


def _owed(
    event: InboxEvent | AuditRecorded, event_type: str, data: Payload, targets: list[Target]
) -> list[WebhookDelivery]:
    """A delivery owed now for each target (an inbox's URL or an endpoint), its id derived from
    the event and the target. Its ``timestamp`` is the event's until an attempt signs it with
    its own."""
    bodies: dict[str, bytes] = {}  # one rendering per format, however many endpoints share it
    rows = []
    for url, target in targets:
        endpoint = target if isinstance(target, WebhookEndpoint) else None
        fmt = endpoint.format if endpoint is not None else "json"
        if fmt not in bodies:
            bodies[fmt] = render(fmt, event_type, event.occurred_at, data)
        kind = "endpoint" if endpoint is not None else "inbox"
        owed_id = delivery_id(event.event_id, f"{kind}:{target.id}")
        rows.append(
            WebhookDelivery(
                id=owed_id,
                workspace_id=event.workspace_id,
                endpoint_id=endpoint.id if endpoint is not None else None,
                inbox_id=None if endpoint is not None else target.id,
                url=url,
                webhook_id=f"msg_{owed_id.hex}",
                event_type=event_type,
                payload=bodies[fmt],
                timestamp=int(event.occurred_at.timestamp()),
                next_attempt_at=utcnow(),
                trace_context=current_trace_headers() or None,
            )
        )
    return rows
