"""Consumer wrapper: decode, deduplicate on ``event_id``, handle in one transaction, dead-letter.

Every subscriber in Mailmoat is registered through ``subscribe``. Offsets are committed only after
the record was handled (or dead-lettered), so a crash redelivers it; the processed-event row
written in the handler's own transaction makes the redelivery a no-op. A record that cannot be
handled is recorded in ``dead_letters`` and published to ``<topic>.dlq``; ``mailmoat dlq replay``
puts it back once its cause is fixed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from aiokafka import ConsumerRebalanceListener, ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.session import SessionFactory
from mailmoat.common.db.tables import DeadLetter, OutboxRecord, ProcessedEvent
from mailmoat.common.dead_letters import ERROR_LIMIT, record_dead_letter
from mailmoat.common.events import EVENT_BY_TOPIC, Event
from mailmoat.common.observability.logging import log_context
from mailmoat.common.observability.metrics import EVENTS_CONSUMED, HANDLER_DURATION
from mailmoat.common.observability.tracing import processing
from mailmoat.common.outbox import take_staged
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)
Handler = Callable[[E, AsyncSession], Awaitable[None]]

UNAVAILABLE_BACKOFF_SECONDS = 1.0


class PoisonEvent(Exception):
    """Raised by a handler for a well-formed event that can never be processed (dead-lettered)."""


@dataclass(frozen=True)
class Subscription(Generic[E]):
    """A handler for one topic under one consumer group."""

    topic: Topic
    group: str
    handler: Handler[E]
    transactional: bool = True
    """True: the handler runs inside the transaction that records the event as processed.
    False: the handler gets a session with no transaction open and commits its own (for work
    that must be committed before an external call, such as dispatch's write-ahead). Such a
    handler must make a redelivery harmless by itself (dispatch's claim of the send, a
    delivery's id derived from the event), so nothing is recorded for it: a commit saved."""


def subscribe(
    broker: KafkaBroker,
    settings: CommonSettings,
    sessions: SessionFactory,
    subscription: Subscription[E],
    *,
    after_commit: Callable[[list[OutboxRecord]], None] = lambda rows: None,
) -> Membership:
    """Register ``subscription`` on ``broker`` with our consumer defaults; the answer says
    whether its group holds an assignment (readiness)."""
    consumer = _Consumer(broker, settings, sessions, subscription, after_commit)
    membership = Membership()
    broker.subscriber(
        settings.topic(subscription.topic.value),
        group_id=settings.group(subscription.group),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=max(1000, settings.kafka_session_timeout_ms // 5),
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        decoder=_raw_body,
        listener=membership,
    )(consumer.consume)
    return membership


class Membership(ConsumerRebalanceListener):  # type: ignore[misc]
    """Whether a consumer holds its group's assignment: from a join until the next rebalance
    takes it away. An empty assignment counts (a replica beyond the partition count waits)."""

    def __init__(self) -> None:
        self.assigned = False

    async def on_partitions_revoked(self, revoked: object) -> None:
        self.assigned = False

    async def on_partitions_assigned(self, assigned: object) -> None:
        self.assigned = True


async def _raw_body(msg: StreamMessage[Any]) -> bytes:
    # Decoding and validation happen in _Consumer, where a bad record can be dead-lettered;
    # FastStream's own JSON decoding would fail before it, and redeliver the record forever.
    return msg.body


class _Consumer(Generic[E]):
    def __init__(
        self,
        broker: KafkaBroker,
        settings: CommonSettings,
        sessions: SessionFactory,
        subscription: Subscription[E],
        after_commit: Callable[[list[OutboxRecord]], None],
    ) -> None:
        self._broker = broker
        self._settings = settings
        self._sessions = sessions
        self._sub = subscription
        self._model = EVENT_BY_TOPIC[subscription.topic]
        self._after_commit = after_commit
        self._labels = (subscription.topic.value, subscription.group)
        for outcome in ("processed", "duplicate", "dead_lettered"):
            EVENTS_CONSUMED.labels(*self._labels, outcome)  # read as 0 before the first

    async def consume(self, body: bytes, msg: KafkaMessage) -> None:
        record = cast(ConsumerRecord[Any, Any], msg.raw_message)
        key = record.key.decode(errors="replace") if isinstance(record.key, bytes) else None
        with processing(msg.headers, self._sub.topic.value, self._sub.group, record.partition, key):
            await self._consume(body, msg)

    async def _consume(self, body: bytes, msg: KafkaMessage) -> None:
        try:
            event = self._model.model_validate_json(body)
        except ValidationError as exc:
            await self._dead_letter(body, msg, exc)
            return
        with log_context(mail_id=event.mail_id, event_id=event.event_id):
            await self._handle_with_retries(event, body, msg)  # type: ignore[arg-type]

    async def _handle_with_retries(self, event: E, body: bytes, msg: KafkaMessage) -> None:
        for attempt in range(1, self._settings.handler_attempts + 1):
            try:
                await self._handle_once(event)
                return
            except PoisonEvent as exc:
                await self._dead_letter(body, msg, exc, event)
                return
            except (OperationalError, InterfaceError):
                # The database is unavailable: not the record's fault. Back off and let the
                # broker redeliver (NACK) rather than dead-letter good records.
                log.warning("database unavailable; record will be redelivered")
                await asyncio.sleep(UNAVAILABLE_BACKOFF_SECONDS)
                raise
            except Exception as exc:
                if attempt == self._settings.handler_attempts:
                    await self._dead_letter(body, msg, exc, event)
                    return
                log.warning("handler failed (attempt %d), retrying", attempt, exc_info=True)
                await asyncio.sleep(0.1 * 2**attempt)

    async def _handle_once(self, event: E) -> None:
        started = time.perf_counter()
        consumer = self._settings.group(self._sub.group)
        async with self._sessions() as session:
            if self._sub.transactional:
                async with session.begin():
                    if await self._skip_duplicate(session, consumer, event):
                        return
                    await self._sub.handler(event, session)
                    _mark_processed(session, consumer, event)
            else:
                await self._sub.handler(event, session)
            # Handed over before anything else is awaited (closing the session is): the relay's
            # poll, reading the rows just committed, must find them already in flight, or it
            # publishes them too, and a compacted topic could end on an older state.
            self._after_commit(take_staged(session))
        HANDLER_DURATION.labels(*self._labels).observe(time.perf_counter() - started)
        EVENTS_CONSUMED.labels(*self._labels, "processed").inc()

    async def _skip_duplicate(self, session: AsyncSession, consumer: str, event: E) -> bool:
        query = select(ProcessedEvent.event_id).where(
            ProcessedEvent.consumer == consumer, ProcessedEvent.event_id == event.event_id
        )
        if (await session.scalar(query)) is None:
            return False
        EVENTS_CONSUMED.labels(*self._labels, "duplicate").inc()
        return True

    async def _dead_letter(
        self, body: bytes, msg: KafkaMessage, exc: Exception, event: E | None = None
    ) -> None:
        """Record the letter in the database (the system of record), then publish it to the
        dlq topic, even when the row could not be written."""
        raw = cast(ConsumerRecord[bytes, bytes], msg.raw_message)
        original = {k: v for k, v in msg.headers.items() if isinstance(v, str)}
        letter = self._letter(body, raw, original, exc, event)
        await record_dead_letter(self._sessions, letter)
        headers = {
            **original,
            "x-error-type": letter.error_type,
            "x-error": letter.error,
            "x-original-topic": raw.topic,
            "x-original-partition": str(raw.partition),
            "x-original-offset": str(raw.offset),
            "x-consumer-group": letter.consumer,
        }
        await self._broker.publish(
            body, self._settings.topic(self._sub.topic.dlq), key=raw.key, headers=headers
        )
        EVENTS_CONSUMED.labels(*self._labels, "dead_lettered").inc()
        log.error("record dead-lettered: %s: %s", type(exc).__name__, exc)

    def _letter(
        self,
        body: bytes,
        raw: ConsumerRecord[bytes, bytes],
        headers: dict[str, str],
        exc: Exception,
        event: E | None,
    ) -> DeadLetter:
        return DeadLetter(
            consumer=self._settings.group(self._sub.group),
            topic=self._sub.topic.value,
            event_id=event.event_id if event is not None else None,
            workspace_id=event.workspace_id if event is not None else None,
            # Our producers' keys are text (ids); a foreign binary key is kept readable.
            key=raw.key.decode(errors="replace") if raw.key is not None else None,
            payload=body,
            headers=headers,
            error_type=type(exc).__name__,
            error=str(exc)[:ERROR_LIMIT],
            original_partition=raw.partition,
            original_offset=raw.offset,
        )


def _mark_processed(session: AsyncSession, consumer: str, event: Event) -> None:
    session.add(
        ProcessedEvent(consumer=consumer, event_id=event.event_id, workspace_id=event.workspace_id)
    )
