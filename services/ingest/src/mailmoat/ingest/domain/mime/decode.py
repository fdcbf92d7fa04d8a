"""Undo a part's Content-Transfer-Encoding leniently, keeping at most a given number of bytes."""

from __future__ import annotations

import binascii
import re

from mailmoat.ingest.domain.mime import limits as defects

_WHITESPACE = re.compile(rb"[ \t\r\n]+")
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/=]")
_PLAIN = frozenset({"", "7bit", "8bit", "binary"})
_UUENCODE = frozenset({"x-uuencode", "uuencode", "x-uue", "uue"})


def decode_transfer(body: bytes, encoding: str, cap: int) -> tuple[bytes, set[str]]:
    """Decoded bytes (at most ``cap``) and the defect codes met on the way."""
    name = encoding.strip().lower()
    if name == "base64":
        data, found = _base64(body, cap)
    elif name == "quoted-printable":
        data, found = binascii.a2b_qp(body[: cap * 3 + 3]), set()
    elif name in _UUENCODE:
        data, found = _uudecode(body, cap)
    elif name in _PLAIN:
        data, found = body, set()
    else:
        data, found = body, {defects.UNKNOWN_TRANSFER_ENCODING}
    if len(data) > cap:
        found.add(defects.PART_TRUNCATED)
        data = data[:cap]
    return data, found


def _base64(body: bytes, cap: int) -> tuple[bytes, set[str]]:
    compact = _WHITESPACE.sub(b"", body[: cap * 2 + 1024])
    found: set[str] = set()
    if _NOT_BASE64.search(compact):
        found.add(defects.BAD_ENCODING)
        compact = _NOT_BASE64.sub(b"", compact)
    # Text after the first padding is junk some senders append; decode what came before it.
    data_end = compact.find(b"=")
    if data_end >= 0 and compact[data_end:].strip(b"=") != b"":
        found.add(defects.BAD_ENCODING)
        compact = compact[:data_end]
    compact = compact.rstrip(b"=")
    if len(compact) % 4 == 1:
        found.add(defects.BAD_ENCODING)
        compact = compact[:-1]
    compact += b"=" * (-len(compact) % 4)
    try:
        return binascii.a2b_base64(compact), found
    except binascii.Error:
        return b"", found | {defects.BAD_ENCODING}


def _uudecode(body: bytes, cap: int) -> tuple[bytes, set[str]]:
    out = bytearray()
    found: set[str] = set()
    inside = False
    for line in body.splitlines():
        if not inside:
            inside = line.startswith(b"begin ")
            continue
        if line.strip() in (b"end", b"`") or len(out) > cap:
            break
        out += _uu_line(line, found)
    return bytes(out), found


def _uu_line(line: bytes, found: set[str]) -> bytes:
    try:
        return binascii.a2b_uu(line)
    except binascii.Error:
        # Some encoders pad lines with junk; decode only the declared length.
        size = ((line[0] - 32) & 63) * 4 + 5 if line else 0
        try:
            return binascii.a2b_uu(line[: size // 3])
        except binascii.Error:
            found.add(defects.BAD_ENCODING)
            return b""
