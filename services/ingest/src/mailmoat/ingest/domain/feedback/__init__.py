"""Recognise feedback about mail we sent: ARF complaints, DSN bounces, plain-text bounces.

``parse_feedback`` never raises: anything it cannot read as feedback is ``None``.
"""

from __future__ import annotations

import email
from email import policy
from email.message import Message

from mailmoat.ingest.domain.feedback.arf import find_report_part, parse_arf
from mailmoat.ingest.domain.feedback.dsn import find_status_part, parse_dsn
from mailmoat.ingest.domain.feedback.model import (
    FeedbackKind,
    FeedbackRecipient,
    FeedbackReport,
    FeedbackSource,
)
from mailmoat.ingest.domain.feedback.plain_bounce import is_plain_bounce, parse_plain_bounce

MAX_REPORT_BYTES = 4 * 1024 * 1024
"""Reports put their machine-readable parts first; the returned original can be cut."""

__all__ = [
    "FeedbackKind",
    "FeedbackRecipient",
    "FeedbackReport",
    "FeedbackSource",
    "parse_feedback",
]


def parse_feedback(raw: bytes) -> FeedbackReport | None:
    """The complaint or bounce ``raw`` carries, or ``None`` when it is not feedback."""
    try:
        msg = email.message_from_bytes(raw[:MAX_REPORT_BYTES], policy=policy.compat32)
        return _parse(msg)
    except Exception:  # damaged mail is simply not feedback; ingest must never fail on it
        return None


def _parse(msg: Message) -> FeedbackReport | None:
    report_part = find_report_part(msg)
    if report_part is not None:
        return parse_arf(msg, report_part)
    status_part = find_status_part(msg)
    if status_part is not None:
        return parse_dsn(msg, status_part)
    if is_plain_bounce(msg):
        return parse_plain_bounce(msg)
    return None
