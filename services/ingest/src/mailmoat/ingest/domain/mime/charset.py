"""Bytes to text under a declared charset, with a fallback when the label lies or is unknown."""

from __future__ import annotations

import codecs

from mailmoat.ingest.domain.mime import limits as defects


def decode_text(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """Decode ``data``; the second item is a defect code when a fallback was needed."""
    name = (charset or "us-ascii").strip().strip("\"'").lower()[:64]
    codec = _text_codec(name)
    if codec is None:
        return _fallback(data), defects.UNKNOWN_CHARSET
    try:
        return data.decode(codec), None
    except UnicodeDecodeError:
        pass
    except Exception:  # odd text codecs (e.g. 'undefined') raise other errors: treat as unknown
        return _fallback(data), defects.UNKNOWN_CHARSET
    if codec == "ascii":
        # 8-bit text under the default label is common and usually UTF-8: not worth a defect.
        return _fallback(data), None
    return data.decode(codec, errors="replace"), defects.BAD_CHARSET_DATA


def _text_codec(name: str) -> str | None:
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    # Bytes-to-bytes codecs (base64, zlib, ...) would turn a label into a decompressor.
    if not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def _fallback(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")
