"""Events of the inbound journey: raw mail stored, detector verdicts, consensus, inbox events."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from mailmoat.common.events.base import Event

MAX_CODE_CHARS = 64
MAX_REASON_CHARS = 300
MAX_PART_CHARS = 100
MAX_FINDINGS = 200
"""Findings one event carries; a detector or an L1 scan that found more counts the rest."""


class Finding(BaseModel):
    """One reason a detector gave, pointing at the text that caused it.

    ``code``, ``part`` and the span are what an agent may see; ``reason`` is for people only
    (it may quote what matched). Every string is cut to its bound, so a finding has a size
    an event budget can count on, whatever the mail held."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(description="Stable machine-readable code of the rule or signal.")
    reason: str = Field(description="Human-readable reason (people only: it may quote the mail).")
    part: str = Field(default="body", description="Part of the message: subject, visible, 2.1...")
    start: int = Field(default=0, ge=0, description="Start of the character span in the part.")
    end: int = Field(default=0, ge=0, description="End of the character span in the part.")

    @field_validator("code", "reason", "part", mode="before")
    @classmethod
    def _bounded(cls, value: Any, info: ValidationInfo) -> Any:
        limit = {"code": MAX_CODE_CHARS, "part": MAX_PART_CHARS}.get(info.field_name or "")
        limit = limit or MAX_REASON_CHARS
        return value[:limit] if isinstance(value, str) else value


def capped(findings: tuple[Finding, ...]) -> tuple[tuple[Finding, ...], int]:
    """At most ``MAX_FINDINGS`` findings, and how many were left out."""
    return findings[:MAX_FINDINGS], max(0, len(findings) - MAX_FINDINGS)


class RawMailReceived(Event):
    """Ingest committed a message for an inbox; the raw MIME lives in the store, not here."""

    inbox_id: uuid.UUID = Field(description="Inbox the message was delivered to.")
    raw_ref: uuid.UUID = Field(description="Id of the stored raw MIME (raw_messages.id).")
    sha256: str = Field(description="SHA-256 of the raw MIME, hex.", pattern=r"^[0-9a-f]{64}$")
    size: int = Field(description="Size of the raw MIME in bytes.", ge=0)
    mail_from: str = Field(description="SMTP envelope sender (may be empty for bounces).")
    rcpt_to: str = Field(description="SMTP envelope recipient that matched the inbox.")
    security_level: str = Field(description="Inbox security level when the mail arrived (L1-L4).")
    invalid_mime: bool = Field(default=False, description="The parser could not fully read it.")
    l1_findings: tuple[Finding, ...] = Field(
        default=(), description="L1 basic-scan findings (malware, dangerous attachments)."
    )
    quarantine_reason: str | None = Field(
        default=None, description="Why ingest quarantined it (L1 finding, blocked sender, DMARC)."
    )
    dmarc: str = Field(default="none", description="DMARC result for the header From domain.")
    trusted_sender: bool = Field(
        default=False, description="On the inbox's sender allowlist and DMARC-aligned."
    )
    header_from: str = Field(
        default="", description="The header From addr-spec, lowercased ('' when there is none)."
    )
    l1_findings_dropped: int = Field(
        default=0, ge=0, description="L1 findings left out of this event (all are stored)."
    )

    def slimmed(self) -> RawMailReceived:
        """Without the L1 findings (they stay in the store); the count says how many."""
        dropped = self.l1_findings_dropped + len(self.l1_findings)
        return self.model_copy(update={"l1_findings": (), "l1_findings_dropped": dropped})


class DetectorVerdict(Event):
    """One detector's independent judgement of one mail (the consensus topic's record)."""

    detector: str = Field(description="Detector side: 'primary' or 'checker'.")
    detector_name: str = Field(description="Implementation name, e.g. 'phrase-scorer'.")
    detector_version: str = Field(description="Version of the detector implementation or model.")
    score: int = Field(ge=0, le=100, description="Injection likelihood 0-100.")
    flagged: bool = Field(description="Whether the detector flags the mail.")
    findings: tuple[Finding, ...] = Field(default=(), description="Reasons behind the score.")
    error: str | None = Field(default=None, description="Set when the detector failed (a flag).")
    latency_ms: float = Field(ge=0, description="Time the detector took.")
    coverage: tuple[str, ...] = Field(
        default=(), description="Message parts the detector read completely (subject, visible...)."
    )
    shadow: bool = Field(
        default=False,
        description="A shadow detector's verdict: recorded, never part of a decision.",
    )
    findings_dropped: int = Field(
        default=0,
        ge=0,
        description="Findings left out of the verdict; its spans are then not all known, so the "
        "mail cannot be sanitised and is withheld.",
    )

    def slimmed(self) -> DetectorVerdict:
        """Without findings or coverage list: a flag at 100 that says how much it dropped."""
        return self.model_copy(
            update={
                "findings": (),
                "findings_dropped": self.findings_dropped + len(self.findings),
                "coverage": (),
                "score": 100,
                "flagged": True,
            }
        )


class Consensus(StrEnum):
    """Outcome of joining the two detector verdicts."""

    PASS = "PASS"  # noqa: S105  (a verdict, not a password)
    REVIEW = "REVIEW"
    WITHHOLD = "WITHHOLD"


class SenderSignal(BaseModel):
    """What the sender graph says about a mail's sender, and the risk points it adds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(description="first_contact, past_withheld, lookalike_domain, ...")
    points: int = Field(ge=0, le=100, description="Risk points added to the detectors' score.")
    detail: str = Field(description="What was seen, for the person reviewing.")


class MailScanned(Event):
    """The consensus engine's decision for one mail."""

    inbox_id: uuid.UUID = Field(description="Inbox the mail belongs to.")
    raw_ref: uuid.UUID = Field(description="Id of the stored raw MIME.")
    consensus: Consensus = Field(description="PASS, REVIEW or WITHHOLD.")
    risk_score: int = Field(ge=0, le=100, description="Combined risk 0-100.")
    withheld: bool = Field(description="True when the mail must not reach the agent unreleased.")
    verdict_ids: tuple[uuid.UUID, ...] = Field(description="event_id of each verdict joined.")
    missing: tuple[str, ...] = Field(
        default=(), description="Sides with no verdict by the deadline (each counted as a flag)."
    )
    analysed: bool = Field(
        default=True, description="False for L1 inboxes: no AI analysis ran (and none is charged)."
    )
    sender: str = Field(default="", description="The header From address, lowercased.")
    dmarc: str = Field(default="none", description="DMARC result for the header From domain.")
    quarantined: bool = Field(default=False, description="Ingest quarantined it (L1 finding...).")
    sender_signals: tuple[SenderSignal, ...] = Field(
        default=(), description="Sender-graph signals whose points are in ``risk_score``."
    )
    withheld_reason: str | None = Field(
        default=None, description="'detectors', or the sender signals that pushed it over 70."
    )


class InboxEventKind(StrEnum):
    """What happened in an inbox (the webhook event types)."""

    MESSAGE_RECEIVED = "message.received"
    MESSAGE_WITHHELD = "message.withheld"
    MESSAGE_RELEASED = "message.released"
    OUTBOUND_PENDING_APPROVAL = "outbound.pending_approval"
    OUTBOUND_SENT = "outbound.sent"
    OUTBOUND_FAILED = "outbound.failed"
    OUTBOUND_REJECTED = "outbound.rejected"
    SENDER_WARNED = "sender.warned"
    SENDER_THROTTLED = "sender.throttled"
    SENDER_SUSPENDED = "sender.suspended"
    SENDER_ACTIVE = "sender.active"


class InboxEvent(Event):
    """A change agents hear about through webhooks; carries ids, the body is fetched by id."""

    inbox_id: uuid.UUID = Field(description="Inbox the event concerns.")
    kind: InboxEventKind = Field(description="Event type, as delivered to webhooks.")
    message_id: uuid.UUID = Field(
        description="Id of the message or outbound message (for sender.* events, the inbox)."
    )
    reason: str | None = Field(default=None, description="Why, for sender.* events.")
    sender: str | None = Field(
        default=None, description="The inbound message's From address, for message.* events."
    )
