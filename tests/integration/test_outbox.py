"""The transactional outbox publishes committed events once, and never rolled-back ones."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer
from sqlalchemy import select

from mailmoat.common.bus import create_broker
from mailmoat.common.db.tables import OutboxRecord
from mailmoat.common.events import SenderStatusChanged
from mailmoat.common.outbox import OutboxRelay, stage_event, take_staged
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic
from tests.support.scenario import Scenario


def status_event(scenario: Scenario, reason: str) -> SenderStatusChanged:
    return SenderStatusChanged(
        mail_id=uuid.uuid4(),
        workspace_id=scenario.workspace_id,
        inbox_id=scenario.inbox_id,
        status="warned",
        reason=reason,
    )


async def test_relay_publishes_committed_events_once_and_rolled_back_never(
    settings: CommonSettings, scenario: Scenario
) -> None:
    committed = status_event(scenario, "committed")
    rolled_back = status_event(scenario, "rolled back")
    async with scenario.sessions() as session:
        async with session.begin():
            stage_event(session, Topic.SENDER_STATUS, committed, producer="test")
        transaction = await session.begin()
        stage_event(session, Topic.SENDER_STATUS, rolled_back, producer="test")
        await transaction.rollback()

    broker = create_broker(settings, client_id="outbox-test")
    await broker.start()
    try:
        relay = OutboxRelay(scenario.sessions, broker, settings, producer="test")
        assert await relay.publish_pending() == 1
        assert await relay.publish_pending() == 0
    finally:
        await broker.stop()

    async with scenario.sessions() as session:
        row = await session.scalar(select(OutboxRecord).where(OutboxRecord.producer == "test"))
    assert row is not None
    assert row.published_at is not None

    published = await read_all(settings, Topic.SENDER_STATUS)
    assert [SenderStatusChanged.model_validate_json(v).reason for v in published] == ["committed"]


async def read_all(settings: CommonSettings, topic: Topic) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        settings.topic(topic.value),
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=f"reader-{uuid.uuid4()}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        for _ in range(6):  # a few polls: enough for the broker to hand over what it has
            for records in (await consumer.getmany(timeout_ms=500)).values():
                values.extend(r.value for r in records)
    finally:
        await consumer.stop()
    return values


async def test_the_fast_path_publishes_what_was_committed_and_the_poll_does_not_repeat_it(
    settings: CommonSettings, scenario: Scenario
) -> None:
    committed = status_event(scenario, "committed")
    in_savepoint = status_event(scenario, "savepoint rolled back")
    rolled_back = status_event(scenario, "rolled back")
    async with scenario.sessions() as session, session.begin():
        stage_event(session, Topic.SENDER_STATUS, committed, producer="fast")
        savepoint = await session.begin_nested()
        stage_event(session, Topic.SENDER_STATUS, in_savepoint, producer="fast")
        await savepoint.rollback()
    async with scenario.sessions() as failed:
        transaction = await failed.begin()
        stage_event(failed, Topic.SENDER_STATUS, rolled_back, producer="fast")
        await transaction.rollback()
    assert take_staged(failed) == []
    staged = take_staged(session)  # the session is closed: committed rows still count
    assert [row.event_id for row in staged] == [committed.event_id]
    assert take_staged(session) == []  # handed over once

    broker = create_broker(settings, client_id="outbox-fast-test")
    await broker.start()
    try:
        relay = OutboxRelay(scenario.sessions, broker, settings, producer="fast")
        relay.hand_over(staged)
        while relay._handovers:
            await asyncio.sleep(0.01)
        assert await relay.publish_pending() == 0  # already marked: not published again
    finally:
        await broker.stop()

    async with scenario.sessions() as session:
        row = await session.scalar(select(OutboxRecord).where(OutboxRecord.producer == "fast"))
    assert row is not None
    assert row.published_at is not None
    published = await read_all(settings, Topic.SENDER_STATUS)
    assert [SenderStatusChanged.model_validate_json(v).reason for v in published] == ["committed"]
