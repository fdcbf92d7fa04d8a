"""Delivery plumbing: the transactional outbox and the processed-event ledger for idempotency."""

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
    __table_args__ = (Index("ix_outbox_pending", "producer", "published_at", "id"),)

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


class ProcessedEvent(Base):
    """Marks an event as handled by a consumer group, in the handler's own transaction."""

    __tablename__ = "processed_events"

    consumer: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(index=True)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow)
