"""The shared schema, the system of record every service reads and writes through repositories."""

from mailmoat.common.db.tables.inbound import FeedbackReport, InboxSenderRule
from mailmoat.common.db.tables.infra import DeadLetter, OutboxRecord, ProcessedEvent
from mailmoat.common.db.tables.mail import (
    AuditEntry,
    FlaggedShingle,
    MailFingerprint,
    Message,
    OutboundMessage,
    RawMessage,
    ScanDecision,
    ScanVerdictRecord,
    SenderGraphView,
    SenderStats,
    SendReservation,
)
from mailmoat.common.db.tables.reputation import (
    CountedFeedback,
    ReputationBucket,
    SenderEdge,
    SenderStanding,
    SentRecipient,
)
from mailmoat.common.db.tables.tenancy import (
    AllowlistEntry,
    ApiKey,
    CreditEntry,
    IdempotentResponse,
    Inbox,
    WebhookDelivery,
    WebhookEndpoint,
    Workspace,
)

__all__ = [
    "AllowlistEntry",
    "ApiKey",
    "AuditEntry",
    "CountedFeedback",
    "CreditEntry",
    "DeadLetter",
    "FeedbackReport",
    "FlaggedShingle",
    "IdempotentResponse",
    "Inbox",
    "InboxSenderRule",
    "MailFingerprint",
    "Message",
    "OutboundMessage",
    "OutboxRecord",
    "ProcessedEvent",
    "RawMessage",
    "ReputationBucket",
    "ScanDecision",
    "ScanVerdictRecord",
    "SendReservation",
    "SenderEdge",
    "SenderGraphView",
    "SenderStanding",
    "SenderStats",
    "SentRecipient",
    "WebhookDelivery",
    "WebhookEndpoint",
    "Workspace",
]
