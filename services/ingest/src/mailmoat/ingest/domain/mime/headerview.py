"""The top-level header fields a person or a later stage reads, decoded for display."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from mailmoat.common.mail.structured import Address
from mailmoat.ingest.domain.mime import limits as defects
from mailmoat.ingest.domain.mime.addresses import (
    first_msg_id,
    msg_ids,
    parse_date,
    parse_mailboxes,
    shows_other_address,
)
from mailmoat.ingest.domain.mime.headers import HeaderBlock, display_value
from mailmoat.ingest.domain.mime.invisible import clean_header_text
from mailmoat.ingest.domain.mime.limits import MimeLimits

_ADDRESS_HEADERS = frozenset(
    {"from", "sender", "reply-to", "to", "cc", "bcc", "resent-from", "resent-sender"}
    | {"resent-to", "resent-cc", "resent-bcc", "return-path", "delivered-to"}
)


@dataclass(frozen=True, slots=True)
class HeaderView:
    """Decoded top-level headers and the defects met while reading them."""

    headers: tuple[tuple[str, str], ...] = ()
    subject: str = ""
    from_: tuple[Address, ...] = ()
    from_display_mismatch: bool = False
    sender: Address | None = None
    reply_to: tuple[Address, ...] = ()
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    date: datetime | None = None
    defects: frozenset[str] = field(default_factory=frozenset)


def read_headers(block: HeaderBlock, limits: MimeLimits) -> HeaderView:
    """Decode the display headers and parse the address, id and date fields."""
    found: set[str] = set()
    from_ = _mailboxes(block, "From", limits, found)
    from_count = sum(1 for name, _ in block.fields if name.lower() == "from")
    if from_count > 1:
        found.add(defects.MULTIPLE_FROM)
    if from_count and not from_:
        found.add(defects.BAD_ADDRESS)
    mismatch = any(shows_other_address(box.display_name, box.address) for box in from_)
    if mismatch:
        found.add(defects.FROM_DISPLAY_MISMATCH)
    return HeaderView(
        headers=_display_fields(block, limits, found),
        subject=display_value(block.get("Subject") or "", limits)[0],
        from_=from_,
        from_display_mismatch=mismatch,
        sender=next(iter(_mailboxes(block, "Sender", limits, found)), None),
        reply_to=_mailboxes(block, "Reply-To", limits, found),
        to=_mailboxes(block, "To", limits, found),
        cc=_mailboxes(block, "Cc", limits, found),
        message_id=first_msg_id(block.get("Message-ID"), limits),
        in_reply_to=first_msg_id(block.get("In-Reply-To"), limits),
        references=msg_ids(block.get("References"), limits),
        date=parse_date(block.get("Date")),
        defects=frozenset(found),
    )


def _display_fields(
    block: HeaderBlock, limits: MimeLimits, found: set[str]
) -> tuple[tuple[str, str], ...]:
    fields = []
    for name, value in block.fields:
        if name.lower() in _ADDRESS_HEADERS:
            # Shown from the parsed mailboxes, so an encoded word in an addr-spec stays encoded.
            mailboxes, _ = parse_mailboxes(value, limits)
            shown = ", ".join(box.formatted() for box in mailboxes)[: limits.max_header_chars]
        else:
            shown, problem = display_value(value, limits)
            found |= {problem} if problem else set()
        fields.append((clean_header_text(name, 128), shown))
    return tuple(fields)


def _mailboxes(
    block: HeaderBlock, name: str, limits: MimeLimits, found: set[str]
) -> tuple[Address, ...]:
    wanted = name.lower()
    values = [value for key, value in block.fields if key.lower() == wanted]
    if not values:
        return ()
    mailboxes, problems = parse_mailboxes(", ".join(values), limits)
    found |= problems
    return mailboxes
