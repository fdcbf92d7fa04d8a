"""Invisible characters inside words: they split a phrase so that keyword filters miss it."""

from __future__ import annotations

import re

from mailmoat.common.events import Finding
from mailmoat.scanner.domain.content import Segment
from mailmoat.scanner.domain.rules.base import MAX_HITS, Decoded, has_unusual, hit

# Zero-width and format characters that have no business between two Latin letters. ZWJ and
# ZWNJ between Indic or Arabic letters, in emoji sequences, and soft hyphens in long German
# words are all legitimate and never sit between two ASCII letters in that way.
_INVISIBLE = "\u180e\u200b-\u200f\u2060-\u2064\ufeff"
_RUN = re.compile(f"[{_INVISIBLE}]+")
_ANY = re.compile(f"[{_INVISIBLE}\U000e0000-\U000e007f]+")
_LATIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _splits(text: str) -> list[tuple[int, int]]:
    """Runs of invisible characters with a Latin letter on both sides."""
    if not has_unusual(text):
        return []
    return [
        run.span()
        for run in _RUN.finditer(text)
        if run.start() > 0
        and run.end() < len(text)
        and text[run.start() - 1] in _LATIN
        and text[run.end()] in _LATIN
    ]


class InvisibleSplitRule:
    """Zero-width characters placed between the letters of Latin words."""

    code = "unicode.invisible_split"
    description = "zero-width characters hidden inside words"
    weight = 25
    markup = True

    def check(self, segment: Segment) -> list[Finding]:
        splits = _splits(segment.text)
        if not splits:
            return []
        what = f"{self.description} ({len(splits)} places)"
        start, end = splits[0][0], splits[-1][1]
        shown = _ANY.sub("", segment.text[max(0, start - 30) : end + 30])
        return [hit(self.code, what, segment, start, end, shown=shown)][:MAX_HITS]


class InvisibleDecoder:
    """The text with its invisible characters removed, so split phrases read whole again."""

    def decode(self, text: str) -> list[Decoded]:
        if not _splits(text):
            return []
        index: list[int] = []
        last = 0
        for run in _ANY.finditer(text):
            index.extend(range(last, run.start()))
            last = run.end()
        index.extend(range(last, len(text)))
        cleaned = "".join(text[i] for i in index)
        return [Decoded(0, len(text), cleaned, "invisible characters removed", tuple(index))]


INVISIBLE_SPLIT = InvisibleSplitRule()
INVISIBLE_DECODER = InvisibleDecoder()
