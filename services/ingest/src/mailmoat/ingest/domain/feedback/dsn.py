"""Delivery status notifications (RFC 3464): one entry per recipient that failed or is delayed."""

from __future__ import annotations

import re
from email.message import Message

from mailmoat.ingest.domain.feedback import mime
from mailmoat.ingest.domain.feedback.model import FeedbackKind, FeedbackRecipient, FeedbackReport

STATUS_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
_SUCCESS_ACTIONS = frozenset({"delivered", "relayed", "expanded"})
_SMTP_CODE = re.compile(r"\b([45])\d\d\b")
# Senders some MTAs record among the per-message fields (RFC 3464 itself has none).
_SENDER_FIELDS = ("X-Postfix-Sender", "X-Internet-Inbound-Sender", "X-Original-Sender")


def find_status_part(msg: Message) -> Message | None:
    """The delivery-status part (the message itself when it is one), if any."""
    for part in msg.walk():
        if part.get_content_type() in STATUS_TYPES:
            return part
    return None


def parse_dsn(msg: Message, status_part: Message) -> FeedbackReport:
    """Per-recipient outcomes of a DSN; successful deliveries are left out."""
    blocks = mime.field_blocks(status_part)
    recipients = tuple(entry for block in blocks if (entry := _recipient(block)) is not None)
    original = mime.original_headers(msg)
    return FeedbackReport(
        kind=worst_kind(recipients),
        source="delivery-status",
        recipients=recipients,
        original_message_id=mime.original_message_id(original),
        original_mail_from=_mail_from(blocks) or mime.original_return_path(original),
        reporting_mta=_first(blocks, "Reporting-MTA"),
    )


def bounce_kind(action: str, status: str | None, diagnostic: str | None) -> FeedbackKind | None:
    """Hard for permanent (5.x.x) failures, soft for transient (4.x.x) or delayed ones."""
    if action == "delayed":
        return FeedbackKind.SOFT_BOUNCE
    if status and status[0] in "45":
        return FeedbackKind.HARD_BOUNCE if status[0] == "5" else FeedbackKind.SOFT_BOUNCE
    code = _SMTP_CODE.search(diagnostic or "")
    if code:
        return FeedbackKind.HARD_BOUNCE if code.group(1) == "5" else FeedbackKind.SOFT_BOUNCE
    return FeedbackKind.HARD_BOUNCE if action == "failed" else None


def worst_kind(recipients: tuple[FeedbackRecipient, ...]) -> FeedbackKind:
    """The report's overall kind: hard beats soft; no failure at all is a notice."""
    kinds = {entry.kind for entry in recipients}
    for kind in (FeedbackKind.COMPLAINT, FeedbackKind.HARD_BOUNCE, FeedbackKind.SOFT_BOUNCE):
        if kind in kinds:
            return kind
    return FeedbackKind.NOTICE


def _recipient(block: Message) -> FeedbackRecipient | None:
    # Original-Recipient is the address as we sent it; Final-Recipient may be a forward target.
    address = mime.typed_value(block, "Original-Recipient") or mime.typed_value(
        block, "Final-Recipient"
    )
    action = (mime.header(block, "Action") or "").lower()
    if address is None or action in _SUCCESS_ACTIONS:
        return None
    status = _status(block)
    diagnostic = mime.header(block, "Diagnostic-Code")
    kind = bounce_kind(action, status, diagnostic)
    if kind is None:
        return None
    return FeedbackRecipient(
        recipient=address, kind=kind, status=status, action=action or None, diagnostic=diagnostic
    )


def _status(block: Message) -> str | None:
    value = mime.header(block, "Status")
    return value.split()[0] if value else None


def _first(blocks: list[Message], name: str) -> str | None:
    return next((v for b in blocks if (v := mime.typed_value(b, name)) is not None), None)


def _mail_from(blocks: list[Message]) -> str | None:
    return next((v for name in _SENDER_FIELDS if (v := _first(blocks, name)) is not None), None)
