"""The transactional outbox publishes committed events once, and never rolled-back ones."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker
from prometheus_client import REGISTRY
from sqlalchemy import select

from mailmoat.common.bus import create_broker, create_topics
from mailmoat.common.db.tables import OutboxRecord
from mailmoat.common.embedded_broker import EmbeddedBroker
from mailmoat.common.events import (
    Event,
    Finding,
    InboxEvent,
    InboxEventKind,
    RawMailReceived,
    SenderStatusChanged,
)
from mailmoat.common.outbox import OutboxRelay, stage_event, take_staged
from mailmoat.common.outbox_failures import ERROR_LIMIT, SLIMMED_HEADER, OutboxFailureNotice
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic
from tests.support.commits import counted_commits
from tests.support.scenario import Scenario
from tests.support.waiting import eventually

TOO_LARGE = 1_200_000  # over the producer's 1 MiB max_request_size


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
        group_id=None,  # no group to join (seconds on this broker): every partition, from the start
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


async def test_handovers_published_together_are_marked_in_a_shared_commit(
    settings: CommonSettings, scenario: Scenario
) -> None:
    producer = f"shared-{uuid.uuid4().hex[:8]}"
    events = [inbox_event(scenario, f"event {n}") for n in range(20)]
    rows = await add_rows(scenario, producer, *[(Topic.INBOX_EVENTS, e) for e in events])
    async with started_broker(settings) as broker:
        relay = OutboxRelay(scenario.sessions, broker, settings, producer=producer)
        with counted_commits("UPDATE outbox SET published_at") as marks:
            for row in rows:  # twenty transactions' worth, one row each
                relay.hand_over([row])
            while relay._handovers:
                await asyncio.sleep(0.01)
        assert await relay.publish_pending() == 0  # every row marked: none published again
    assert all(row.published_at is not None for row in await outbox_rows(scenario, producer))
    assert 1 <= marks[0] <= 5, marks[0]  # one commit each before marks were shared
    published = await read_all(settings, Topic.INBOX_EVENTS)
    assert sorted(InboxEvent.model_validate_json(v).reason for v in published) == sorted(
        e.reason for e in events
    )


async def test_a_row_the_broker_refuses_is_set_aside_and_the_rows_behind_it_go_out(
    settings: CommonSettings, scenario: Scenario
) -> None:
    producer = f"poll-{uuid.uuid4().hex[:8]}"
    huge, normal = oversized(scenario), inbox_event(scenario)
    await add_rows(scenario, producer, (Topic.INBOX_EVENTS, huge), (Topic.INBOX_EVENTS, normal))
    async with started_broker(settings) as broker:
        relay = OutboxRelay(scenario.sessions, broker, settings, producer=producer)
        assert await relay.publish_pending() == 2
        assert await relay.publish_pending() == 0  # the row set aside is not tried again
    await assert_set_aside_and_normal_delivered(settings, scenario, producer, huge, normal)


async def test_the_fast_path_sets_a_refused_row_aside_and_publishes_the_rows_behind_it(
    settings: CommonSettings, scenario: Scenario
) -> None:
    producer = f"fast-{uuid.uuid4().hex[:8]}"
    huge, normal = oversized(scenario), inbox_event(scenario)
    rows = await add_rows(
        scenario, producer, (Topic.INBOX_EVENTS, huge), (Topic.INBOX_EVENTS, normal)
    )
    async with started_broker(settings) as broker:
        relay = OutboxRelay(scenario.sessions, broker, settings, producer=producer)
        relay.hand_over(rows)

        async def settled() -> bool:
            huge_row, normal_row = await outbox_rows(scenario, producer)
            return huge_row.failed_at is not None and normal_row.published_at is not None

        await eventually(settled, timeout=30, what="both rows settled by the fast path")
        assert await relay.publish_pending() == 0
    await assert_set_aside_and_normal_delivered(settings, scenario, producer, huge, normal)


async def test_a_broker_outage_sets_nothing_aside_and_the_next_poll_publishes_in_order(
    settings: CommonSettings, scenario: Scenario
) -> None:
    producer, mail_id = f"outage-{uuid.uuid4().hex[:8]}", uuid.uuid4()
    events = [inbox_event(scenario, f"#{n}", mail_id=mail_id) for n in range(3)]
    await add_rows(scenario, producer, *((Topic.INBOX_EVENTS, event) for event in events))
    outage = EmbeddedBroker()
    outage.start()
    try:
        await publish_through_outage(outage, settings, scenario, producer)
    finally:
        outage.stop()
    rows = await outbox_rows(scenario, producer)
    assert len(rows) == 3
    assert all(row.published_at is None and row.failed_at is None for row in rows)
    assert failed_count(producer, Topic.INBOX_EVENTS) is None
    async with started_broker(settings) as broker:  # the broker is back: the next poll
        relay = OutboxRelay(scenario.sessions, broker, settings, producer=producer)
        assert await relay.publish_pending() == 3
    published = await read_records(settings, Topic.INBOX_EVENTS, 3)
    assert [InboxEvent.model_validate_json(r.value).reason for r in published] == ["#0", "#1", "#2"]


async def test_a_refused_raw_mail_row_goes_out_as_its_slimmed_stand_in(
    settings: CommonSettings, scenario: Scenario
) -> None:
    producer, raw = f"slim-{uuid.uuid4().hex[:8]}", raw_mail_with_findings(scenario, 4000)
    assert len(raw.to_bytes()) > TOO_LARGE
    await add_rows(scenario, producer, (Topic.RAW_MAIL, raw))
    async with started_broker(settings) as broker:
        relay = OutboxRelay(scenario.sessions, broker, settings, producer=producer)
        assert await relay.publish_pending() == 1
    [record] = await read_records(settings, Topic.RAW_MAIL, 1)
    assert (SLIMMED_HEADER, b"true") in record.headers
    stand_in = RawMailReceived.model_validate_json(record.value)
    assert stand_in.event_id == raw.event_id
    assert (stand_in.l1_findings, stand_in.l1_findings_dropped) == ((), 4000)
    [row] = await outbox_rows(scenario, producer)
    assert row.published_at is not None
    assert row.failed_at is None
    assert row.error is not None
    assert row.error.startswith("slimmed stand-in published")
    assert failed_count(producer, Topic.RAW_MAIL) is None


async def publish_through_outage(
    outage: EmbeddedBroker, settings: CommonSettings, scenario: Scenario, producer: str
) -> None:
    """A relay whose broker goes away under it: the poll fails, and marks nothing."""
    elsewhere = settings.model_copy(update={"kafka_bootstrap": outage.bootstrap})
    await create_topics(elsewhere, partitions=2)
    broker = KafkaBroker(outage.bootstrap, request_timeout_ms=2000, enable_idempotence=False)
    await broker.start()
    try:
        outage.stop()
        relay = OutboxRelay(scenario.sessions, broker, elsewhere, producer=producer)
        with pytest.raises(KafkaError):
            await relay.publish_pending()
    finally:
        await broker.stop()


async def assert_set_aside_and_normal_delivered(
    settings: CommonSettings, scenario: Scenario, producer: str, huge: Event, normal: Event
) -> None:
    [delivered] = await read_records(settings, Topic.INBOX_EVENTS, 1)
    assert InboxEvent.model_validate_json(delivered.value).event_id == normal.event_id
    huge_row, normal_row = await outbox_rows(scenario, producer)
    assert normal_row.published_at is not None
    assert (huge_row.published_at, huge_row.failed_at is not None) == (None, True)
    assert huge_row.error is not None
    assert huge_row.error.startswith("MessageSizeTooLargeError")
    assert len(huge_row.error) <= ERROR_LIMIT
    assert failed_count(producer, Topic.INBOX_EVENTS) == 1
    [record] = await read_records(settings, Topic.INBOX_EVENTS.dlq, 1)
    notice = OutboxFailureNotice.model_validate_json(record.value)
    assert (notice.outbox_id, notice.event_id) == (huge_row.id, huge.event_id)
    assert (notice.event_type, notice.payload_bytes) == ("InboxEvent", len(huge_row.payload))
    assert notice.key == str(huge.mail_id)
    headers = {name: value.decode() for name, value in record.headers}
    assert headers["x-outbox-id"] == str(huge_row.id)
    assert headers["x-error-type"] == "MessageSizeTooLargeError"
    assert headers["x-original-topic"] == settings.topic(Topic.INBOX_EVENTS.value)


def inbox_event(
    scenario: Scenario, reason: str = "normal", *, mail_id: uuid.UUID | None = None
) -> InboxEvent:
    return InboxEvent(
        mail_id=mail_id or uuid.uuid4(),
        workspace_id=scenario.workspace_id,
        inbox_id=scenario.inbox_id,
        kind=InboxEventKind.SENDER_WARNED,
        message_id=scenario.inbox_id,
        reason=reason,
    )


def oversized(scenario: Scenario) -> InboxEvent:
    """A valid event with no list to drop: slimming cannot help it."""
    return inbox_event(scenario, "x" * TOO_LARGE)


def raw_mail_with_findings(scenario: Scenario, findings: int) -> RawMailReceived:
    finding = Finding(code="L1_ARCHIVE_MEMBER", reason="m" * 300, part="attachment")
    return RawMailReceived(
        mail_id=uuid.uuid4(),
        workspace_id=scenario.workspace_id,
        inbox_id=scenario.inbox_id,
        raw_ref=uuid.uuid4(),
        sha256="0" * 64,
        size=1000,
        mail_from="a@example.com",
        rcpt_to=scenario.address,
        security_level="L2",
        l1_findings=(finding,) * findings,
    )


async def add_rows(
    scenario: Scenario, producer: str, *staged: tuple[Topic, Event]
) -> list[OutboxRecord]:
    """Outbox rows written as they are, past the staging budget: what an older producer left."""
    rows = [
        OutboxRecord(
            event_id=event.event_id,
            workspace_id=event.workspace_id,
            producer=producer,
            topic=topic.value,
            key=str(event.mail_id),
            payload=event.to_bytes(),
            headers={"event-type": type(event).__name__, "schema-version": "1"},
        )
        for topic, event in staged
    ]
    async with scenario.sessions() as session, session.begin():
        session.add_all(rows)
    return rows


async def outbox_rows(scenario: Scenario, producer: str) -> list[OutboxRecord]:
    async with scenario.sessions() as session:
        query = select(OutboxRecord).where(OutboxRecord.producer == producer)
        return list(await session.scalars(query.order_by(OutboxRecord.id)))


def failed_count(producer: str, topic: Topic) -> float | None:
    labels = {"producer": producer, "topic": topic.value}
    return REGISTRY.get_sample_value("mailmoat_outbox_failed_total", labels)


@asynccontextmanager
async def started_broker(settings: CommonSettings) -> AsyncIterator[KafkaBroker]:
    broker = create_broker(settings, client_id="outbox-test")
    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()


async def read_records(
    settings: CommonSettings, name: str, count: int
) -> list[ConsumerRecord[bytes, bytes]]:
    """The first ``count`` records of topic ``name``, waiting for them up to a deadline."""
    consumer = AIOKafkaConsumer(
        settings.topic(name),
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",  # no group: nothing to join, every record from the start
    )
    records: list[ConsumerRecord[bytes, bytes]] = []

    async def enough() -> bool:
        for batch in (await consumer.getmany(timeout_ms=200)).values():
            records.extend(batch)
        return len(records) >= count

    await consumer.start()
    try:
        await eventually(enough, timeout=30, what=f"{count} records on {name}")
    finally:
        await consumer.stop()
    return records
