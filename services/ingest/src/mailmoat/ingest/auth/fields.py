"""Raw header fields of a message as byte spans, read the way a lenient MUA would read them."""

from __future__ import annotations

import re
from dataclasses import dataclass

_LINE = re.compile(rb"[^\n]*(?:\n|$)")


@dataclass(frozen=True)
class RawField:
    """One header field: its name as a reader would match it and its exact bytes in the message."""

    name: str
    value: bytes
    start: int
    end: int

    def unfolded(self) -> str:
        """The value with line breaks removed, decoded leniently (bytes above 127 kept as is)."""
        return re.sub(rb"\r?\n", b"", self.value).decode("utf-8", errors="surrogateescape")


def header_fields(raw: bytes) -> tuple[RawField, ...]:
    """Every field of the header section, in order.

    Names are compared after stripping whitespace (``From :`` and a leading `` From:`` both read
    as From, as some MUAs do). The header section ends at the first empty line or at the first
    line that is neither a continuation nor contains a colon, which is where Python's parser ends
    it too, so no field hides behind a line that one reader skips and another honours.
    """
    fields: list[RawField] = []
    start: int | None = None
    for match in _LINE.finditer(raw):  # the last match is the empty string at the end
        line, pos = match.group(), match.start()
        if start is not None and line[:1] in (b" ", b"\t"):
            continue
        if start is not None:
            fields.append(_field(raw, start, pos))
            start = None
        if line.rstrip(b"\r\n") == b"" or b":" not in line:
            break
        start = pos
    return tuple(fields)


def _field(raw: bytes, start: int, end: int) -> RawField:
    text = raw[start:end]
    name, _, value = text.partition(b":")
    clean = name.decode("ascii", errors="replace").strip(" \t\r\n").lower()
    return RawField(name=clean, value=value, start=start, end=end)


def line_ending(raw: bytes) -> bytes:
    """CRLF when the message's first line ends with one, else LF."""
    first = raw.split(b"\n", 1)[0]
    return b"\r\n" if first.endswith(b"\r") or b"\n" not in raw else b"\n"
