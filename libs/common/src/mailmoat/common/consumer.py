"""Consumer wrapper: decode, deduplicate on ``event_id``, handle in batches, dead-letter.

Every subscriber in Mailmoat is registered through ``subscribe``. A consumer takes what the broker
has, up to ``consumer_batch_max`` records. A transactional subscriber handles them in one
transaction with one commit. The batch is tried first as one unit; if a record fails, the batch is
rolled back and handled again with each record in a savepoint of its own: the record that fails is
rolled back alone and, once the others are committed, handled again by itself, with retries, and
dead-lettered if it still fails. Offsets are committed only after the batch was handled (or
dead-lettered), so a crash redelivers it; the processed-event rows written in the batch's
transaction make the redelivery a no-op. A record that cannot be handled is recorded in
``dead_letters`` and published to ``<topic>.dlq``; ``mailmoat dlq replay`` puts it back once its
cause is fixed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from opentelemetry import trace
from opentelemetry.trace import Span
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.locks import turns_for
from mailmoat.common.db.session import SessionFactory
from mailmoat.common.db.tables import OutboxRecord, ProcessedEvent
from mailmoat.common.dead_letters import letter_for, record_dead_letter
from mailmoat.common.events import EVENT_BY_TOPIC, Event
from mailmoat.common.observability.logging import log_context
from mailmoat.common.observability.metrics import EVENTS_CONSUMED, HANDLER_DURATION
from mailmoat.common.observability.tracing import processing_span
from mailmoat.common.outbox import take_staged
from mailmoat.common.settings import CommonSettings
from mailmoat.common.subscription import BatchHandler, Job, Membership, PoisonEvent, Subscription

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)

UNAVAILABLE_BACKOFF_SECONDS = 1.0


class _Unfinished(Exception):
    """A subscription's ``finish`` failed: the batch's transaction is rolled back."""


class _RecordFailed(Exception):
    """A record failed in a batch tried without savepoints: the batch is rolled back whole."""


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
        heartbeat_interval_ms=max(500, settings.kafka_session_timeout_ms // 5),
        fetch_max_wait_ms=settings.fetch_max_wait_ms(prompt=subscription.prompt),
        batch=True,
        max_records=settings.consumer_batch_max,
        batch_timeout_ms=settings.fetch_max_wait_ms(prompt=subscription.prompt),
        decoder=_raw_body,
        listener=membership,
    )(consumer.consume)
    return membership


async def _raw_body(msg: StreamMessage[Any]) -> bytes:
    # Decoding and validation happen in _Consumer, where a bad record can be dead-lettered;
    # FastStream's own JSON decoding would fail before it, and redeliver the record forever.
    return msg.body


@dataclass(frozen=True)
class _Item(Generic[E]):
    """One record of a batch: its bytes, where it came from, its headers and its event (None
    when it did not decode)."""

    body: bytes
    record: ConsumerRecord[Any, Any]
    headers: dict[str, str]
    event: E | None


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

    async def consume(self, bodies: list[bytes], msg: KafkaMessage) -> None:
        records = cast(tuple[ConsumerRecord[Any, Any], ...], msg.raw_message)
        items: list[_Item[E]] = []
        for body, record, headers in zip(bodies, records, msg.batch_headers, strict=True):
            try:
                event = cast(E, self._model.model_validate_json(body))
            except ValidationError as exc:
                with self._processing(_Item(body, record, headers, None)):
                    await self._dead_letter(_Item(body, record, headers, None), exc)
                continue
            items.append(_Item(body, record, headers, event))
        alone = items
        if len(items) > 1 and self._sub.transactional:
            alone = await self._handle_batch(items)
        elif len(items) > 1 and self._sub.batch_handler is not None:
            alone = await self._handle_together(items, self._sub.batch_handler)
        for item in alone:
            with self._processing(item):
                await self._handle_with_retries(item)

    def _processing(self, item: _Item[E]) -> contextlib.AbstractContextManager[object]:
        """The record's span (linked to its producer's trace), ended on exit, and log context."""
        stack = contextlib.ExitStack()
        stack.enter_context(trace.use_span(self._span(item), end_on_exit=True))
        if item.event is not None:
            stack.enter_context(
                log_context(mail_id=item.event.mail_id, event_id=item.event.event_id)
            )
        return stack

    async def _handle_batch(self, items: list[_Item[E]]) -> list[_Item[E]]:
        """Handle ``items`` in one transaction; returns those that failed, rolled back, for
        handling one by one. The batch is tried first with no savepoints (two statements and a
        flush per record saved) and its processed-event rows written in one INSERT; if a record
        fails, it is rolled back whole and handled again, each record in a savepoint. The
        database being unavailable fails the batch (the broker redelivers it)."""
        started = time.perf_counter()
        try:
            try:
                done, duplicates, failed = await self._in_one_transaction(items, isolated=False)
            except _RecordFailed:
                log.warning(
                    "record failed in its batch; the batch again, each record in a savepoint"
                )
                done, duplicates, failed = await self._in_one_transaction(items, isolated=True)
        except (OperationalError, InterfaceError):
            log.warning("database unavailable; the batch will be redelivered")
            await asyncio.sleep(UNAVAILABLE_BACKOFF_SECONDS)
            raise
        except _Unfinished:
            log.warning("batch failed to finish; its records are handled one by one", exc_info=True)
            return items
        if duplicates:
            EVENTS_CONSUMED.labels(*self._labels, "duplicate").inc(duplicates)
        self._observe(started, len(items), len(done))
        return failed

    async def _in_one_transaction(
        self, items: list[_Item[E]], *, isolated: bool
    ) -> tuple[list[E], int, list[_Item[E]]]:
        """One try at the batch: what it handled, how many duplicates it skipped, and (isolated,
        each record in a savepoint) which records failed. Not isolated, a failing record raises
        ``_RecordFailed`` and the whole transaction is rolled back."""
        consumer = self._settings.group(self._sub.group)
        failed: list[_Item[E]] = []
        done: list[E] = []
        duplicates = 0
        async with self._sessions() as session:
            async with session.begin():
                seen = await self._processed(session, consumer, items)
                if self._sub.turn is not None:
                    fresh = [i.event for i in items if i.event and i.event.event_id not in seen]
                    await turns_for(session, self._sub.turn, [e.mail_id for e in fresh])
                for item in items:
                    event = item.event
                    assert event is not None
                    if event.event_id in seen:
                        duplicates += 1
                        continue
                    seen.add(event.event_id)
                    with self._processing(item):
                        try:
                            if isolated:
                                async with session.begin_nested():
                                    await self._sub.handler(event, session)
                                    _mark_processed(session, consumer, event)
                            else:
                                await self._sub.handler(event, session)
                            done.append(event)
                        except (OperationalError, InterfaceError):
                            raise
                        except Exception as exc:
                            if not isolated:
                                raise _RecordFailed from exc
                            log.warning("record failed in its batch; retried alone", exc_info=True)
                            failed.append(item)
                if not isolated:
                    # Marked together, the batch's processed-event rows are one INSERT.
                    for event in done:
                        _mark_processed(session, consumer, event)
                    await _flushed(session)
                await self._finish(done, session)
            self._after_commit(take_staged(session))
        return done, duplicates, failed

    async def _handle_together(
        self, items: list[_Item[E]], batch_handler: BatchHandler[E]
    ) -> list[_Item[E]]:
        """Hand the whole batch to ``batch_handler``; if it fails, every record is returned for
        the one-by-one path (the database being unavailable fails the batch instead)."""
        started = time.perf_counter()
        jobs = [Job(item.event, self._span(item)) for item in items if item.event is not None]
        try:
            async with self._sessions() as session:
                await batch_handler(jobs, session)
                self._after_commit(take_staged(session))
        except (OperationalError, InterfaceError):
            log.warning("database unavailable; the batch will be redelivered")
            await asyncio.sleep(UNAVAILABLE_BACKOFF_SECONDS)
            raise
        except Exception:
            log.warning("batch failed; its records are handled one by one", exc_info=True)
            return items
        finally:
            for job in jobs:
                job.span.end()
        self._observe(started, len(items), len(items))
        return []

    async def _finish(self, done: list[E], session: AsyncSession) -> None:
        """The subscription's ``finish`` at the end of a batch; its failure (the database's
        aside) is raised as ``_Unfinished``."""
        if self._sub.finish is None or not done:
            return
        try:
            await self._sub.finish(done, session)
        except (OperationalError, InterfaceError):
            raise
        except Exception as exc:
            raise _Unfinished from exc

    def _span(self, item: _Item[E]) -> Span:
        record = item.record
        key = record.key.decode(errors="replace") if isinstance(record.key, bytes) else None
        topic, group = self._sub.topic.value, self._sub.group
        return processing_span(item.headers, topic, group, record.partition, key)

    def _observe(self, started: float, records: int, handled: int) -> None:
        """Each handled record's share of the batch's time, and the count."""
        if handled:
            per_record = (time.perf_counter() - started) / records
            for _ in range(handled):
                HANDLER_DURATION.labels(*self._labels).observe(per_record)
            EVENTS_CONSUMED.labels(*self._labels, "processed").inc(handled)

    async def _handle_in(self, session: AsyncSession, consumer: str, event: E) -> int:
        """Handle ``event`` in the session's open transaction; 1, or 0 for a duplicate."""
        if await self._skip_duplicate(session, consumer, event):
            return 0
        await self._sub.handler(event, session)
        _mark_processed(session, consumer, event)
        return 1

    async def _handle_with_retries(self, item: _Item[E]) -> None:
        event = item.event
        assert event is not None
        for attempt in range(1, self._settings.handler_attempts + 1):
            try:
                await self._handle_once(event)
                return
            except PoisonEvent as exc:
                await self._dead_letter(item, exc)
                return
            except (OperationalError, InterfaceError):
                # The database is unavailable: not the record's fault. Back off and let the
                # broker redeliver (NACK) rather than dead-letter good records.
                log.warning("database unavailable; record will be redelivered")
                await asyncio.sleep(UNAVAILABLE_BACKOFF_SECONDS)
                raise
            except Exception as exc:
                if attempt == self._settings.handler_attempts:
                    await self._dead_letter(item, exc)
                    return
                log.warning("handler failed (attempt %d), retrying", attempt, exc_info=True)
                await asyncio.sleep(0.1 * 2**attempt)

    async def _handle_once(self, event: E) -> None:
        started = time.perf_counter()
        consumer = self._settings.group(self._sub.group)
        async with self._sessions() as session:
            if self._sub.transactional:
                async with session.begin():
                    if not await self._handle_in(session, consumer, event):
                        return
                    if self._sub.finish is not None:
                        await self._sub.finish([event], session)
            else:
                await self._sub.handler(event, session)
            # Handed over before anything else is awaited (closing the session is): the relay's
            # poll, reading the rows just committed, must find them already in flight, or it
            # publishes them too, and a compacted topic could end on an older state.
            self._after_commit(take_staged(session))
        HANDLER_DURATION.labels(*self._labels).observe(time.perf_counter() - started)
        EVENTS_CONSUMED.labels(*self._labels, "processed").inc()

    async def _processed(
        self, session: AsyncSession, consumer: str, items: list[_Item[E]]
    ) -> set[uuid.UUID]:
        """Which of the batch's events this consumer has already processed, in one query."""
        ids = [item.event.event_id for item in items if item.event is not None]
        query = select(ProcessedEvent.event_id).where(
            ProcessedEvent.consumer == consumer, ProcessedEvent.event_id.in_(ids)
        )
        return set(await session.scalars(query))

    async def _skip_duplicate(self, session: AsyncSession, consumer: str, event: E) -> bool:
        query = select(ProcessedEvent.event_id).where(
            ProcessedEvent.consumer == consumer, ProcessedEvent.event_id == event.event_id
        )
        if (await session.scalar(query)) is None:
            return False
        EVENTS_CONSUMED.labels(*self._labels, "duplicate").inc()
        return True

    async def _dead_letter(self, item: _Item[E], exc: Exception) -> None:
        """Record the letter in the database (the system of record), then publish it to the
        dlq topic, even when the row could not be written."""
        raw = item.record
        original = {k: v for k, v in item.headers.items() if isinstance(v, str)}
        consumer, topic = self._settings.group(self._sub.group), self._sub.topic.value
        letter = letter_for(consumer, topic, raw, item.body, original, exc, event=item.event)
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
            item.body, self._settings.topic(self._sub.topic.dlq), key=raw.key, headers=headers
        )
        EVENTS_CONSUMED.labels(*self._labels, "dead_lettered").inc()
        log.error("record dead-lettered: %s: %s", type(exc).__name__, exc)


async def _flushed(session: AsyncSession) -> None:
    """Flush what the batch's handlers left pending, a failure (the database's aside) being the
    records' (a duplicate key, a constraint) rather than the commit's."""
    try:
        await session.flush()
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:
        raise _RecordFailed from exc


def _mark_processed(session: AsyncSession, consumer: str, event: Event) -> None:
    session.add(
        ProcessedEvent(consumer=consumer, event_id=event.event_id, workspace_id=event.workspace_id)
    )
