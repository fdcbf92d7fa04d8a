"""Mail tables: raw MIME, detector verdicts, inbox messages, outbound messages, counts, audit."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    inspect,
)
from sqlalchemy.orm import Mapped, mapped_column, validates
from sqlalchemy.orm.base import NO_VALUE

from mailmoat.common.db.base import Base
from mailmoat.common.events.base import utcnow
from mailmoat.common.outbound_status import OutboundStatus, checked_move


class RawMessage(Base):
    """Raw MIME exactly as received over SMTP; committed before ingest answers 250."""

    __tablename__ = "raw_messages"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    inbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inboxes.id"), index=True)
    mail_from: Mapped[str] = mapped_column(String(320))
    rcpt_to: Mapped[str] = mapped_column(String(320))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    client_ip: Mapped[str] = mapped_column(String(45), default="")
    helo: Mapped[str] = mapped_column(String(255), default="")
    # Parsed structure, authentication results and L1 findings as their common models dump them.
    structured: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    authentication: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    invalid_mime: Mapped[bool] = mapped_column(default=False)
    quarantine_reason: Mapped[str | None] = mapped_column(Text, default=None)


class ScanVerdictRecord(Base):
    """One detector's verdict on one mail; at most one per side (primary, checker)."""

    __tablename__ = "scan_verdicts"
    __table_args__ = (UniqueConstraint("mail_id", "detector"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    mail_id: Mapped[uuid.UUID] = mapped_column(index=True)
    detector: Mapped[str] = mapped_column(String(20))
    detector_name: Mapped[str] = mapped_column(String(100))
    detector_version: Mapped[str] = mapped_column(String(50))
    score: Mapped[int]
    flagged: Mapped[bool]
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    latency_ms: Mapped[float]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    coverage: Mapped[list[str]] = mapped_column(JSON, default=list)
    shadow: Mapped[bool] = mapped_column(default=False)
    # Findings the detector found beyond the event's budget: the sanitiser cannot know their
    # spans, so a verdict that dropped any never lets the mail through unread.
    findings_dropped: Mapped[int] = mapped_column(default=0)


class ScanDecision(Base):
    """The consensus for one mail: pending until both verdicts arrive or the deadline passes."""

    __tablename__ = "scan_decisions"

    mail_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    inbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inboxes.id"))
    raw_ref: Mapped[uuid.UUID] = mapped_column(ForeignKey("raw_messages.id"))
    deadline: Mapped[datetime] = mapped_column(index=True)
    decided_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    consensus: Mapped[str | None] = mapped_column(String(10), default=None)
    risk_score: Mapped[int | None] = mapped_column(default=None)
    withheld: Mapped[bool | None] = mapped_column(default=None)
    missing: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What ingest said of the sender (header From, DMARC, allowlisted and aligned, quarantined),
    # for the sender graph; and the graph's signals that the decision's risk includes.
    sender: Mapped[str] = mapped_column(String(320), default="")
    dmarc: Mapped[str] = mapped_column(String(20), default="none")
    trusted_sender: Mapped[bool] = mapped_column(default=False)
    quarantined: Mapped[bool] = mapped_column(default=False)
    sender_signals: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class SenderGraphView(Base):
    """The consensus engine's copy of the inbound sender graph, built from reputation's
    compacted ``sender-graph`` topic: one row per edge (an address or a domain that wrote to an
    inbox). ``skeleton`` is the UTS #39 skeleton of a domain, to find look-alikes by index."""

    __tablename__ = "sender_graph_view"
    __table_args__ = (Index("ix_sender_graph_view_skeleton", "inbox_id", "kind", "skeleton"),)

    inbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inboxes.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    sender: Mapped[str] = mapped_column(String(320), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    skeleton: Mapped[str] = mapped_column(String(1000), default="")
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    messages: Mapped[int] = mapped_column(default=0)
    withheld: Mapped[int] = mapped_column(default=0)
    dmarc_pass: Mapped[int] = mapped_column(default=0)


class Message(Base):
    """An inbound message as the agent sees it, with its consensus and status."""

    __tablename__ = "messages"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    inbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inboxes.id"), index=True)
    mail_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    raw_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("raw_messages.id"))
    from_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    consensus: Mapped[str] = mapped_column(String(10))
    risk_score: Mapped[int]
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    withheld_reason: Mapped[str | None] = mapped_column(Text, default=None)
    # The RFC 5322 Message-ID (angle brackets kept) and the conversation it belongs to: the
    # thread of the message it replies to or references, else a thread of its own.
    message_id_header: Mapped[str | None] = mapped_column(String(998), default=None, index=True)
    thread_id: Mapped[uuid.UUID | None] = mapped_column(default=None, index=True)
    # Sender-graph signals in the risk score, "code: detail" each (first contact, look-alike).
    risk_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The outbound copy check's fingerprint of ``text`` (kept for flagged mail): its smallest
    # word-shingle hashes and its count of distinct shingles; NULL until computed.
    fingerprint: Mapped[list[int] | None] = mapped_column(JSON(none_as_null=True), default=None)
    fingerprint_shingles: Mapped[int | None] = mapped_column(default=None)


class FlaggedShingle(Base):
    """One hash of the fingerprint of an inbound mail held for REVIEW or WITHHELD: the outbound
    copy check finds the flagged mails a draft repeats by looking up the draft's own hashes,
    reading neither the mails nor more rows than the draft has hashes."""

    __tablename__ = "flagged_shingles"
    __table_args__ = (
        Index("ix_flagged_shingles_lookup", "workspace_id", "shingle_hash", "received_at"),
    )

    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    shingle_hash: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    received_at: Mapped[datetime]


class MailFingerprint(Base):
    """The fingerprint of a stored inbound mail (at most 128 shingle hashes, about 1 KB), kept
    apart from the mail: the outbound check for large copies reads a few hundred of them for a
    draft, and on SQLite reading a column stored after a long text walks the text's pages."""

    __tablename__ = "mail_fingerprints"
    __table_args__ = (
        Index("ix_mail_fingerprints_workspace_id_received_at", "workspace_id", "received_at"),
    )

    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"))
    received_at: Mapped[datetime]
    from_address: Mapped[str] = mapped_column(String(320))
    hashes: Mapped[list[int]] = mapped_column(JSON)
    shingles: Mapped[int]


class OutboundMessage(Base):
    """A send an agent asked for, and where it stands in policy and dispatch."""

    __tablename__ = "outbound_messages"
    __table_args__ = (Index("ix_outbound_messages_status_expires_at", "status", "expires_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    inbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inboxes.id"), index=True)
    recipients: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(100))
    # Every write is checked against the state machine (``common.outbound_status``).
    status: Mapped[str] = mapped_column(String(20))
    decision_code: Mapped[str | None] = mapped_column(String(50), default=None)
    decision_message: Mapped[str | None] = mapped_column(Text, default=None)
    risk_score: Mapped[int] = mapped_column(default=0)
    relay_reply: Mapped[str | None] = mapped_column(Text, default=None)
    smtp_message_id: Mapped[str | None] = mapped_column(String(300), default=None)
    # Sanitised HTML, kept only when every recipient's allowlist row allows HTML.
    html: Mapped[str | None] = mapped_column(Text, default=None)
    # The inbound message this answers (its thread bounds who may be mailed).
    in_reply_to: Mapped[uuid.UUID | None] = mapped_column(default=None)
    # Inbound messages the agent says it drew on, and why it sends (for the reviewer).
    context_message_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    reasoning: Mapped[str | None] = mapped_column(Text, default=None)
    # Policy's outbound risk signals, "code: detail" each (the score is risk_score).
    risk_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The rules the send passed, and why a passing send waits for a person (L4, taint).
    policy_checks: Mapped[list[str]] = mapped_column(JSON, default=list)
    held_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The person's decision on a held send: who (actor), when, and their note.
    reviewed_by: Mapped[str | None] = mapped_column(String(200), default=None)
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
    review_note: Mapped[str | None] = mapped_column(Text, default=None)
    # SHA-256 of the draft as approved (``mail.draft.content_sha256``): set by a person's
    # approval, then by policy's; dispatch refuses to send a draft whose fingerprint differs.
    approved_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    # A held send's deadline: its request time plus its inbox's review window, set when policy
    # holds it; the sweep auto-rejects it past this unless a person decided first.
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    # The key that asked to send: it (like any key that can send) may never decide on it.
    requested_by_key_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @validates("status")
    def _move(self, _key: str, new: str) -> OutboundStatus:
        loaded = inspect(self).attrs.status.loaded_value
        return checked_move(None if loaded is NO_VALUE else loaded, new)

    def error(self) -> dict[str, str] | None:
        """Why the send did not go, as the API and the webhooks say it: the rule that refused
        it, or for a failed delivery the relay's reply."""
        if self.decision_code is not None:
            return {"code": self.decision_code, "message": self.decision_message or ""}
        if self.status == OutboundStatus.FAILED:
            return {"code": "relay_failed", "message": self.relay_reply or ""}
        return None


class SendReservation(Base):
    """One message to one recipient counted against the caps, written before it may leave.

    Policy reserves (and so counts) every recipient of an approved send in the transaction that
    approves it, under a lock on the workspace, so concurrent sends can never both take the last
    slot. A failed send keeps its slot; ``outcome`` records what became of it."""

    __tablename__ = "send_reservations"
    __table_args__ = (UniqueConstraint("outbound_id", "recipient"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    inbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inboxes.id"), index=True)
    outbound_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outbound_messages.id"))
    recipient: Mapped[str] = mapped_column(String(320), index=True)
    reserved_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    outcome: Mapped[str | None] = mapped_column(String(20), default=None)


class SenderStats(Base):
    """Reputation's running counts per sending inbox."""

    __tablename__ = "sender_stats"

    inbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inboxes.id"), primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    sent_count: Mapped[int] = mapped_column(default=0)
    failed_count: Mapped[int] = mapped_column(default=0)
    complaint_count: Mapped[int] = mapped_column(default=0)
    bounce_count: Mapped[int] = mapped_column(default=0)
    last_event_at: Mapped[datetime | None] = mapped_column(default=None)


class AuditEntry(Base):
    """Append-only audit row: who did what to which target, hashes rather than content.

    Policy's sealer links each committed row into its workspace's hash chain
    (``mailmoat.common.audit_chain``): ``seq`` is its place, ``prev_sha256`` the hash of the row
    before it and ``row_sha256`` its own, over a canonical encoding of the row and that link.
    A row not sealed yet has none of the three."""

    __tablename__ = "audit_log"
    __table_args__ = (
        UniqueConstraint("workspace_id", "seq"),
        # The sealer's look for a workspace's newest checkpoint: one index probe, not a walk
        # back through the hour of rows since it.
        Index("ix_audit_log_workspace_id_action_seq", "workspace_id", "action", "seq"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    action: Mapped[str] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(100))
    # The outside service an outbound call went to (the SMTP relay for a send), if any.
    provider: Mapped[str | None] = mapped_column(String(200), default=None)
    target: Mapped[str] = mapped_column(Text)
    subject_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    # What changed, for actions that change content (a reviewer's edit as a diff). Kept in
    # the database only: the real-time audit stream never carries it.
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    seq: Mapped[int | None] = mapped_column(BigInteger, default=None, index=True)
    prev_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    row_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
