"""What the agent reads: detected instructions cut out and invisible characters removed.

A detector locates the words that matched, which are often only the start of the instruction
("Note to the AI reading this: ..."), so each located span is widened to the sentence it lies
in before it is replaced: the rest of the order never reaches the agent either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from mailmoat.common.mail.invisible import strip_invisible

REMOVED = "[removed: suspected instruction]"
# Spans longer than this are a model's whole window, not a located instruction: the message's
# REVIEW status carries that signal instead of blanking a page of ordinary text.
MAX_SPAN = 1000
SENTENCE_REACH = 400
"""How far a span is widened on each side to reach its sentence's ends."""
_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n")


def merge_spans(spans: Iterable[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """Sorted, clipped, non-overlapping spans; empty or overlong ones dropped."""
    return _merged([(s, e) for s, e in spans if 0 < e - s <= MAX_SPAN], length)


def _merged(spans: Iterable[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    kept = sorted((max(0, s), min(length, e)) for s, e in spans)
    merged: list[tuple[int, int]] = []
    for start, end in kept:
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def sentence_of(text: str, start: int, end: int) -> tuple[int, int]:
    """The span widened to the sentence (or line) it lies in, reaching at most
    ``SENTENCE_REACH`` characters further on each side."""
    reach = max(0, start - SENTENCE_REACH)
    ends = [m.end() for m in _SENTENCE_END.finditer(text, reach, start)]
    first = ends[-1] if ends else reach
    while first < start and text[first].isspace():
        first += 1
    found = _SENTENCE_END.search(text, max(start, end - 1), min(len(text), end + SENTENCE_REACH))
    if found is None:
        return first, min(len(text), end + SENTENCE_REACH)
    return first, found.start() if found.group() == "\n" else found.end()


def sanitise(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` with each span's sentence replaced by a visible marker, then invisible
    characters removed."""
    located = merge_spans(spans, len(text))
    widened = _merged((sentence_of(text, s, e) for s, e in located), len(text))
    pieces, cursor = [], 0
    for start, end in widened:
        pieces += [text[cursor:start], REMOVED]
        cursor = end
    pieces.append(text[cursor:])
    return strip_invisible("".join(pieces))
