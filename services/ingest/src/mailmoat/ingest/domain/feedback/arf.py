"""ARF abuse reports (RFC 5965): a complaint about one mail we sent, with its headers."""

from __future__ import annotations

from email.message import Message

from mailmoat.ingest.domain.feedback import mime
from mailmoat.ingest.domain.feedback.model import FeedbackKind, FeedbackRecipient, FeedbackReport

_COMPLAINT_TYPES = frozenset({"abuse", "fraud", "virus", "other"})


def find_report_part(msg: Message) -> Message | None:
    """The message/feedback-report part, if the message has one."""
    for part in msg.walk():
        if part.get_content_type() == "message/feedback-report":
            return part
    return None


def parse_arf(msg: Message, report_part: Message) -> FeedbackReport:
    """The complaint: feedback type, who complained and which mail it was about."""
    fields = _merged_fields(report_part)
    feedback_type = (mime.header(fields, "Feedback-Type") or "other").lower()
    kind = FeedbackKind.COMPLAINT if feedback_type in _COMPLAINT_TYPES else FeedbackKind.NOTICE
    original = mime.original_headers(msg)
    recipients = tuple(
        FeedbackRecipient(recipient=address, kind=kind) for address in _recipients(fields, original)
    )
    return FeedbackReport(
        kind=kind,
        source="feedback-report",
        recipients=recipients,
        original_message_id=mime.original_message_id(original),
        original_mail_from=_mail_from(fields, original),
        reporting_mta=mime.typed_value(fields, "Reporting-MTA"),
        feedback_type=feedback_type,
    )


def _merged_fields(report_part: Message) -> Message:
    merged = Message()
    for block in mime.field_blocks(report_part):
        for name, value in block.items():
            merged[name] = value
    return merged


def _recipients(fields: Message, original: Message | None) -> list[str]:
    """Original-Rcpt-To fields, else the original's To (many providers redact the former)."""
    found = [mime.bare_address(str(value)) for value in fields.get_all("Original-Rcpt-To", [])]
    addresses = [address for address in found if address]
    if addresses:
        return addresses
    to = mime.header(original, "To") if original is not None else None
    return [address for address in (mime.bare_address(to or ""),) if address]


def _mail_from(fields: Message, original: Message | None) -> str | None:
    value = mime.header(fields, "Original-Mail-From")
    if value is not None:
        return mime.bare_address(value)
    return mime.original_return_path(original)
