"""Bidi controls that reorder text: overrides anywhere, embeddings and isolates in LTR text."""

from __future__ import annotations

import re

from mailmoat.common.events import Finding
from mailmoat.scanner.domain.content import Segment
from mailmoat.scanner.domain.rules.base import MAX_HITS, Decoded, has_unusual, hit

# LRM/RLM/ALM (U+200E, U+200F, U+061C) are marks Arabic and Hebrew writers use every day and
# are left alone. Overrides (LRO, RLO) force an order on any text; embeddings and isolates
# (LRE, RLE, LRI, RLI, FSI) are only odd where there is no right-to-left script at all.
_OVERRIDE = re.compile("[\u202d\u202e]")
_EMBED = re.compile("[\u202a\u202b\u2066-\u2068]")
_RTL_LETTER = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
_REVERSED_RUN = re.compile("\u202e([^\u202c\u2069\n]{1,2000})")


def _controls(text: str) -> list[re.Match[str]]:
    if not has_unusual(text):
        return []
    found = list(_OVERRIDE.finditer(text))
    if not _RTL_LETTER.search(text):
        found += _EMBED.finditer(text)
    return sorted(found, key=lambda m: m.start())


class BidiRule:
    """Bidi override (and, in purely LTR text, embedding or isolate) characters."""

    code = "unicode.bidi_control"
    description = "bidi control that reorders how text is displayed"
    weight = 45
    markup = True

    def check(self, segment: Segment) -> list[Finding]:
        return [
            hit(self.code, self.description, segment, *m.span(), shown=f"U+{ord(m.group()):04X}")
            for m in _controls(segment.text)[:MAX_HITS]
        ]


class BidiDecoder:
    """Right-to-left overridden runs read back in display order, as a person would see them."""

    def decode(self, text: str) -> list[Decoded]:
        if "\u202e" not in text:
            return []
        return [
            Decoded(m.start(), m.end(), m.group(1)[::-1], "right-to-left override")
            for m in _REVERSED_RUN.finditer(text)
        ][:MAX_HITS]


BIDI_CONTROL = BidiRule()
BIDI_DECODER = BidiDecoder()
