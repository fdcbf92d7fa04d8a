"""Redrive: an event published and never taken by a consumer owed it is published again from
the outbox, once per interval, until taken or reported stuck; what was taken, superseded or
dead-lettered is settled and never published again."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiokafka import AIOKafkaConsumer
from faststream.kafka import KafkaBroker
from prometheus_client import REGISTRY
from sqlalchemy import select, update

from mailmoat.common.bus import create_broker, create_topics
from mailmoat.common.db.tables import (
    DeadLetter,
    Inbox,
    OutboundMessage,
    OutboxRecord,
    ProcessedEvent,
    WebhookDelivery,
)
from mailmoat.common.deliveries import delivery_id
from mailmoat.common.events import (
    Event,
    InboxEvent,
    InboxEventKind,
    RawMailReceived,
    SendApproved,
    SenderStatusChanged,
)
from mailmoat.common.events.base import utcnow
from mailmoat.common.outbox import stage_event
from mailmoat.common.redrive import REDRIVE_HEADER, Redrive
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic
from mailmoat.common.unsettled import OWED_GROUPS
from tests.support.outbound import approved_sends
from tests.support.scenario import Scenario

LONG_AGO = timedelta(minutes=10)


@pytest.fixture
async def broker(settings: CommonSettings) -> AsyncIterator[KafkaBroker]:
    await create_topics(settings)
    broker = create_broker(settings, client_id="redrive-test")
    await broker.start()
    yield broker
    await broker.stop()


def redrive_of(scenario: Scenario, broker: KafkaBroker, producer: str = "test") -> Redrive:
    return Redrive(scenario.sessions, broker, scenario.settings, producer=producer)


async def staged_as_published(scenario: Scenario, topic: Topic, *events: Event) -> list[int]:
    """Stage ``events`` as if the relay had published them ten minutes ago (and the broker
    had then lost them)."""
    async with scenario.sessions() as session, session.begin():
        for event in events:
            stage_event(session, topic, event, producer="test")
    ids = [event.event_id for event in events]
    async with scenario.sessions() as session, session.begin():
        await session.execute(
            update(OutboxRecord)
            .where(OutboxRecord.event_id.in_(ids))
            .values(published_at=utcnow() - LONG_AGO)
        )
        rows = await session.scalars(
            select(OutboxRecord.id).where(OutboxRecord.event_id.in_(ids)).order_by(OutboxRecord.id)
        )
        return list(rows)


async def on_topic(settings: CommonSettings, topic: Topic) -> list[tuple[uuid.UUID, str | None]]:
    """Every record on ``topic``: its event id and its redrive count header."""
    consumer = AIOKafkaConsumer(
        settings.topic(topic.value),
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,  # no group to join (seconds on this broker): every partition, from the start
        auto_offset_reset="earliest",
    )
    await consumer.start()
    found = []
    try:
        for _ in range(6):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    headers = {k: v.decode() for k, v in record.headers}
                    event_id = uuid.UUID(json.loads(record.value)["event_id"])
                    found.append((event_id, headers.get(REDRIVE_HEADER)))
    finally:
        await consumer.stop()
    return found


def raw_mail(scenario: Scenario) -> RawMailReceived:
    mail = uuid.uuid4()
    return RawMailReceived(
        mail_id=mail,
        workspace_id=scenario.workspace_id,
        inbox_id=scenario.inbox_id,
        raw_ref=mail,
        size=10,
        sha256="0" * 64,
        mail_from="a@example.com",
        rcpt_to=scenario.address,
        security_level="L2",
    )


async def processed(scenario: Scenario, event: Event, *groups: str) -> None:
    async with scenario.sessions() as session, session.begin():
        for group in groups:
            session.add(
                ProcessedEvent(
                    consumer=scenario.settings.group(group),
                    event_id=event.event_id,
                    workspace_id=event.workspace_id,
                )
            )


async def outbox_row(scenario: Scenario, row_id: int) -> OutboxRecord:
    async with scenario.sessions() as session:
        row = await session.get(OutboxRecord, row_id)
    assert row is not None
    return row


async def test_an_event_a_consumer_never_took_is_published_again_until_every_one_has(
    scenario: Scenario, broker: KafkaBroker
) -> None:
    lost, taken = raw_mail(scenario), raw_mail(scenario)
    lost_row, taken_row = await staged_as_published(scenario, Topic.RAW_MAIL, lost, taken)
    await processed(scenario, taken, *OWED_GROUPS[Topic.RAW_MAIL])
    await processed(scenario, lost, "scanner-primary")  # the checker and consensus never did
    redrive = redrive_of(scenario, broker)

    report = await redrive.run_once(utcnow())
    assert report.republished == {"raw-mail": 1}
    assert report.settled == 1
    assert await on_topic(scenario.settings, Topic.RAW_MAIL) == [(lost.event_id, "1")]
    assert (await outbox_row(scenario, taken_row)).settled_at is not None

    # Within the interval it is not published again; after it, it is, once more.
    assert (await redrive.run_once(utcnow() - timedelta(minutes=1))).republished == {}
    assert (await redrive.run_once(utcnow())).republished == {"raw-mail": 1}

    await processed(scenario, lost, "scanner-checker", "scanner-consensus-intake")
    report = await redrive.run_once(utcnow())
    assert (report.settled, report.republished) == (1, {})
    row = await outbox_row(scenario, lost_row)
    assert (row.settled_at is not None, row.redrives) == (True, 2)
    assert (await redrive.run_once(utcnow())).settled == 0  # settled rows are not read again


async def test_only_the_latest_state_of_a_key_is_published_again(
    scenario: Scenario, broker: KafkaBroker
) -> None:
    def standing(status: str) -> SenderStatusChanged:
        return SenderStatusChanged(
            mail_id=scenario.inbox_id,
            workspace_id=scenario.workspace_id,
            inbox_id=scenario.inbox_id,
            status=status,  # type: ignore[arg-type]
            reason=status,
        )

    suspended, reinstated = standing("suspended"), standing("active")
    await staged_as_published(scenario, Topic.SENDER_STATUS, suspended, reinstated)

    report = await redrive_of(scenario, broker).run_once(utcnow())
    assert (report.republished, report.settled) == ({"sender-status": 1}, 1)
    assert await on_topic(scenario.settings, Topic.SENDER_STATUS) == [(reinstated.event_id, "1")]


async def test_an_approved_send_nobody_claimed_is_published_again_and_a_sent_one_is_not(
    scenario: Scenario, broker: KafkaBroker
) -> None:
    approved, sent = await approved_sends(scenario, ["a@example.com", "b@example.com"])
    async with scenario.sessions() as session, session.begin():
        await session.execute(
            update(OutboundMessage).where(OutboundMessage.id == sent).values(status="sent")
        )

    def approval(outbound_id: uuid.UUID) -> SendApproved:
        return SendApproved(
            mail_id=outbound_id,
            workspace_id=scenario.workspace_id,
            inbox_id=scenario.inbox_id,
            risk_score=0,
        )

    waiting, done = approval(approved), approval(sent)
    await staged_as_published(scenario, Topic.SEND_APPROVED, waiting, done)

    report = await redrive_of(scenario, broker).run_once(utcnow())
    assert (report.republished, report.settled) == ({"send-approved": 1}, 1)
    assert await on_topic(scenario.settings, Topic.SEND_APPROVED) == [(waiting.event_id, "1")]


async def test_webhooks_owed_and_never_recorded_publish_the_event_again(
    scenario: Scenario, broker: KafkaBroker
) -> None:
    async with scenario.sessions() as session, session.begin():
        inbox = await session.get(Inbox, scenario.inbox_id)
        assert inbox is not None
        inbox.webhook_url = "https://hooks.example/agent"

    def delivered() -> InboxEvent:
        return InboxEvent(
            mail_id=uuid.uuid4(),
            workspace_id=scenario.workspace_id,
            inbox_id=scenario.inbox_id,
            kind=InboxEventKind.MESSAGE_RECEIVED,
            message_id=uuid.uuid4(),
        )

    owed, recorded = delivered(), delivered()
    await staged_as_published(scenario, Topic.INBOX_EVENTS, owed, recorded)
    for event in (owed, recorded):
        await processed(scenario, event, "reputation-releases")
    async with scenario.sessions() as session, session.begin():
        session.add(
            WebhookDelivery(
                id=delivery_id(recorded.event_id, f"inbox:{scenario.inbox_id}"),
                workspace_id=scenario.workspace_id,
                inbox_id=scenario.inbox_id,
                url="https://hooks.example/agent",
                webhook_id="msg_1",
                event_type="message.received",
                payload=b"{}",
                timestamp=0,
            )
        )

    report = await redrive_of(scenario, broker).run_once(utcnow())
    assert (report.republished, report.settled) == ({"inbox-events": 1}, 1)
    assert await on_topic(scenario.settings, Topic.INBOX_EVENTS) == [(owed.event_id, "1")]


async def test_a_dead_lettered_event_waits_for_replay_and_is_not_redriven(
    scenario: Scenario, broker: KafkaBroker
) -> None:
    poison = raw_mail(scenario)
    await staged_as_published(scenario, Topic.RAW_MAIL, poison)
    await processed(scenario, poison, "scanner-primary", "scanner-consensus-intake")
    async with scenario.sessions() as session, session.begin():
        session.add(
            DeadLetter(
                consumer=scenario.settings.group("scanner-checker"),
                topic=Topic.RAW_MAIL.value,
                event_id=poison.event_id,
                workspace_id=scenario.workspace_id,
                payload=b"{}",
                headers={},
                error_type="ValueError",
                error="cannot",
                original_partition=0,
                original_offset=0,
            )
        )
    report = await redrive_of(scenario, broker).run_once(utcnow())
    assert (report.republished, report.settled) == ({}, 1)


async def test_an_event_redriven_as_often_as_allowed_is_reported_stuck_once(
    scenario: Scenario, broker: KafkaBroker, caplog: pytest.LogCaptureFixture
) -> None:
    settings = scenario.settings.model_copy(update={"redrive_max_attempts": 1})
    lost = raw_mail(scenario)
    await staged_as_published(scenario, Topic.RAW_MAIL, lost)
    redrive = Redrive(scenario.sessions, broker, settings, producer="test")
    assert (await redrive.run_once(utcnow())).republished == {"raw-mail": 1}

    gauge = {"producer": "test", "topic": "raw-mail"}
    with caplog.at_level(logging.ERROR, logger="mailmoat.common.redrive"):
        for _ in range(3):
            report = await redrive.run_once(utcnow())
            assert (report.republished, report.stuck) == ({}, {"raw-mail": 1})
            assert REGISTRY.get_sample_value("mailmoat_redrive_stuck", gauge) == 1
    errors = [r.message for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert str(lost.event_id) in errors[0]

    await processed(scenario, lost, *OWED_GROUPS[Topic.RAW_MAIL])
    assert (await redrive.run_once(utcnow())).stuck == {}
    assert REGISTRY.get_sample_value("mailmoat_redrive_stuck", gauge) == 0


async def test_each_attempt_waits_twice_as_long_as_the_one_before_unless_told_otherwise(
    scenario: Scenario, broker: KafkaBroker
) -> None:
    """A consumer only behind by more than ``after`` is not buried under copies of its backlog:
    the second attempt waits twice ``after``, the third four times, and no longer."""
    lost = raw_mail(scenario)
    (row_id,) = await staged_as_published(scenario, Topic.RAW_MAIL, lost)
    redrive = redrive_of(scenario, broker)
    after = timedelta(minutes=1)

    async def tried(times: int, ago: timedelta) -> None:
        async with scenario.sessions() as session, session.begin():
            await session.execute(
                update(OutboxRecord)
                .where(OutboxRecord.id == row_id)
                .values(redrives=times, redriven_at=utcnow() - ago)
            )

    async def due() -> bool:
        report = await redrive.run_once(utcnow() - after, dry_run=True)
        return report.republished == {"raw-mail": 1}

    assert await due()  # published ten minutes ago, never redriven
    await tried(1, ago=after * 1.5)
    assert not await due()
    await tried(1, ago=after * 2.5)
    assert await due()
    await tried(2, ago=after * 3.5)
    assert not await due()
    await tried(4, ago=after * 4.5)  # the wait stops doubling at four times
    assert await due()

    # A caller who knows the broker lost its log (make run at start-up) skips the wait.
    await tried(2, ago=after * 1.5)
    assert not await due()
    report = await redrive.run_once(utcnow() - after, backoff=False, dry_run=True)
    assert report.republished == {"raw-mail": 1}
