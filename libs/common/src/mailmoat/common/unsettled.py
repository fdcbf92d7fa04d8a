"""Which published events some consumer owed them has not taken: the redrive's question.

A consumer group that records what it takes (``processed_events``) owes each event of its topics
until it records it or dead-letters it; the policy and dispatch consumers that record nothing of
their own owe a send's event while the send is still in the status it was published in; and the
webhook consumer owes an inbox event until every delivery it implies is recorded. Of a topic whose
consumers only want a key's latest state, an older event superseded by a newer one is owed to
nobody.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.tables import (
    DeadLetter,
    Inbox,
    OutboundMessage,
    OutboxRecord,
    ProcessedEvent,
    WebhookDelivery,
    WebhookEndpoint,
)
from mailmoat.common.deliveries import delivery_id
from mailmoat.common.events import InboxEvent
from mailmoat.common.outbound_status import OutboundStatus
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic

OWED_GROUPS: dict[Topic, tuple[str, ...]] = {
    Topic.RAW_MAIL: ("scanner-primary", "scanner-checker", "scanner-consensus-intake"),
    Topic.SCAN_VERDICTS: ("scanner-consensus",),
    Topic.SCANNED_MAIL: ("policy-inbound", "reputation-scanned"),
    Topic.SENT: ("reputation-sent",),
    Topic.FEEDBACK: ("reputation-feedback",),
    Topic.SENDER_STATUS: ("policy-sender-status", "reputation-sender-status"),
    Topic.INBOX_EVENTS: ("reputation-releases",),
}
"""The consumer groups that record each event they take (``processed_events``), by topic."""

AWAITED_STATUS: dict[Topic, str] = {
    Topic.SEND_REQUESTED: OutboundStatus.REQUESTED,
    Topic.SEND_APPROVED: OutboundStatus.APPROVED,
}
"""Topics whose consumer records nothing of its own (policy-outbound, dispatch-mail): the event
is taken once its send has left the status it was published in."""

LATEST_ONLY = frozenset({Topic.SENDER_STATUS, Topic.SEND_REQUESTED, Topic.SEND_APPROVED})
WEBHOOKS_GROUP = "dispatch-webhooks"
"""Not redriven: ``send-decisions`` answers API calls waiting now (a late answer helps nobody),
``audit`` feeds audit endpoints (the audit log itself is in the database) and ``sender-graph``
is a compacted view whose latest state is republished by its next change."""


async def unsettled(
    session: AsyncSession, settings: CommonSettings, rows: Sequence[OutboxRecord]
) -> set[int]:
    """The ids of ``rows`` whose event some consumer owed it has not taken."""
    by_topic: dict[str, list[OutboxRecord]] = defaultdict(list)
    for row in rows:
        by_topic[row.topic].append(row)
    waiting: set[int] = set()
    for name, group in by_topic.items():
        try:
            topic = Topic(name)
        except ValueError:
            continue
        found: set[int] = set()
        for consumer in OWED_GROUPS.get(topic, ()):
            found |= await _not_processed(session, settings.group(consumer), group)
        if topic in AWAITED_STATUS:
            found |= await _send_waiting(session, AWAITED_STATUS[topic], group)
        if topic is Topic.INBOX_EVENTS:
            found |= await _webhooks_owed(session, settings.group(WEBHOOKS_GROUP), group)
        if topic in LATEST_ONLY and found:
            found -= await _superseded(session, topic, [r for r in group if r.id in found])
        waiting |= found
    return waiting


async def _not_processed(
    session: AsyncSession, consumer: str, rows: Sequence[OutboxRecord]
) -> set[int]:
    events = [row.event_id for row in rows]
    taken = set(
        await session.scalars(
            select(ProcessedEvent.event_id).where(
                ProcessedEvent.consumer == consumer, ProcessedEvent.event_id.in_(events)
            )
        )
    )
    missing = [event for event in events if event not in taken]
    if missing:
        taken |= await _dead_lettered(session, consumer, missing)
    return {row.id for row in rows if row.event_id not in taken}


async def _dead_lettered(
    session: AsyncSession, consumer: str, events: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """Events ``consumer`` dead-lettered: they wait for ``mailmoat dlq replay``, not redrive."""
    query = select(DeadLetter.event_id).where(
        DeadLetter.consumer == consumer, DeadLetter.event_id.in_(list(events))
    )
    return {event for event in await session.scalars(query) if event is not None}


async def _send_waiting(
    session: AsyncSession, status: str, rows: Sequence[OutboxRecord]
) -> set[int]:
    keys = {row.id: _uuid(row.key) for row in rows}
    ids = [key for key in keys.values() if key is not None]
    query = select(OutboundMessage.id).where(
        OutboundMessage.id.in_(ids), OutboundMessage.status == status
    )
    still = set(await session.scalars(query))
    return {row_id for row_id, key in keys.items() if key in still}


async def _superseded(
    session: AsyncSession, topic: Topic, rows: Sequence[OutboxRecord]
) -> set[int]:
    keys = {row.key for row in rows}
    latest = dict(
        (
            await session.execute(
                select(OutboxRecord.key, func.max(OutboxRecord.id))
                .where(OutboxRecord.topic == topic.value, OutboxRecord.key.in_(keys))
                .group_by(OutboxRecord.key)
            )
        ).all()
    )
    return {row.id for row in rows if latest.get(row.key, row.id) > row.id}


async def _webhooks_owed(
    session: AsyncSession, consumer: str, rows: Sequence[OutboxRecord]
) -> set[int]:
    """Rows whose event owes a webhook delivery that dispatch has not recorded: the inbox's URL,
    and each message endpoint of the workspace that takes the event's kind and existed then."""
    events: dict[int, InboxEvent] = {}
    for row in rows:
        try:
            events[row.id] = InboxEvent.model_validate_json(row.payload)
        except ValidationError:
            continue
    if not events:
        return set()
    inbox_ids = {event.inbox_id for event in events.values()}
    inboxes = {
        inbox.id: inbox
        for inbox in await session.scalars(select(Inbox).where(Inbox.id.in_(inbox_ids)))
    }
    workspaces = {event.workspace_id for event in events.values()}
    endpoints: dict[uuid.UUID, list[WebhookEndpoint]] = defaultdict(list)
    for endpoint in await session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.workspace_id.in_(workspaces),
            WebhookEndpoint.kind == "message",
            WebhookEndpoint.disabled_at.is_(None),
        )
    ):
        endpoints[endpoint.workspace_id].append(endpoint)
    owed: dict[int, list[uuid.UUID]] = {}
    for row_id, event in events.items():
        targets = []
        inbox = inboxes.get(event.inbox_id)
        if inbox is not None and inbox.webhook_url:
            targets.append(f"inbox:{inbox.id}")
        targets += [
            f"endpoint:{endpoint.id}"
            for endpoint in endpoints.get(event.workspace_id, [])
            if event.kind.value in endpoint.events and endpoint.created_at <= event.occurred_at
        ]
        if targets:
            owed[row_id] = [delivery_id(event.event_id, target) for target in targets]
    if not owed:
        return set()
    wanted = [owed_id for ids in owed.values() for owed_id in ids]
    recorded = set(
        await session.scalars(select(WebhookDelivery.id).where(WebhookDelivery.id.in_(wanted)))
    )
    missing = {row_id for row_id, ids in owed.items() if not recorded.issuperset(ids)}
    if missing:
        dead = await _dead_lettered(session, consumer, [events[i].event_id for i in missing])
        missing = {row_id for row_id in missing if events[row_id].event_id not in dead}
    return missing


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None
