"""Reputation's tables: hourly outcome counts per sender, each sender's standing, the
recipients each inbox has written to (a first-time recipient counts toward a burst), the
complaints and bounces already counted (each counts once), and the inbound sender graph."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mailmoat.common.db.base import Base
from mailmoat.common.events.base import utcnow


class ReputationBucket(Base):
    """One hour of one sender's outbound outcomes. A sender is an inbox or a whole workspace
    (``scope``); ``epoch`` starts again at each reinstatement, so what led to a suspension is
    not counted twice. Windows (24 h, 7 d) sum at most 168 of these rows."""

    __tablename__ = "reputation_buckets"

    scope: Mapped[str] = mapped_column(String(10), primary_key=True)
    scope_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    epoch: Mapped[int] = mapped_column(primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    sent: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    hard_bounces: Mapped[int] = mapped_column(default=0)
    soft_bounces: Mapped[int] = mapped_column(default=0)
    complaints: Mapped[int] = mapped_column(default=0)
    first_contacts: Mapped[int] = mapped_column(default=0)


class SenderStanding(Base):
    """Where a sender stands: ``active``, ``warned``, ``throttled`` (until a time) or
    ``suspended`` (until a person reinstates it), and the current minute's counts the burst
    detector reads."""

    __tablename__ = "sender_standing"

    scope: Mapped[str] = mapped_column(String(10), primary_key=True)
    scope_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    epoch: Mapped[int] = mapped_column(default=0)
    epoch_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="active")
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    until: Mapped[datetime | None] = mapped_column(default=None)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    minute: Mapped[datetime | None] = mapped_column(default=None)
    minute_sent: Mapped[int] = mapped_column(default=0)
    minute_first_contacts: Mapped[int] = mapped_column(default=0)


class SentRecipient(Base):
    """A recipient an inbox has sent to, and when first."""

    __tablename__ = "sent_recipients"

    inbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inboxes.id"), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(320), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    first_sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class CountedFeedback(Base):
    """A complaint or bounce reputation has counted: one per send, recipient and kind, so a
    report that arrives again (replayed, or redelivered by the bus) changes nothing."""

    __tablename__ = "counted_feedback"

    outbound_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(320), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    counted_at: Mapped[datetime] = mapped_column(default=utcnow)


class SenderEdge(Base):
    """An edge of the inbound sender graph: an external sender (``kind`` address or domain)
    that has written to an inbox, with when, how often, and what became of its mail."""

    __tablename__ = "sender_edges"

    inbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inboxes.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    sender: Mapped[str] = mapped_column(String(320), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    messages: Mapped[int] = mapped_column(default=0)
    passed: Mapped[int] = mapped_column(default=0)
    reviewed: Mapped[int] = mapped_column(default=0)
    # Withheld and not released since; a person's release moves one to ``released``.
    withheld: Mapped[int] = mapped_column(default=0)
    released: Mapped[int] = mapped_column(default=0)
    dmarc_pass: Mapped[int] = mapped_column(default=0)
    dmarc_fail: Mapped[int] = mapped_column(default=0)
    last_dmarc: Mapped[str] = mapped_column(String(20), default="none")
