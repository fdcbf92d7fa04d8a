"""Checks on the raw DATA bytes that decide acceptance before any parsing."""

from __future__ import annotations

import re

# A CR not followed by LF, an LF not preceded by CR, or a NUL. aiosmtpd only ends DATA on
# CRLF.CRLF, but such bytes are how smuggled messages hide from the next hop.
_BARE = re.compile(rb"\r(?!\n)|(?<!\r)\n|\x00")
_HEADER_END = re.compile(rb"\r?\n\r?\n")


def has_bare_line_ending(raw: bytes) -> bool:
    """Whether ``raw`` holds a bare CR, a bare LF or a NUL byte anywhere."""
    return _BARE.search(raw) is not None


def count_header_fields(raw: bytes, *, stop_after: int) -> int:
    """Header fields in the top-level header block (continuation lines belong to their field)."""
    end = _HEADER_END.search(raw)
    block = raw[: end.start()] if end else raw
    count = 0
    for line in block.split(b"\n"):
        if line[:1] in (b" ", b"\t") or not line.strip():
            continue
        count += 1
        if count >= stop_after:
            break
    return count
