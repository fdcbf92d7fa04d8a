"""Dead letters: the records consumers gave up on, recorded, listed and replayed onto their topic.

A replay is safe because the group that dead-lettered a record never recorded its ``event_id``
as processed, while every other group on the topic did, and skips the replayed copy.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.audit import record_audit
from mailmoat.common.db.session import SessionFactory
from mailmoat.common.db.tables import DeadLetter
from mailmoat.common.events.base import Event, utcnow
from mailmoat.common.observability.metrics import DEAD_LETTERS_PENDING
from mailmoat.common.settings import CommonSettings

log = logging.getLogger(__name__)

ERROR_LIMIT = 4000
"""Characters of an error kept, in the row and in the dlq record's ``x-error`` header."""
REPLAYED_FROM = "x-replayed-from"
"""Header a replayed record carries: the id of the dead letter it came from."""
AUDIT_PRODUCER = "gateway"
"""Whose outbox relay publishes the audit event of a replay: the CLI runs no relay of its own
(as for ``mailmoat admin split-keys``)."""


class ReplayRefused(Exception):
    """A dead letter that cannot be replayed as asked; the message says why."""


class UnknownDeadLetter(ReplayRefused):
    """No dead letter has the id given."""


class AlreadyReplayed(ReplayRefused):
    """The dead letter was replayed before, and ``force`` was not given."""


def letter_for(
    consumer: str,
    topic: str,
    record: ConsumerRecord[Any, Any],
    body: bytes,
    headers: dict[str, str],
    exc: Exception,
    *,
    event: Event | None,
) -> DeadLetter:
    """The dead letter of ``record`` read from ``topic`` (its name unprefixed; ``event`` None
    when it did not decode), as ``consumer`` gave up on it for ``exc``."""
    return DeadLetter(
        consumer=consumer,
        topic=topic,
        event_id=event.event_id if event is not None else None,
        workspace_id=event.workspace_id if event is not None else None,
        # Our producers' keys are text (ids); a foreign binary key is kept readable.
        key=record.key.decode(errors="replace") if record.key is not None else None,
        payload=body,
        headers=headers,
        error_type=type(exc).__name__,
        error=str(exc)[:ERROR_LIMIT],
        original_partition=record.partition,
        original_offset=record.offset,
    )


async def record_dead_letter(sessions: SessionFactory, letter: DeadLetter) -> bool:
    """Write ``letter`` in its own short transaction; False, logged, when that fails. The
    caller publishes the record to its dlq topic either way, so nothing is dropped."""
    try:
        async with sessions() as session, session.begin():
            session.add(letter)
    except Exception:
        log.exception("dead letter not recorded in the database; published to the dlq only")
        return False
    return True


async def list_dead_letters(
    session: AsyncSession,
    *,
    topic: str | None = None,
    consumer: str | None = None,
    workspace_id: uuid.UUID | None = None,
    include_replayed: bool = False,
    limit: int | None = 100,
) -> list[DeadLetter]:
    """Dead letters, oldest first; those replayed already only with ``include_replayed``.
    ``topic`` is the logical name (``raw-mail``), ``consumer`` the group as recorded."""
    query = select(DeadLetter).order_by(DeadLetter.id).limit(limit)
    if topic is not None:
        query = query.where(DeadLetter.topic == topic)
    if consumer is not None:
        query = query.where(DeadLetter.consumer == consumer)
    if workspace_id is not None:
        query = query.where(DeadLetter.workspace_id == workspace_id)
    if not include_replayed:
        query = query.where(DeadLetter.replayed_at.is_(None))
    return list(await session.scalars(query))


async def get_dead_letter(session: AsyncSession, letter_id: int) -> DeadLetter | None:
    """One dead letter by id, or None."""
    return await session.get(DeadLetter, letter_id)


async def replay_dead_letter(
    session: AsyncSession,
    broker: KafkaBroker,
    settings: CommonSettings,
    letter_id: int,
    *,
    actor: str,
    force: bool = False,
    source: str = "cli",
) -> DeadLetter:
    """Publish a dead letter's payload back onto its original topic, with its key and headers
    and ``x-replayed-from``, then mark it replayed and audit the replay in its workspace.

    Runs in the caller's transaction, which must be open: the letter's row is locked until it
    commits (PostgreSQL), so two operators cannot replay one letter at once. A letter replayed
    before is refused (``AlreadyReplayed``) unless ``force``."""
    query = select(DeadLetter).where(DeadLetter.id == letter_id).with_for_update()
    letter = await session.scalar(query)
    if letter is None:
        raise UnknownDeadLetter(f"no dead letter has id {letter_id}")
    if letter.replayed_at is not None and not force:
        raise AlreadyReplayed(
            f"dead letter {letter_id} was replayed at {letter.replayed_at.isoformat()} "
            f"by {letter.replayed_by}; force a replay to send it again"
        )
    await _publish(broker, settings, letter)
    letter.replayed_at = utcnow()
    letter.replayed_by = actor
    letter.replays += 1
    if letter.workspace_id is not None and letter.event_id is not None:
        _audit(session, letter, letter.workspace_id, letter.event_id, actor=actor, source=source)
    return letter


async def count_pending(session: AsyncSession) -> dict[tuple[str, str], int]:
    """Dead letters not replayed, per (consumer, topic): what ``export_pending`` shows."""
    query = (
        select(DeadLetter.consumer, DeadLetter.topic, func.count())
        .where(DeadLetter.replayed_at.is_(None))
        .group_by(DeadLetter.consumer, DeadLetter.topic)
    )
    return {(consumer, topic): count for consumer, topic, count in await session.execute(query)}


def export_pending(counts: Mapping[tuple[str, str], int]) -> None:
    """Set ``mailmoat_dead_letters_pending`` to ``counts``; a pair no longer counted drops to 0."""
    for metric in DEAD_LETTERS_PENDING.collect():
        for sample in metric.samples:
            labels = (sample.labels["consumer"], sample.labels["topic"])
            if labels not in counts:
                DEAD_LETTERS_PENDING.labels(*labels).set(0)
    for (consumer, topic), count in counts.items():
        DEAD_LETTERS_PENDING.labels(consumer, topic).set(count)


async def _publish(broker: KafkaBroker, settings: CommonSettings, letter: DeadLetter) -> None:
    headers = {**letter.headers, REPLAYED_FROM: str(letter.id)}
    key = letter.key.encode() if letter.key is not None else None
    await broker.publish(letter.payload, settings.topic(letter.topic), key=key, headers=headers)


def _audit(
    session: AsyncSession,
    letter: DeadLetter,
    workspace_id: uuid.UUID,
    event_id: uuid.UUID,
    *,
    actor: str,
    source: str,
) -> None:
    record_audit(
        session,
        workspace_id=workspace_id,
        mail_id=_mail_id(letter.payload, default=event_id),
        action="dead_letter.replayed",
        actor=actor,
        source=source,
        target=f"dead_letter:{letter.id}",
        detail={
            "topic": letter.topic,
            "consumer": letter.consumer,
            "event_id": str(event_id),
            "replays": letter.replays,
        },
        producer=AUDIT_PRODUCER,
    )


def _mail_id(payload: bytes, *, default: uuid.UUID) -> uuid.UUID:
    """The journey's correlation id in the payload: a letter with a workspace parsed as its
    topic's event, so it has one; ``default`` should the payload say otherwise."""
    try:
        return uuid.UUID(json.loads(payload)["mail_id"])
    except (ValueError, KeyError, TypeError):
        return default
