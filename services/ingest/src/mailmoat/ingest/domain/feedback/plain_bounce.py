"""Bounces that are not RFC 3464 DSNs: plain-text notices from Gmail, Exim, old MTAs.

Only mail that both comes from a delivery system and says it failed is taken as a bounce:
an ``X-Failed-Recipients`` header, or a mailer-daemon/postmaster sender with a failure subject.
"""

from __future__ import annotations

import re
from email.message import Message
from email.utils import getaddresses

from mailmoat.ingest.domain.feedback import mime
from mailmoat.ingest.domain.feedback.dsn import worst_kind
from mailmoat.ingest.domain.feedback.model import FeedbackKind, FeedbackRecipient, FeedbackReport

MAX_RECIPIENTS = 20
_SENDER = re.compile(r"mailer-daemon|postmaster|mail delivery (?:subsystem|system)", re.I)
_SUBJECT = re.compile(
    r"undeliver|returned mail|delivery status notification|delivery (?:failure|failed)"
    r"|failure notice|could not be delivered|mail delivery failed",
    re.I,
)
_ORIGINAL_MARKER = re.compile(
    r"^[ \t-]*(?:original message|this is a copy of the message|undelivered message"
    r"|returned message|message headers follow)",
    re.I | re.M,
)
_TRANSIENT = re.compile(
    r"\b(?:delayed|will (?:be )?retr|temporar|deferred|still trying|try again later)", re.I
)
_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


def is_plain_bounce(msg: Message) -> bool:
    """A delivery system's failure notice, judged by its headers only."""
    if msg.get("X-Failed-Recipients"):
        return True
    sender = mime.header(msg, "From") or ""
    subject = mime.header(msg, "Subject") or ""
    return bool(_SENDER.search(sender) and _SUBJECT.search(subject))


def parse_plain_bounce(msg: Message) -> FeedbackReport:
    """Recipients from X-Failed-Recipients or the notice text, kind from its wording."""
    notice, original_text = _split_notice(_first_text(msg))
    status_match = _STATUS.search(notice)
    status = status_match.group(1) if status_match else None
    kind = _kind(notice, status)
    diagnostic = _line_at(notice, status_match.start()) if status_match else None
    recipients = tuple(
        FeedbackRecipient(recipient=address, kind=kind, status=status, diagnostic=diagnostic)
        for address in _failed_addresses(msg, notice)
    )
    original = mime.original_headers(msg) or (
        mime.headers_from_text(original_text) if original_text else None
    )
    return FeedbackReport(
        kind=worst_kind(recipients) if recipients else kind,
        source="plain-bounce",
        recipients=recipients,
        original_message_id=mime.original_message_id(original),
        original_mail_from=mime.original_return_path(original),
    )


def _first_text(msg: Message) -> str:
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            return mime.text_of(part)
    return ""


def _split_notice(text: str) -> tuple[str, str]:
    """The notice itself and the quoted original after its marker line, if any."""
    marker = _ORIGINAL_MARKER.search(text)
    if marker is None:
        return text, ""
    rest = text[marker.end() :]
    return text[: marker.start()], rest[rest.find("\n") + 1 :]


def _kind(notice: str, status: str | None) -> FeedbackKind:
    if status and status[0] in "45":
        return FeedbackKind.HARD_BOUNCE if status[0] == "5" else FeedbackKind.SOFT_BOUNCE
    return FeedbackKind.SOFT_BOUNCE if _TRANSIENT.search(notice) else FeedbackKind.HARD_BOUNCE


def _line_at(text: str, index: int) -> str:
    start = text.rfind("\n", 0, index) + 1
    end = text.find("\n", index)
    return text[start : end if end >= 0 else None].strip()


def _failed_addresses(msg: Message, notice: str) -> list[str]:
    listed = [str(value) for value in msg.get_all("X-Failed-Recipients", [])]
    if listed:
        candidates = [address for _, address in getaddresses(listed)]
    else:
        candidates = _ADDRESS.findall(notice)
    own = {address.lower() for _, address in getaddresses(_own_headers(msg))}
    found: list[str] = []
    for address in candidates:
        if address and address.lower() not in own and address.lower() not in found:
            found.append(address.lower())
    return found[:MAX_RECIPIENTS]


def _own_headers(msg: Message) -> list[str]:
    return [str(value) for name in ("From", "To", "Sender") for value in msg.get_all(name, [])]
