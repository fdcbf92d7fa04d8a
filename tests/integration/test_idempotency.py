"""A redelivered event has its effect once: consumers deduplicate on event_id."""

from __future__ import annotations

import uuid

from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from mailmoat.common.db.tables import SenderStats
from mailmoat.common.events import MailSent
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic
from mailmoat.reputation.app import build_service
from tests.support.inprocess import running
from tests.support.scenario import Scenario
from tests.support.waiting import eventually


async def test_the_same_sent_event_twice_counts_once(
    settings: CommonSettings, scenario: Scenario
) -> None:
    def sent() -> MailSent:
        return MailSent(
            mail_id=uuid.uuid4(),
            workspace_id=scenario.workspace_id,
            inbox_id=scenario.inbox_id,
            status="sent",
            recipients=("bob@example.com",),
            relay_reply="250 ok",
            duration_ms=3,
        )

    duplicated, distinct = sent(), sent()
    async with running(build_service(settings)):
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
        await producer.start()
        try:
            for event in (duplicated, duplicated, distinct, duplicated):
                await producer.send_and_wait(
                    settings.topic(Topic.SENT.value), event.to_bytes(), key=b"same"
                )
        finally:
            await producer.stop()

        async def counted() -> SenderStats | None:
            async with scenario.sessions() as session:
                stats = await session.scalar(
                    select(SenderStats).where(SenderStats.inbox_id == scenario.inbox_id)
                )
            return stats if stats and stats.sent_count >= 2 else None

        stats = await eventually(counted, what="both distinct sends to be counted")
    assert stats.sent_count == 2
