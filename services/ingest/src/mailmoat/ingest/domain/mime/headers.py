"""Header block splitting and RFC 2047 decoding, bounded in count and length."""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass, field

from mailmoat.ingest.domain.mime import limits as defects
from mailmoat.ingest.domain.mime.charset import decode_text
from mailmoat.ingest.domain.mime.invisible import clean_header_text
from mailmoat.ingest.domain.mime.limits import MimeLimits

_FIELD_NAME = re.compile(rb"^([\x21-\x39\x3b-\x7e]+)[ \t]*:")
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,64})\?([bBqQ])\?([^?\s]*)\?=")


@dataclass(slots=True)
class HeaderBlock:
    """Raw header fields of one entity (unfolded, undecoded) and where its body starts."""

    fields: list[tuple[str, str]] = field(default_factory=list)
    body_start: int = 0
    defects: list[str] = field(default_factory=list)

    def note(self, code: str) -> None:
        """Record a defect code once."""
        if code not in self.defects:
            self.defects.append(code)

    def get(self, name: str) -> str | None:
        """Value of the first field called ``name`` (case-insensitive)."""
        wanted = name.lower()
        return next((value for key, value in self.fields if key.lower() == wanted), None)


def read_header_block(data: bytes, limits: MimeLimits, *, top: bool = True) -> HeaderBlock:
    """Split the header fields off ``data``, stopping at the blank line or a non-header line.

    At the top of a message an mbox ``From `` line is skipped; inside a part it is text.
    """
    block = HeaderBlock()
    pos = _skip_mbox_line(data) if top else 0
    current: _Field | None = None
    while pos < len(data):
        end = data.find(b"\n", pos)
        next_pos = len(data) if end < 0 else end + 1
        line = data[pos:next_pos].rstrip(b"\r\n")
        if not line:
            pos = next_pos
            break
        if line[:1] in (b" ", b"\t"):
            _continue_field(block, current, line, limits)
        elif _FIELD_NAME.match(line):
            _finish(block, current)
            current = _start_field(block, line, limits)
        else:
            block.note(defects.MISSING_HEADER_SEPARATOR)
            break
        pos = next_pos
    _finish(block, current)
    block.body_start = pos
    return block


@dataclass(slots=True)
class _Field:
    name: str
    chunks: list[bytes]
    size: int


def _skip_mbox_line(data: bytes) -> int:
    if not data.startswith(b"From "):
        return 0
    end = data.find(b"\n")
    return len(data) if end < 0 else end + 1


def _start_field(block: HeaderBlock, line: bytes, limits: MimeLimits) -> _Field | None:
    if len(block.fields) >= limits.max_headers:
        block.note(defects.TOO_MANY_HEADERS)
        return None
    name, _, value = line.partition(b":")
    value = value[: limits.max_header_bytes]
    return _Field(_to_str(name.strip()), [value], len(value))


def _continue_field(
    block: HeaderBlock, current: _Field | None, line: bytes, limits: MimeLimits
) -> None:
    if current is None:
        if not block.fields:
            block.note(defects.BAD_HEADER_LINE)
        return
    if current.size + len(line) > limits.max_header_bytes:
        block.note(defects.HEADER_TOO_LONG)
        return
    current.chunks.append(line)
    current.size += len(line)


def _finish(block: HeaderBlock, current: _Field | None) -> None:
    if current is not None:
        block.fields.append((current.name, _to_str(b"".join(current.chunks)).strip()))


def _to_str(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def decode_words(value: str) -> tuple[str, str | None]:
    """RFC 2047 decode for display; the second item is a charset defect code, if any."""
    out: list[str] = []
    defect: str | None = None
    last = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[last : match.start()]
        # Whitespace between two adjacent encoded words is not part of the text (RFC 2047 6.2).
        if not (last and between.strip() == ""):
            out.append(between)
        text, problem = _decode_word(*match.groups())
        out.append(text)
        defect = defect or problem
        last = match.end()
    out.append(value[last:])
    return "".join(out), defect


def _decode_word(charset: str, encoding: str, text: str) -> tuple[str, str | None]:
    payload = text.encode("ascii", errors="ignore")
    try:
        if encoding in "bB":
            raw = binascii.a2b_base64(payload + b"=" * (-len(payload) % 4))
        else:
            raw = binascii.a2b_qp(payload, header=True)
    except (binascii.Error, ValueError):
        return text, defects.BAD_ENCODING
    return decode_text(raw, charset.partition("*")[0])


def display_value(value: str, limits: MimeLimits) -> tuple[str, str | None]:
    """A header value as shown to a person: decoded, then stripped of control characters."""
    decoded, defect = decode_words(value[: limits.max_header_bytes])
    return clean_header_text(decoded, limits.max_header_chars), defect
