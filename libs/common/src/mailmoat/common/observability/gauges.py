"""What a service measures of itself every ``gauges_interval_seconds`` for ``/metrics``: each
consumer group's lag per partition, its outbox's backlog and oldest row, and whether its database
and broker answer. Only a process that serves metrics measures (nothing reads them otherwise)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import TopicPartition
from faststream.kafka import KafkaBroker
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from mailmoat.common.db.session import SessionFactory, reading
from mailmoat.common.db.tables import OutboxRecord
from mailmoat.common.events.base import utcnow
from mailmoat.common.observability.metrics import (
    CONSUMER_LAG,
    DEPENDENCY_UP,
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
)
from mailmoat.common.subscription import Subscription

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Consumer:
    """A started consumer client and the subscription it serves."""

    broker: KafkaBroker
    subscription: Subscription[Any]
    reported: set[str] = field(default_factory=set)
    """The partitions whose lag this consumer reported last time."""


async def measure_lag(consumers: Sequence[Consumer]) -> None:
    """Set ``mailmoat_consumer_lag_records`` for every partition a consumer holds, and drop the
    series of partitions a rebalance gave to another member (which reports them now)."""
    for consumer in consumers:
        labels = (consumer.subscription.group, consumer.subscription.topic.value)
        held: set[str] = set()
        for subscriber in consumer.broker.subscribers:
            client = getattr(subscriber, "consumer", None)
            if client is None:
                continue
            for partition in client.assignment():
                lag = await _lag(client, partition)
                if lag is not None:
                    held.add(str(partition.partition))
                    CONSUMER_LAG.labels(*labels, str(partition.partition)).set(lag)
        for gone in consumer.reported - held:
            CONSUMER_LAG.remove(*labels, gone)
        consumer.reported.clear()
        consumer.reported.update(held)


async def _lag(client: Any, partition: TopicPartition) -> int | None:
    end = client.highwater(partition)  # from the last fetch; asked for when none came yet
    if end is None:
        end = (await client.end_offsets([partition])).get(partition)
    if end is None:
        return None
    position: int = await client.position(partition)
    return max(0, int(end) - position)


async def measure_outbox(sessions: SessionFactory, producer: str) -> None:
    """Set the backlog and oldest-row age of ``producer``'s outbox."""
    waiting = (OutboxRecord.producer == producer) & OutboxRecord.published_at.is_(None)
    waiting &= OutboxRecord.failed_at.is_(None)
    query = select(func.count(), func.min(OutboxRecord.created_at)).where(waiting)
    with reading():
        async with sessions() as session:
            count, oldest = (await session.execute(query)).one()
    OUTBOX_BACKLOG.labels(producer).set(count)
    age = 0.0 if oldest is None else max(0.0, (utcnow() - oldest).total_seconds())
    OUTBOX_OLDEST_AGE.labels(producer).set(age)


async def measure_with(
    sessions: SessionFactory, measure: Callable[[AsyncSession], Awaitable[None]]
) -> None:
    """Run a service's own ``measure`` in a read-only session."""
    with reading():
        async with sessions() as session, session.begin():
            await measure(session)


async def database_answers(engine: AsyncEngine) -> bool:
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


def record_dependencies(service: str, *, database: bool, broker: bool) -> None:
    DEPENDENCY_UP.labels(service, "database").set(int(database))
    DEPENDENCY_UP.labels(service, "broker").set(int(broker))


async def measure_all(steps: Sequence[Callable[[], Awaitable[object]]]) -> None:
    """Run every measurement; one that fails is logged and the others still run."""
    for step in steps:
        try:
            await step()
        except Exception:
            log.warning("a measurement for /metrics failed", exc_info=True)
