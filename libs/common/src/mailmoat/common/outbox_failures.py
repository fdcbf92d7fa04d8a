"""The outbox relay's answer to a row the broker refuses for good: a slimmed stand-in, or the row
set aside (failed, counted, logged, noticed on the topic's dead-letter twin) so the rows behind it
go on."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiokafka.errors import (
    CorruptRecordException,
    InvalidMessageError,
    InvalidTimestampError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    UnsupportedForMessageFormatError,
)
from faststream.kafka import KafkaBroker
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Update, update
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.tables import OutboxRecord
from mailmoat.common.events import EVENT_BY_TOPIC, Event
from mailmoat.common.events.base import utcnow
from mailmoat.common.observability.metrics import OUTBOX_FAILED
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic

log = logging.getLogger(__name__)

# Refusals of the record itself: sent again, it fails again. Anything else (connection, timeout,
# leadership, an error we do not know) is taken as passing: the batch stops and the next poll
# retries in order. Too large is raised by the client (its max_request_size) before anything is
# sent, and is the same class a broker's message.max.bytes refusal comes back as.
PERMANENT_ERRORS: tuple[type[Exception], ...] = (
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    CorruptRecordException,
    InvalidMessageError,
    InvalidTimestampError,
    UnsupportedForMessageFormatError,
)
ERROR_LIMIT = 2000
SLIMMED_HEADER = "x-slimmed"

Publish = Callable[[OutboxRecord, bytes, dict[str, str]], Awaitable[None]]


@dataclass(frozen=True)
class Settled:
    """What became of one outbox row: published (as itself, or as a stand-in with a ``note``) or,
    when ``failed``, set aside with the ``note`` saying why."""

    row_id: int
    failed: bool = False
    note: str | None = None


async def mark(session: AsyncSession, settled: list[Settled]) -> None:
    """Record what became of each settled row; a row another path published stays as it is."""
    now = utcnow()
    plain = [row.row_id for row in settled if row.note is None]
    if plain:
        await session.execute(_unpublished(plain).values(published_at=now))
    for row in settled:
        if row.note is not None:
            column = "failed_at" if row.failed else "published_at"
            await session.execute(
                _unpublished([row.row_id]).values({column: now, "error": row.note})
            )


def _unpublished(ids: list[int]) -> Update:
    return update(OutboxRecord).where(OutboxRecord.id.in_(ids), OutboxRecord.published_at.is_(None))


class OutboxFailureNotice(BaseModel):
    """What the relay leaves on a topic's dead-letter twin for a row it set aside; the row itself
    stays in the outbox table, with ``failed_at`` and ``error``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    outbox_id: int = Field(description="Id of the outbox row set aside.")
    producer: str = Field(description="Service that staged the row.")
    topic: str = Field(description="Topic the row was meant for (logical name).")
    event_id: uuid.UUID = Field(description="The event's id, as consumers would have seen it.")
    key: str = Field(description="The record's key: the mail's id, unless its topic keys on more.")
    event_type: str = Field(description="The event's class name, from the row's headers.")
    payload_bytes: int = Field(ge=0, description="Size of the refused payload.")
    error: str = Field(description="Why the broker refused it (bounded).")


def describe(exc: BaseException) -> str:
    """An error as bounded text for the outbox row and the notice."""
    return f"{type(exc).__name__}: {exc}"[:ERROR_LIMIT]


def stand_in_for(row: OutboxRecord) -> bytes | None:
    """The row's event cut down by its ``slimmed()``; None when the payload is not its topic's
    event or nothing could be dropped."""
    try:
        event = EVENT_BY_TOPIC[Topic(row.topic)].model_validate_json(row.payload)
    except ValueError:  # an unknown topic, or a payload that is not the topic's event
        return None
    return slimmed_payload(event, len(row.payload))


def slimmed_payload(event: Event, size: int) -> bytes | None:
    """``event.slimmed()`` serialised, if it dropped something and comes out under ``size``."""
    slim = event.slimmed()
    if slim == event:
        return None
    payload = slim.to_bytes()
    return payload if len(payload) < size else None


class Refusals:
    """Settles a row the broker refused for good. Its slimmed stand-in goes out in its place or,
    failing that, the row is set aside: counted, logged at ERROR and, best effort, noticed on its
    topic's dead-letter twin. Either way the relay marks it and goes on."""

    def __init__(
        self, publish: Publish, broker: KafkaBroker, settings: CommonSettings, *, producer: str
    ) -> None:
        self._publish = publish
        self._broker = broker
        self._settings = settings
        self._producer = producer

    async def settle(self, row: OutboxRecord, refused: Exception) -> Settled:
        """A stand-in published for ``row``, or ``row`` set aside."""
        stand_in = stand_in_for(row)
        if stand_in is None:
            return await self._set_aside(row, refused)
        try:
            await self._publish(row, stand_in, {**row.headers, SLIMMED_HEADER: "true"})
        except PERMANENT_ERRORS as exc:
            return await self._set_aside(row, exc)
        log.warning("outbox row %d went out slimmed: %s", row.id, describe(refused))
        note = f"slimmed stand-in published ({len(stand_in)} bytes): {describe(refused)}"
        return Settled(row.id, note=note[:ERROR_LIMIT])

    async def _set_aside(self, row: OutboxRecord, exc: Exception) -> Settled:
        error = describe(exc)
        OUTBOX_FAILED.labels(self._producer, row.topic).inc()
        log.error(
            "outbox row %d set aside (%s, key %s, event %s, %d bytes): %s",
            row.id,
            row.topic,
            row.key,
            row.event_id,
            len(row.payload),
            error,
        )
        await self._notify(row, exc, error)
        return Settled(row.id, failed=True, note=error)

    async def _notify(self, row: OutboxRecord, exc: Exception, error: str) -> None:
        try:
            await self._broker.publish(
                self._notice(row, error).model_dump_json().encode(),
                self._settings.topic(Topic(row.topic).dlq),
                key=row.key.encode(),
                headers=self._headers(row, exc, error),
            )
        except Exception:  # the row is set aside all the same: the metric and log tell of it
            log.warning("no dead-letter notice for outbox row %d", row.id, exc_info=True)

    def _notice(self, row: OutboxRecord, error: str) -> OutboxFailureNotice:
        return OutboxFailureNotice(
            outbox_id=row.id,
            producer=self._producer,
            topic=row.topic,
            event_id=row.event_id,
            key=row.key,
            event_type=row.headers.get("event-type", ""),
            payload_bytes=len(row.payload),
            error=error,
        )

    def _headers(self, row: OutboxRecord, exc: Exception, error: str) -> dict[str, str]:
        # As a consumer's dead letters, but the body is a notice, not the event.
        return {
            "event-type": OutboxFailureNotice.__name__,
            "x-error-type": type(exc).__name__,
            "x-error": error,
            "x-original-topic": self._settings.topic(row.topic),
            "x-producer": self._producer,
            "x-outbox-id": str(row.id),
        }
