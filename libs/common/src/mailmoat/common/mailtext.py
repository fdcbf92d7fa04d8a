"""Reads the few fields later stages need from stored raw MIME (ingest owns the full parser)."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage

_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class MailText:
    """Sender, subject and the text and HTML bodies of a message."""

    from_address: str
    subject: str
    text: str
    html: str


def read_mail_text(raw: bytes) -> MailText:
    """Extract sender, subject and bodies; undecodable parts read as empty, never raise."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return MailText(
        from_address=str(message.get("From", "")),
        subject=str(message.get("Subject", "")),
        text=_body(message, "plain"),
        html=_body(message, "html"),
    )


def html_to_text(html: str) -> str:
    """Crude tag stripping, enough for the walking skeleton's text view."""
    return _TAG.sub(" ", html)


def _body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    if part is None:
        return ""
    try:
        return str(part.get_content())
    except (LookupError, ValueError):
        return ""
