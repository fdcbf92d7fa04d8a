"""Inbound-only tables: per-inbox sender rules and the feedback reports ingest received."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mailmoat.common.db.base import Base
from mailmoat.common.events.base import utcnow


class InboxSenderRule(Base):
    """An inbound sender allow/block entry: an address or a domain (and its subdomains)."""

    __tablename__ = "inbox_sender_rules"
    __table_args__ = (UniqueConstraint("inbox_id", "pattern"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    inbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inboxes.id"), index=True)
    pattern: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(10))  # "allow" or "block"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedbackReport(Base):
    """An ARF complaint or DSN bounce as received, kept whether or not it matched a send."""

    __tablename__ = "feedback_reports"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    workspace_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("workspaces.id"), index=True, default=None
    )
    outbound_id: Mapped[uuid.UUID | None] = mapped_column(default=None, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    original_message_id: Mapped[str | None] = mapped_column(String(300), default=None)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    mail_from: Mapped[str] = mapped_column(String(320), default="")
    client_ip: Mapped[str] = mapped_column(String(45), default="")
    note: Mapped[str | None] = mapped_column(Text, default=None)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
