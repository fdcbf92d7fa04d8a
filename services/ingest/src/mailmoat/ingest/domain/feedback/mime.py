"""MIME helpers shared by the feedback parsers: field blocks, addresses, the original headers."""

from __future__ import annotations

import re
from email.message import Message
from email.parser import HeaderParser

_BLANK_LINE = re.compile(r"\r?\n[ \t]*\r?\n")
_SPACE = re.compile(r"\s+")
_ORIGINAL_TYPES = frozenset(
    {"message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers"}
)
MAX_TEXT = 256 * 1024


def header(msg: Message, name: str) -> str | None:
    """A header's value unfolded and stripped; ``None`` when absent or empty."""
    value = msg.get(name)
    if value is None:
        return None
    text = _SPACE.sub(" ", str(value)).strip()
    return text or None


def typed_value(msg: Message, name: str) -> str | None:
    """A DSN/ARF typed field (``rfc822; <a@b>``, ``dns; mx.example``) without type or brackets."""
    value = header(msg, name)
    if value is None:
        return None
    _, _, rest = value.rpartition(";")
    return bare_address(rest)


def bare_address(value: str) -> str | None:
    """An address without surrounding brackets or blanks; ``None`` for the null path ``<>``."""
    text = value.strip().strip("<>").strip()
    return text or None


def text_of(part: Message) -> str:
    """The decoded text of a non-multipart part, bounded to ``MAX_TEXT`` characters."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload[:MAX_TEXT].decode(charset, errors="replace")
    except LookupError:
        return payload[:MAX_TEXT].decode("utf-8", errors="replace")


def headers_from_text(text: str) -> Message:
    """Parse the header block at the start of ``text`` (leading blank lines skipped)."""
    return HeaderParser().parsestr(text.lstrip("\r\n"), headersonly=True)


def field_blocks(part: Message) -> list[Message]:
    """The blank-line separated field groups of a report part, however the parser stored them."""
    payload = part.get_payload()
    if isinstance(payload, str):
        return _blocks_from_text(text_of(part))
    blocks: list[Message] = []
    for item in payload:
        if not isinstance(item, Message):
            continue
        blocks.append(item)
        rest = item.get_payload()
        if isinstance(rest, str) and rest.strip():
            blocks.extend(_blocks_from_text(rest))
    return blocks


def _blocks_from_text(text: str) -> list[Message]:
    chunks = (chunk for chunk in _BLANK_LINE.split(text[:MAX_TEXT]) if chunk.strip())
    return [headers_from_text(chunk) for chunk in chunks]


def original_headers(msg: Message) -> Message | None:
    """Headers of the returned original (message/rfc822 or text/rfc822-headers part)."""
    for part in msg.walk():
        if part.get_content_type() not in _ORIGINAL_TYPES:
            continue
        payload = part.get_payload()
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            return payload[0]
        return headers_from_text(text_of(part))
    return None


def original_message_id(original: Message | None) -> str | None:
    """The original Message-ID as written (angle brackets kept), if the report carries it."""
    return header(original, "Message-ID") if original is not None else None


def original_return_path(original: Message | None) -> str | None:
    """The original's Return-Path, the envelope sender as the receiving MTA recorded it."""
    value = header(original, "Return-Path") if original is not None else None
    return bare_address(value) if value else None
