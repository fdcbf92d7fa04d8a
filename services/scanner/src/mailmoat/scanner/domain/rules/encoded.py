"""Encoded payloads: base64, hex and rot13 text decoded so the other rules read it too."""

from __future__ import annotations

import base64
import binascii
import codecs
import re

from mailmoat.common.events import Finding
from mailmoat.scanner.domain.content import Segment
from mailmoat.scanner.domain.rules.base import MAX_HITS, Decoded, hit, words

MAX_DECODED = 16_000
"""Characters kept of one decoded payload."""
MAX_PAYLOADS = 10

# Runs inside URLs, data: URIs and attributes are tracking ids and images, not messages.
_MIN_RUN = 24
_RUN = re.compile(r"[A-Za-z0-9+/]{24,}={0,2}")
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2}){16,}")
_JOINED_BEFORE = "_%.:-=&?"
_JOINED_AFTER = "_%-=&?"
"""A run touching one of these is part of a longer token (a URL, an id), not a payload."""
_ROT13_HINT = re.compile(r"\brot[\s-]?13\b|\bcaesar\b", re.IGNORECASE)
_WORDS = re.compile(r"[A-Za-z]{2,}(?:\s+[A-Za-z]{2,}){2,}")


def _readable(data: bytes) -> str | None:
    """The bytes as text when they are mostly printable words (a message, not binary)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    printable = sum(ch.isprintable() or ch in "\n\r\t" for ch in text)
    if printable < 0.95 * len(text) or not _WORDS.search(text):
        return None
    return text[:MAX_DECODED]


def _from_base64(run: str) -> str | None:
    try:
        return _readable(base64.b64decode(run + "=" * (-len(run) % 4), validate=True))
    except (binascii.Error, ValueError):
        return None


def _from_hex(run: str) -> str | None:
    return _readable(bytes.fromhex(run))


def _payloads(text: str) -> list[Decoded]:
    found: list[Decoded] = []
    for start, end in _long_tokens(text):
        found += _decoded_runs(text, start, end)
        if len(found) >= MAX_PAYLOADS:
            break
    return found[:MAX_PAYLOADS]


def _long_tokens(text: str) -> list[tuple[int, int]]:
    """Spans of whitespace-free tokens long enough to hold a payload; ``str.split`` finds them
    far faster than a regular expression walking every character."""
    spans: list[tuple[int, int]] = []
    for token in {t for t in text.split() if len(t) >= _MIN_RUN}:
        at = text.find(token)
        while at != -1 and len(spans) < MAX_PAYLOADS * 4:
            spans.append((at, at + len(token)))
            at = text.find(token, at + 1)
    return sorted(spans)


def _decoded_runs(text: str, start: int, end: int) -> list[Decoded]:
    found: list[Decoded] = []
    for run in _RUN.finditer(text, start, end):
        if _embedded(text, run.start(), run.end()):
            continue
        token = run.group()
        how, plain = ("hex", _from_hex(token)) if _HEX.fullmatch(token) else ("", None)
        if plain is None:
            how, plain = "base64", _from_base64(token)
        if plain is not None:
            found.append(Decoded(run.start(), run.end(), plain, how))
    return found


def _embedded(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    if before in _JOINED_BEFORE or after in _JOINED_AFTER or before.isalnum() or after.isalnum():
        return True
    token_start = max(
        text.rfind(" ", 0, start), text.rfind("\n", 0, start), text.rfind('"', 0, start)
    )
    prefix = text[token_start + 1 : start]
    return "://" in prefix or prefix.endswith("base64,")


class EncodedPayloadRule:
    """Encoded runs that decode to readable text: weak alone, the decoded text is rescanned."""

    code = "encoding.payload"
    description = "encoded text that decodes to readable words"
    weight = 15
    markup = False

    def check(self, segment: Segment) -> list[Finding]:
        return [
            hit(self.code, f"{self.description} ({p.how})", segment, p.start, p.end, shown=p.text)
            for p in _payloads(segment.text)[:MAX_HITS]
        ]


class EncodedDecoder:
    """Decoded base64 and hex runs; the whole text rot13-decoded where it mentions rot13."""

    def decode(self, text: str) -> list[Decoded]:
        found = _payloads(text)
        if ({"rot", "caesar"} & words(text)) and _ROT13_HINT.search(text):
            found.append(_rot13(text))
        return found


def _rot13(text: str) -> Decoded:
    kept = text[:MAX_DECODED]
    # rot13 maps letter to letter, so every position stays where it was.
    return Decoded(0, len(kept), codecs.encode(kept, "rot13"), "rot13", tuple(range(len(kept))))


ENCODED_PAYLOAD = EncodedPayloadRule()
ENCODED_DECODER = EncodedDecoder()
