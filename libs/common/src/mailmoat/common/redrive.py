"""Redrive: what the broker lost is published again from the database.

Every event a service stages stays in its outbox row once published. A row is *settled* when
every consumer owed its event has taken it: a transactional consumer group recorded the event as
processed (or dead-lettered it, which has its own way back: ``mailmoat dlq``); policy decided the
send it asks for; dispatch claimed the approved send, or recorded the webhook deliveries the
event owes. A row published more than ``after`` ago and still unsettled was lost on the way (the
memory-only embedded broker restarted, a topic was re-created): its producer publishes the same
record again, with the same event id, and the consumers that did take it skip it. Settled rows
are marked and never read again, so a pass reads only what is recent or in doubt.

Each attempt waits twice as long as the one before it (``after``, then twice, then four times
``after``, and no longer), so a consumer that is only slow (a backlog longer than ``after``) is
not buried under copies of what it has yet to read.

A row redriven ``max_attempts`` times and still unsettled is *stuck*: logged once at ERROR and
counted in ``mailmoat_redrive_stuck`` for as long as it stays so, for a person to look at. Every
mail and every send therefore ends in a terminal state or an alert.

State keeps its order: a sender's standing and a send's request or approval are published again
only while they are the latest of their key; an older one that a newer one superseded is settled.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from faststream.kafka import KafkaBroker
from sqlalchemy import Select, select, update

from mailmoat.common.db.session import SessionFactory, reading
from mailmoat.common.db.tables import (
    OutboxRecord,
)
from mailmoat.common.events.base import utcnow
from mailmoat.common.observability.metrics import REDRIVE_REPUBLISHED, REDRIVE_STUCK
from mailmoat.common.outbox_failures import PERMANENT_ERRORS, SLIMMED_HEADER, stand_in_for
from mailmoat.common.settings import CommonSettings
from mailmoat.common.unsettled import unsettled

log = logging.getLogger(__name__)

BATCH_SIZE = 500
BACKOFF_CAP = 4
"""The longest wait between two attempts, in multiples of the first."""
REDRIVE_HEADER = "x-redrive"


@dataclass
class RedriveReport:
    """What one pass found: rows settled, published again (by topic) and stuck (by topic)."""

    settled: int = 0
    republished: Counter[str] = field(default_factory=Counter)
    stuck: Counter[str] = field(default_factory=Counter)
    failed: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "settled": self.settled,
            "republished": dict(self.republished),
            "stuck": dict(self.stuck),
            "publish_failed": self.failed,
        }


Publish = Callable[[OutboxRecord, bytes, dict[str, str]], Awaitable[None]]


class Redrive:
    """One producer's redrive (or, with ``producer`` None, every producer's: the CLI's)."""

    def __init__(
        self,
        sessions: SessionFactory,
        broker: KafkaBroker,
        settings: CommonSettings,
        *,
        producer: str | None,
        ensure_topics: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._sessions = sessions
        self._broker = broker
        self._settings = settings
        self._producer = producer
        self._ensure_topics = ensure_topics
        self._stuck_labels: set[tuple[str, str]] = set()

    async def run_once(
        self, cutoff: datetime, *, backoff: bool = True, dry_run: bool = False
    ) -> RedriveReport:
        """Settle, publish again or report stuck every unsettled row published before
        ``cutoff``; with ``dry_run`` only report what would be published.

        With ``backoff`` a row already redriven waits longer for its next attempt (the wait
        since ``cutoff`` doubles with each); without it, every row last sent before ``cutoff``
        is due: for a caller who knows the broker lost everything before then."""
        report = RedriveReport()
        due_before = _due_before(cutoff, backoff=backoff)
        stuck_by: Counter[tuple[str, str]] = Counter()
        after_id = 0
        topics_ready = False
        while True:
            with reading():
                async with self._sessions() as session, session.begin():
                    rows = list(await session.scalars(self._unsettled_rows(cutoff, after_id)))
                    waiting = await unsettled(session, self._settings, rows) if rows else set()
            if not rows:
                break
            after_id = rows[-1].id
            settled = [row.id for row in rows if row.id not in waiting]
            due: list[OutboxRecord] = []
            newly_stuck: list[OutboxRecord] = []
            limit = self._settings.redrive_max_attempts
            for row in rows:
                if row.id not in waiting:
                    continue
                if row.redrives >= limit:
                    report.stuck[row.topic] += 1
                    stuck_by[(row.producer, row.topic)] += 1
                    if row.redrives == limit and _due(row, due_before):
                        newly_stuck.append(row)
                elif _due(row, due_before):
                    due.append(row)
            report.settled += len(settled)
            if dry_run:
                for row in due:
                    report.republished[row.topic] += 1
                continue
            if due and not topics_ready and self._ensure_topics is not None:
                await self._ensure_topics()
                topics_ready = True
            published = await self._publish_all(due, report)
            for row in newly_stuck:
                log.error(
                    "outbox row %d stuck: %s event %s (key %s) published %d times and not taken "
                    "by every consumer owed it",
                    row.id,
                    row.topic,
                    row.event_id,
                    row.key,
                    row.redrives + 1,
                )
            await self._mark(settled, published, [row.id for row in newly_stuck])
            if len(rows) < BATCH_SIZE:
                break
        if not dry_run:
            self._set_stuck_gauge(stuck_by)
        return report

    def _unsettled_rows(self, cutoff: datetime, after_id: int) -> Select[OutboxRecord]:
        query = (
            select(OutboxRecord)
            .where(
                OutboxRecord.settled_at.is_(None),
                OutboxRecord.published_at < cutoff,
                OutboxRecord.failed_at.is_(None),
                OutboxRecord.id > after_id,
            )
            .order_by(OutboxRecord.id)
            .limit(BATCH_SIZE)
        )
        if self._producer is not None:
            query = query.where(OutboxRecord.producer == self._producer)
        return query

    async def _publish_all(self, rows: list[OutboxRecord], report: RedriveReport) -> list[int]:
        published: list[int] = []
        for row in rows:
            headers = {**row.headers, REDRIVE_HEADER: str(row.redrives + 1)}
            try:
                await self._publish(row, headers)
            except Exception:
                # The broker is away: the rows left wait for the next pass, in order.
                log.warning("redrive stopped: the broker refused a publish", exc_info=True)
                report.failed += len(rows) - len(published)
                break
            published.append(row.id)
            report.republished[row.topic] += 1
            REDRIVE_REPUBLISHED.labels(row.producer, row.topic).inc()
        if published:
            log.warning("redrive published %d events again", len(published))
        return published

    async def _publish(self, row: OutboxRecord, headers: dict[str, str]) -> None:
        topic = self._settings.topic(row.topic)
        try:
            await self._broker.publish(row.payload, topic, key=row.key.encode(), headers=headers)
        except PERMANENT_ERRORS:
            stand_in = stand_in_for(row)  # it went out slimmed the first time too
            if stand_in is None:
                raise
            headers = {**headers, SLIMMED_HEADER: "true"}
            await self._broker.publish(stand_in, topic, key=row.key.encode(), headers=headers)

    async def _mark(self, settled: list[int], published: list[int], stuck: list[int]) -> None:
        if not (settled or published or stuck):
            return
        now = utcnow()
        async with self._sessions() as session, session.begin():
            if settled:
                ids = OutboxRecord.id.in_(settled)
                await session.execute(update(OutboxRecord).where(ids).values(settled_at=now))
            if published:
                await session.execute(
                    update(OutboxRecord)
                    .where(OutboxRecord.id.in_(published))
                    .values(redriven_at=now, redrives=OutboxRecord.redrives + 1)
                )
            if stuck:  # reported once: past the limit, the row is only counted
                await session.execute(
                    update(OutboxRecord)
                    .where(OutboxRecord.id.in_(stuck))
                    .values(redrives=OutboxRecord.redrives + 1)
                )

    def _set_stuck_gauge(self, stuck: Counter[tuple[str, str]]) -> None:
        for labels in self._stuck_labels - set(stuck):
            REDRIVE_STUCK.labels(*labels).set(0)
        for labels, count in stuck.items():
            REDRIVE_STUCK.labels(*labels).set(count)
        self._stuck_labels = set(stuck)


def _due_before(cutoff: datetime, *, backoff: bool) -> Callable[[int], datetime]:
    """When a row redriven ``n`` times must have been last sent, at the latest, to be due."""
    if not backoff:
        return lambda _: cutoff
    now = utcnow()
    wait = max(now - cutoff, timedelta(0))
    return lambda n: now - wait * min(2 ** max(n, 0), BACKOFF_CAP)


def _due(row: OutboxRecord, due_before: Callable[[int], datetime]) -> bool:
    return row.redriven_at is None or row.redriven_at < due_before(row.redrives)
