"""Address, message-id and date headers, read from the raw (undecoded) header values."""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import getaddresses, parsedate_to_datetime

from mailmoat.common.mail.addr import is_plausible_address, is_plausible_domain
from mailmoat.common.mail.structured import Address
from mailmoat.ingest.domain.mime import limits as defects
from mailmoat.ingest.domain.mime.headers import display_value
from mailmoat.ingest.domain.mime.invisible import clean_header_text
from mailmoat.ingest.domain.mime.limits import MimeLimits

_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_ANGLE_ADDR = re.compile(r"<\s*([^<>\s]+@[^<>\s]+?)\s*>")
_EMAIL_LIKE = re.compile(r"[^\s<>\"'(),;:@\[\]]+@[^\s<>\"'(),;:@\[\]]+\.[^\s<>\"'(),;:@\[\]]+")
_ENCODED_WORD = re.compile(r"=\?[^?]*\?[bBqQ]\?")
_MSG_ID = re.compile(r"<[^<>\s]{1,998}>")
_MAX_REFERENCES = 100


def parse_mailboxes(raw: str, limits: MimeLimits) -> tuple[tuple[Address, ...], set[str]]:
    """Mailboxes of an address header, and defect codes.

    The addr-spec comes from the raw value, so an encoded word can never become the address:
    RFC 2047 decoding applies to display names only. One that is not an address at all, or
    longer than RFC 5321 allows, is kept as an empty address with ``bad_address``.
    """
    value = raw[: limits.max_header_bytes]
    found: set[str] = set()
    mailboxes = []
    try:
        pairs = getaddresses([value])
    except Exception:  # the stdlib parser recurses on nested comments and can give up
        return (), {defects.BAD_ADDRESS}
    for name, spec in pairs[: limits.max_addresses]:
        if not name and not spec:
            continue
        mailbox, problems = _mailbox(name, spec, limits)
        mailboxes.append(mailbox)
        found |= problems
    if _angle_addresses(value) - {box.address.lower() for box in mailboxes}:
        found.add(defects.BAD_ADDRESS)
    return tuple(mailboxes), found


def _mailbox(name: str, spec: str, limits: MimeLimits) -> tuple[Address, set[str]]:
    address = clean_header_text(spec, limits.max_header_chars)
    display, charset_defect = display_value(name, limits)
    problems = {charset_defect} if charset_defect else set()
    # Encoded words are not allowed in an addr-spec (RFC 2047 section 5); they only
    # appear there to make a decoder show another address.
    if address != spec.strip() or "@" not in address or _ENCODED_WORD.search(address):
        problems.add(defects.BAD_ADDRESS)
    domain = address.rpartition("@")[2] if "@" in address else ""
    domain = domain.lower() if is_plausible_domain(domain) else ""
    if is_plausible_address(address):
        return Address(display_name=display, address=address, domain=domain), problems
    # Too long, or no address at all: shown to nobody, its text kept for the detectors.
    problems.add(defects.BAD_ADDRESS)
    return Address(display_name=display, address="", domain=domain, unparsed=address), problems


def shows_other_address(display: str, address: str) -> bool:
    """Whether a display name contains an email address that is not the mailbox's own."""
    own = address.lower()
    return any(match.lower() != own for match in _EMAIL_LIKE.findall(display))


def _angle_addresses(value: str) -> set[str]:
    unquoted = _QUOTED.sub('""', value)
    return {match.lower() for match in _ANGLE_ADDR.findall(unquoted)}


def first_msg_id(raw: str | None, limits: MimeLimits) -> str | None:
    """The first ``<msg-id>`` of a header, or its cleaned value when it has no angle brackets."""
    if raw is None:
        return None
    match = _MSG_ID.search(raw[: limits.max_header_bytes])
    if match:
        return clean_header_text(match.group(), limits.max_header_chars)
    return clean_header_text(raw, limits.max_header_chars) or None


def msg_ids(raw: str | None, limits: MimeLimits) -> tuple[str, ...]:
    """Every ``<msg-id>`` of a References-like header, capped."""
    if raw is None:
        return ()
    ids = _MSG_ID.findall(raw[: limits.max_header_bytes])[:_MAX_REFERENCES]
    return tuple(clean_header_text(msg_id, limits.max_header_chars) for msg_id in ids)


def parse_date(raw: str | None) -> datetime | None:
    """The Date header, or None when it does not parse."""
    if not raw:
        return None
    try:
        return parsedate_to_datetime(raw[:256])
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
