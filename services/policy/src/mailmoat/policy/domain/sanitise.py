"""What the agent reads: detected instruction spans cut out and invisible characters removed."""

from __future__ import annotations

import re
from collections.abc import Iterable

REMOVED = "[removed: suspected instruction]"
# Spans longer than this are a model's whole window, not a located instruction: the message's
# REVIEW status carries that signal instead of blanking a page of ordinary text.
MAX_SPAN = 1000
# Zero-width and joiner controls, bidi embeddings/overrides/isolates, word joiners, BOM, tag block.
_INVISIBLE = re.compile(
    "[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]"
)


def merge_spans(spans: Iterable[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """Sorted, clipped, non-overlapping spans; empty or overlong ones dropped."""
    kept = sorted((max(0, s), min(length, e)) for s, e in spans if 0 < e - s <= MAX_SPAN)
    merged: list[tuple[int, int]] = []
    for start, end in kept:
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def sanitise(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` with each span replaced by a visible marker, then invisible characters removed."""
    pieces, cursor = [], 0
    for start, end in merge_spans(spans, len(text)):
        pieces += [text[cursor:start], REMOVED]
        cursor = end
    pieces.append(text[cursor:])
    return _INVISIBLE.sub("", "".join(pieces))
