"""Transactional outbox: stage events beside the state change; a relay publishes and marks them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from faststream.kafka import KafkaBroker
from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.session import SessionFactory, is_sqlite, reading
from mailmoat.common.db.tables import Message, OutboundMessage, OutboxRecord
from mailmoat.common.events import InboxEvent, InboxEventKind
from mailmoat.common.events.base import Event, utcnow
from mailmoat.common.events.budget import within_budget
from mailmoat.common.observability.metrics import OUTBOX_DELAY, OUTBOX_PUBLISHED
from mailmoat.common.observability.tracing import created_trace_headers
from mailmoat.common.outbox_failures import PERMANENT_ERRORS, Refusals, Settled, mark
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic

log = logging.getLogger(__name__)

BATCH_SIZE = 200
IDLE_POLL_SECONDS = 2.0
"""The longest a relay waits between polls while they find nothing (the fast path publishes
what consumers and API calls commit; the poll is for what it missed)."""
_STAGED = "mailmoat.outbox.staged"


def stage_event(
    session: AsyncSession, topic: Topic, event: Event, *, producer: str, key: str | None = None
) -> None:
    """Add ``event`` to the outbox inside the caller's transaction; published after commit.
    The event is cut to its topic's budget first (``within_budget``). The record key is the
    mail's id (its journey stays in one partition) unless ``key`` says otherwise (a compacted
    topic keys on what the record is the state of)."""
    event, payload = within_budget(topic, event)
    headers = {
        "event-type": type(event).__name__,
        "schema-version": str(event.schema_version),
        **created_trace_headers(topic.value),
    }
    record = OutboxRecord(
        event_id=event.event_id,
        workspace_id=event.workspace_id,
        producer=producer,
        topic=topic.value,
        key=key if key is not None else str(event.mail_id),
        payload=payload,
        headers=headers,
    )
    session.add(record)
    session.info.setdefault(_STAGED, []).append(record)


def stage_inbox_event(
    session: AsyncSession,
    kind: InboxEventKind,
    record: Message | OutboundMessage,
    *,
    producer: str,
) -> None:
    """Stage the ``inbox-events`` record that tells an inbox's listeners about ``record``."""
    # An outbound message's id is its journey's correlation id; an inbound one has mail_id.
    mail_id = record.mail_id if isinstance(record, Message) else record.id
    event = InboxEvent(
        mail_id=mail_id,
        workspace_id=record.workspace_id,
        inbox_id=record.inbox_id,
        kind=kind,
        message_id=record.id,
        sender=record.from_address if isinstance(record, Message) else None,
    )
    stage_event(session, Topic.INBOX_EVENTS, event, producer=producer)


def take_staged(session: AsyncSession) -> list[OutboxRecord]:
    """The outbox rows this session staged and committed, handed over once (for the relay's
    fast path), whether or not the session is still open. Rows of a rolled-back transaction or
    savepoint are left out: SQLAlchemy makes them transient again (no identity). So are rows a
    later rollback expired, which can no longer be read from memory: the poll publishes those."""
    staged: list[OutboxRecord] = session.info.pop(_STAGED, [])
    ready = []
    for row in staged:
        state = inspect(row)
        if state.has_identity and not state.expired_attributes:
            ready.append(row)
    return ready


class OutboxRelay:
    """Publishes a producer's committed outbox rows in order and marks them published.

    At-least-once: a crash between publish and mark republishes, and consumers deduplicate on
    ``event_id``. Several replicas of one producer share the work through ``SKIP LOCKED`` rows.
    A row the broker refuses for good goes out as a slimmed stand-in or is set aside
    (``failed_at``), never holding up the rows behind it; a passing error stops the batch.
    """

    def __init__(
        self,
        session_factory: SessionFactory,
        broker: KafkaBroker,
        settings: CommonSettings,
        *,
        producer: str,
    ) -> None:
        self._sessions = session_factory
        self._broker = broker
        self._settings = settings
        self._producer = producer
        self._wakeup = asyncio.Event()
        self._handovers: set[asyncio.Task[None]] = set()
        self._in_flight: set[int] = set()  # rows the fast path is publishing: the poll skips them
        self._to_mark: list[Settled] = []  # published by the fast path, their mark to come
        self._marker: asyncio.Task[None] | None = None
        self._row_locking = not is_sqlite(settings.database_url)
        self._refusals = Refusals(self._publish, broker, settings, producer=producer)
        self._pending = (
            select(OutboxRecord)
            .where(
                OutboxRecord.producer == producer,
                OutboxRecord.published_at.is_(None),
                OutboxRecord.failed_at.is_(None),
            )
            .order_by(OutboxRecord.id)
            .limit(BATCH_SIZE)
        )

    def wake(self) -> None:
        """Ask the relay to look now rather than at its next poll."""
        self._wakeup.set()

    def hand_over(self, rows: list[OutboxRecord]) -> None:
        """Fast path for rows just committed: publish them at once from memory, without the
        poll's read, then mark them. If this fails the poll publishes them; if the poll gets
        there first a row goes out twice, which consumers deduplicate on ``event_id``."""
        if not rows:
            return
        self._in_flight.update(row.id for row in rows)
        task = asyncio.create_task(self._publish_now(rows))
        self._handovers.add(task)
        task.add_done_callback(self._handovers.discard)

    async def _publish_now(self, rows: list[OutboxRecord]) -> None:
        settled: list[Settled] = []
        stopped: Exception | None
        try:
            settled, stopped = await self._publish_each(rows)
        except Exception as exc:
            stopped = exc
        finally:
            marked_later = {row.row_id for row in settled}
            self._in_flight.difference_update(r.id for r in rows if r.id not in marked_later)
        if settled:
            self._to_mark.extend(settled)
            if self._marker is None or self._marker.done():
                self._marker = asyncio.create_task(self._mark_published())
                self._handovers.add(self._marker)
                self._marker.add_done_callback(self._handovers.discard)
        if stopped is not None:
            log.warning("fast-path publish stopped; the relay's poll will go on", exc_info=stopped)
            self.wake()

    async def _mark_published(self) -> None:
        """Mark what the fast path published, in one transaction for all the rows settled
        while the last one committed: under load many handovers share a commit (an fsync on
        SQLite) rather than paying one each. A row left unmarked is published again by the
        poll, which consumers deduplicate."""
        while self._to_mark:
            settled, self._to_mark = self._to_mark, []
            try:
                async with self._sessions() as session, session.begin():
                    await mark(session, settled)
            except Exception:
                log.warning("marking published rows failed; the poll will publish them again")
                self.wake()
            finally:
                self._in_flight.difference_update(row.row_id for row in settled)

    async def run(self, stopping: asyncio.Event) -> None:
        """Publish until ``stopping`` is set (then once more, for what was staged last);
        errors are logged and retried at the next poll. The fast path publishes what is
        handed over, so a poll that finds nothing waits twice as long before the next (up to
        ``IDLE_POLL_SECONDS``); a wake-up or a find brings the interval back."""
        wait = self._settings.outbox_poll_seconds
        while True:
            last = stopping.is_set()
            while last and self._handovers:  # let the fast path finish what it took (and
                # mark it), so the poll does not repeat it
                await asyncio.gather(*self._handovers, return_exceptions=True)
            found = 0
            try:
                while (found := await self.publish_pending()) == BATCH_SIZE:
                    pass
            except Exception:
                log.exception("outbox relay failed; retrying")
                found = 1
            if last:
                return
            woken = await self._sleep(wait)
            if found or woken:
                wait = self._settings.outbox_poll_seconds
            else:
                wait = min(wait * 2, max(IDLE_POLL_SECONDS, self._settings.outbox_poll_seconds))

    async def publish_pending(self) -> int:
        """Publish one batch of pending rows; returns how many were published or set aside.
        A passing error is raised once the rows before it are marked."""
        if self._row_locking:
            return await self._publish_locked()
        return await self._publish_then_mark()

    async def _publish_locked(self) -> int:
        # PostgreSQL: rows stay locked while published, so replicas never take the same row.
        async with self._sessions() as session, session.begin():
            locked = await session.scalars(self._pending.with_for_update(skip_locked=True))
            rows = [row for row in locked if row.id not in self._in_flight]
            settled, stopped = await self._publish_each(rows)
            await mark(session, settled)
        return _count_or_raise(settled, stopped)

    async def _publish_then_mark(self) -> int:
        # SQLite: one relay per producer; holding its database-wide write lock while talking to
        # Kafka would stall every other writer, so read, publish and mark in short transactions.
        # The read takes no write lock (a deferred transaction), so polling never makes a writer
        # wait.
        with reading():
            async with self._sessions() as session, session.begin():
                pending = await session.scalars(self._pending)
                rows = [row for row in pending if row.id not in self._in_flight]
        settled, stopped = await self._publish_each(rows)
        if settled:
            async with self._sessions() as session, session.begin():
                await mark(session, settled)
        return _count_or_raise(settled, stopped)

    async def _publish_each(
        self, rows: list[OutboxRecord]
    ) -> tuple[list[Settled], Exception | None]:
        """Publish ``rows``: all handed to the producer at once (it batches them per partition
        and keeps their order), then their acknowledgements read in order. A passing error
        stops there and is returned beside the rows settled before it, for the caller to mark;
        a row refused for good does not stop it."""
        sent = [await self._send(row) for row in rows]
        settled: list[Settled] = []
        for at, (row, ack) in enumerate(zip(rows, sent, strict=True)):
            try:
                await _acknowledged(ack)
            except PERMANENT_ERRORS as exc:
                settled.append(await self._refusals.settle(row, exc))
                continue
            except Exception as exc:
                _forget(sent[at + 1 :])
                return settled, exc
            self._count(row)
            settled.append(Settled(row.id))
        return settled, None

    async def _send(self, row: OutboxRecord) -> asyncio.Future[Any] | Exception:
        """The row handed to the producer: its acknowledgement to come, or why it was not
        taken."""
        try:
            return await self._broker.publish(
                row.payload,
                self._settings.topic(row.topic),
                key=row.key.encode(),
                headers=row.headers,
                no_confirm=True,
            )
        except Exception as exc:
            return exc

    async def _publish(self, row: OutboxRecord, payload: bytes, headers: dict[str, str]) -> None:
        await self._broker.publish(
            payload, self._settings.topic(row.topic), key=row.key.encode(), headers=headers
        )
        self._count(row)

    def _count(self, row: OutboxRecord) -> None:
        OUTBOX_PUBLISHED.labels(self._producer, row.topic).inc()
        OUTBOX_DELAY.labels(self._producer).observe((utcnow() - row.created_at).total_seconds())

    async def _sleep(self, seconds: float) -> bool:
        """Wait ``seconds`` or until woken; whether it was woken."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout=seconds)
        woken = self._wakeup.is_set()
        self._wakeup.clear()
        return woken


async def _acknowledged(ack: asyncio.Future[Any] | Exception) -> None:
    if isinstance(ack, Exception):
        raise ack
    await ack


def _forget(acks: list[asyncio.Future[Any] | Exception]) -> None:
    """Acknowledgements no longer waited for: their errors are retrieved, not reported (the
    poll publishes those rows again)."""
    for ack in acks:
        if isinstance(ack, asyncio.Future):
            ack.add_done_callback(lambda done: done.cancelled() or done.exception())


def _count_or_raise(settled: list[Settled], stopped: Exception | None) -> int:
    if stopped is not None:
        raise stopped
    return len(settled)
