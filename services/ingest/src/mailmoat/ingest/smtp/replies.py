"""SMTP replies with enhanced status codes (RFC 3463) and a reason a person can read."""

from __future__ import annotations

import re

UNKNOWN_RECIPIENT = "550 5.1.1 Recipient address rejected: no such inbox"
RELAY_DENIED = "550 5.7.1 Relaying denied: we do not accept mail for that domain"
TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients for one message; send the rest separately"
SENDER_BLOCKED = "550 5.7.1 Sender is blocked by the recipient's inbox policy"
BARE_LINE_ENDING = (
    "554 5.6.0 Message rejected: bare CR, bare LF or NUL in the data; lines must end in CRLF "
    "(RFC 5322 2.3; protects against SMTP smuggling)"
)
TRY_LATER_STORE = "451 4.3.0 Temporary failure storing the message; try again later"
TRY_LATER_LOOKUP = "451 4.3.0 Temporary failure looking up the recipient; try again later"
TOO_MANY_CONNECTIONS = "421 4.7.0 Too many connections from your address; try again later"
TIMEOUT = "421 4.4.2 Connection timed out; closing"
SENDER_OK = "250 2.1.0 Sender ok"
BAD_SENDER = (
    "553 5.1.7 Sender address rejected: not a mailbox address of at most 254 octets "
    "(RFC 5321 4.5.3.1)"
)
RECIPIENT_OK = "250 2.1.5 Recipient ok"


def too_many_headers(count: int, limit: int) -> str:
    return f"552 5.3.4 Message has {count} header fields; the limit is {limit}"


def dmarc_reject(domain: str) -> str:
    return f"550 5.7.1 Rejected by the DMARC policy of {domain}: the From domain is not aligned"


def queued(mail_ids: list[str]) -> str:
    return f"250 2.0.0 Ok: queued as {' '.join(mail_ids)}"


# aiosmtpd's own replies carry no enhanced code; we add the RFC 3463 class that fits.
_ENHANCED_BY_TEXT = (
    (re.compile(r"^552 .*(too much mail data|size exceeds)", re.I), "5.3.4"),
    (re.compile(r"^500 Line too long", re.I), "5.5.2"),
    (re.compile(r"^5\d\d .*(syntax|parameter|param)", re.I), "5.5.4"),
    (re.compile(r"^503 ", re.I), "5.5.1"),
    (re.compile(r"^502 ", re.I), "5.5.1"),
    (re.compile(r"^500 ", re.I), "5.5.2"),
    (re.compile(r"^501 ", re.I), "5.5.4"),
    (re.compile(r"^530 ", re.I), "5.7.0"),
    (re.compile(r"^535 ", re.I), "5.7.8"),
    (re.compile(r"^538 ", re.I), "5.7.11"),
    (re.compile(r"^554 ", re.I), "5.7.0"),
    (re.compile(r"^55\d ", re.I), "5.0.0"),
    (re.compile(r"^45\d ", re.I), "4.0.0"),
    (re.compile(r"^421 ", re.I), "4.7.0"),
    (re.compile(r"^250 OK$", re.I), "2.0.0"),
    (re.compile(r"^221 ", re.I), "2.0.0"),
    (re.compile(r"^235 ", re.I), "2.7.0"),
)
_HAS_ENHANCED = re.compile(r"^\d{3}[ -][245]\.\d{1,3}\.\d{1,3}\b")


def with_enhanced_code(reply: str) -> str:
    """``reply`` with an enhanced status code inserted when it has none (single-line replies)."""
    if _HAS_ENHANCED.match(reply) or len(reply) < 4 or reply[3] != " ":
        return reply
    for pattern, code in _ENHANCED_BY_TEXT:
        if pattern.match(reply):
            return f"{reply[:3]} {code} {reply[4:]}"
    return reply
