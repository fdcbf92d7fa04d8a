"""Versioned event models, one module per topic; ``EVENT_BY_TOPIC`` says which travels where."""

from __future__ import annotations

from mailmoat.common.events.base import Event
from mailmoat.common.events.feedback import FeedbackReceived
from mailmoat.common.events.inbound import (
    Consensus,
    DetectorVerdict,
    Finding,
    InboxEvent,
    InboxEventKind,
    MailScanned,
    RawMailReceived,
    SenderSignal,
)
from mailmoat.common.events.operations import (
    AuditRecorded,
    SenderEdgeUpdated,
    SenderStatusChanged,
)
from mailmoat.common.events.outbound import MailSent, SendApproved, SendDecided, SendRequested
from mailmoat.common.topics import Topic

EVENT_BY_TOPIC: dict[Topic, type[Event]] = {
    Topic.RAW_MAIL: RawMailReceived,
    Topic.SCAN_VERDICTS: DetectorVerdict,
    Topic.SCANNED_MAIL: MailScanned,
    Topic.SEND_REQUESTED: SendRequested,
    Topic.SEND_DECISIONS: SendDecided,
    Topic.SEND_APPROVED: SendApproved,
    Topic.SENT: MailSent,
    Topic.INBOX_EVENTS: InboxEvent,
    Topic.FEEDBACK: FeedbackReceived,
    Topic.SENDER_STATUS: SenderStatusChanged,
    Topic.AUDIT: AuditRecorded,
    Topic.SENDER_GRAPH: SenderEdgeUpdated,
}

__all__ = [
    "EVENT_BY_TOPIC",
    "AuditRecorded",
    "Consensus",
    "DetectorVerdict",
    "Event",
    "FeedbackReceived",
    "Finding",
    "InboxEvent",
    "InboxEventKind",
    "MailScanned",
    "MailSent",
    "RawMailReceived",
    "SendApproved",
    "SendDecided",
    "SendRequested",
    "SenderEdgeUpdated",
    "SenderSignal",
    "SenderStatusChanged",
]
