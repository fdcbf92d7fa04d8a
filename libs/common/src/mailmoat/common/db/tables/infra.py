"""Delivery plumbing: the transactional outbox, the processed-event ledger and dead letters."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mailmoat.common.db.base import Base
from mailmoat.common.events.base import utcnow


class OutboxRecord(Base):
    """An event written in the same transaction as the state change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "producer", "published_at", "id"),
        Index("ix_outbox_unsettled", "producer", "settled_at", "id"),
        Index("ix_outbox_topic_key", "topic", "key"),
    )

    # SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(index=True)
    producer: Mapped[str] = mapped_column(String(50))
    topic: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(100))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    # A row the broker refused for good (too large, say) is set aside rather than retried, so
    # the rows behind it are not held up; the relay records when and why.
    failed_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    # Redrive: when every consumer owed the event was seen to have taken it (the row is then
    # never looked at again), and how often and when it was published again until then.
    settled_at: Mapped[datetime | None] = mapped_column(default=None)
    redriven_at: Mapped[datetime | None] = mapped_column(default=None)
    redrives: Mapped[int] = mapped_column(default=0)


class ProcessedEvent(Base):
    """Marks an event as handled by a consumer group, in the handler's own transaction."""

    __tablename__ = "processed_events"

    consumer: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(index=True)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeadLetter(Base):
    """A record a consumer group gave up on, kept so that an operator can inspect and replay it.

    Written before the record goes to ``<topic>.dlq``: the topic is a copy for live readers,
    this row is the record that survives the broker."""

    __tablename__ = "dead_letters"
    __table_args__ = (
        Index("ix_dead_letters_consumer_event_id", "consumer", "event_id"),
        Index("ix_dead_letters_replayed_at", "replayed_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    consumer: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(200))
    # None when the record did not even parse as its topic's event.
    event_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    workspace_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    key: Mapped[str | None] = mapped_column(Text, default=None)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[dict[str, str]] = mapped_column(JSON)
    error_type: Mapped[str] = mapped_column(String(200))
    error: Mapped[str] = mapped_column(Text)
    original_partition: Mapped[int] = mapped_column(Integer)
    original_offset: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    replayed_at: Mapped[datetime | None] = mapped_column(default=None)
    replayed_by: Mapped[str | None] = mapped_column(String(200), default=None)
    replays: Mapped[int] = mapped_column(Integer, default=0)
