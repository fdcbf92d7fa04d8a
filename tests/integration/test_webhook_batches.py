"""Dispatch owes webhooks a batch at a time: one read for the batch's inboxes and endpoints, one
write for every delivery owed, each event still owed to each target exactly once; an event for
an unknown inbox is dead-lettered alone."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from mailmoat.common.db.tables import DeadLetter, WebhookDelivery
from mailmoat.common.events import AuditRecorded, Event
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic
from mailmoat.dispatch.app import build_service
from mailmoat.dispatch.settings import DispatchSettings
from tests.integration.test_webhooks import endpoint, received
from tests.support.commits import counted_statements
from tests.support.inprocess import running
from tests.support.peers import WebhookReceiver
from tests.support.scenario import Scenario
from tests.support.waiting import eventually

MESSAGES, AUDITS = 30, 20


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


def _audited(scenario: Scenario) -> AuditRecorded:
    return AuditRecorded(
        mail_id=uuid.uuid4(),
        workspace_id=scenario.workspace_id,
        action="outbound.requested",
        actor="api_key:abc",
        source="api",
        target="bob@example.org",
        audit_id=uuid.uuid4(),
    )


async def _publish(settings: CommonSettings, records: list[tuple[Topic, Event]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        for topic, event in records:
            await producer.send(settings.topic(topic.value), event.to_bytes(), key=b"k")
        await producer.flush()
    finally:
        await producer.stop()


async def _owed(scenario: Scenario, endpoint_id: uuid.UUID) -> int:
    async with scenario.sessions() as db:
        query = select(func.count()).where(WebhookDelivery.endpoint_id == endpoint_id)
        return int(await db.scalar(query) or 0)


async def test_a_backlog_is_owed_with_one_read_a_batch_and_a_bad_event_alone(
    settings: CommonSettings, scenario: Scenario, receiver: WebhookReceiver
) -> None:
    hook_id, _ = await endpoint(scenario, receiver.url_for("/hook"))
    audit_id, _ = await endpoint(scenario, receiver.url_for("/audit"), kind="audit")
    common = settings.model_dump() | {"consumer_batch_max": 100}
    dispatch = DispatchSettings(**common, egress_allowed_networks=["127.0.0.0/8"])
    backlog: list[tuple[Topic, Event]] = [
        (Topic.INBOX_EVENTS, received(scenario)) for _ in range(MESSAGES)
    ]
    backlog += [(Topic.AUDIT, _audited(scenario)) for _ in range(AUDITS)]
    await _publish(settings, backlog)

    async def owed(endpoint_id: uuid.UUID, count: int) -> bool:
        return await _owed(scenario, endpoint_id) == count

    # The consumers' reads of the endpoints (the delivery worker reads one by its id).
    with counted_statements("SELECT webhook_endpoints.", "webhook_endpoints.kind =") as reads:
        async with running(build_service(dispatch)):
            await eventually(lambda: owed(hook_id, MESSAGES), what="every message event owed")
            await eventually(lambda: owed(audit_id, AUDITS), what="every audit event owed")
            # One event names an inbox nobody has, in the middle of a second backlog.
            unknown = received(scenario).model_copy(update={"inbox_id": uuid.uuid4()})
            second = [received(scenario) for _ in range(10)]
            await _publish(
                settings, [(Topic.INBOX_EVENTS, e) for e in [*second[:5], unknown, *second[5:]]]
            )
            await eventually(lambda: owed(hook_id, MESSAGES + 10), what="the second backlog")

            async def dead_lettered() -> bool:
                async with scenario.sessions() as db:
                    query = select(DeadLetter.event_id).where(
                        DeadLetter.topic == Topic.INBOX_EVENTS.value
                    )
                    return list(await db.scalars(query)) == [unknown.event_id]

            await eventually(dead_lettered, what="the unknown inbox's event dead-lettered")
            delivered = await eventually(
                lambda: _all_delivered(receiver, MESSAGES + 10 + AUDITS), what="every delivery"
            )
    # One read per batch (the backlog arrives in a few fetches, each topic apart) and, for the
    # second backlog, one per record retried alone: never one per record of the first.
    assert reads[0] <= 8 + 11 + 1, reads[0]
    # Each event reached each target once, the one-by-one retry owing nothing twice.
    assert len(delivered) == len(set(delivered)) == MESSAGES + 10 + AUDITS


async def _all_delivered(receiver: WebhookReceiver, count: int) -> list[str] | None:
    ids = [d.headers["webhook-id"] for d in receiver.deliveries]
    return ids if len(ids) >= count else None
