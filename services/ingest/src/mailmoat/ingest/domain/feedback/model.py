"""What ingest learned from a complaint (ARF) or bounce (DSN) about mail we sent."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class FeedbackKind(StrEnum):
    """What a report means for one recipient (and, at its worst, for the whole report)."""

    COMPLAINT = "complaint"
    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCE = "soft_bounce"
    NOTICE = "notice"
    """Feedback needing no action: a DSN of successful delivery, an ARF not-spam report."""


FeedbackSource = Literal["feedback-report", "delivery-status", "plain-bounce"]


class FeedbackRecipient(BaseModel):
    """One recipient a report is about."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    recipient: str = Field(description="Address the original mail was sent to.")
    kind: FeedbackKind = Field(description="Complaint, hard or soft bounce for this address.")
    status: str | None = Field(default=None, description="Enhanced status code, e.g. 5.1.1.")
    action: str | None = Field(default=None, description="DSN Action (failed, delayed, ...).")
    diagnostic: str | None = Field(default=None, description="Remote server's diagnostic.")


class FeedbackReport(BaseModel):
    """A parsed complaint or bounce; ``kind`` is the most serious of its recipients' kinds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: FeedbackKind = Field(description="Overall meaning: complaint, hard/soft bounce, notice.")
    source: FeedbackSource = Field(description="ARF report, RFC 3464 DSN or a plain-text bounce.")
    recipients: tuple[FeedbackRecipient, ...] = Field(
        default=(), description="Recipients the report concerns (failed ones for a DSN)."
    )
    original_message_id: str | None = Field(
        default=None, description="Message-ID of the mail the report is about, brackets kept."
    )
    original_mail_from: str | None = Field(
        default=None, description="Envelope sender of the original mail, when the report says."
    )
    reporting_mta: str | None = Field(default=None, description="MTA that wrote the report.")
    feedback_type: str | None = Field(
        default=None, description="ARF Feedback-Type (abuse, fraud, ...), lower case."
    )
