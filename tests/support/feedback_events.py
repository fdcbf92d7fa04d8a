"""Reputation's inputs made by hand: delivered sends and complaints for one inbox, published
onto the broker in one go (tests and the dispatch bench drive reputation with them)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from aiokafka import AIOKafkaProducer

from mailmoat.common.events import Event, FeedbackReceived, MailSent
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic


def delivered(
    workspace_id: uuid.UUID,
    inbox_id: uuid.UUID,
    count: int,
    *,
    start: datetime,
    step: timedelta,
    prefix: str = "r",
) -> list[Event]:
    """``count`` messages the relay accepted, one recipient each, ``step`` apart from ``start``."""
    return [
        MailSent(
            mail_id=uuid.uuid4(),
            workspace_id=workspace_id,
            inbox_id=inbox_id,
            status="sent",
            recipients=(f"{prefix}{n}@example.org",),
            relay_reply="250 2.0.0 Ok",
            duration_ms=1.0,
            occurred_at=start + n * step,
        )
        for n in range(count)
    ]


def complaints(workspace_id: uuid.UUID, inbox_id: uuid.UUID, count: int) -> list[Event]:
    """``count`` ARF complaints about the inbox's mail."""
    return [
        FeedbackReceived(
            mail_id=uuid.uuid4(),
            workspace_id=workspace_id,
            inbox_id=inbox_id,
            kind="complaint",
            recipient=f"r{n}@example.org",
        )
        for n in range(count)
    ]


async def publish_all(settings: CommonSettings, topic: Topic, events: Sequence[Event]) -> None:
    """Publish every event (keyed by its mail id) and wait until the broker has them all."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, linger_ms=5)
    await producer.start()
    try:
        for event in events:
            await producer.send(
                settings.topic(topic.value), event.to_bytes(), key=str(event.mail_id).encode()
            )
        await producer.flush()
    finally:
        await producer.stop()
