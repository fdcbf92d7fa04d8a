"""What the agent reads: detected instruction spans cut out and invisible characters removed."""

from __future__ import annotations

from collections.abc import Iterable

from mailmoat.common.mail.invisible import strip_invisible

REMOVED = "[removed: suspected instruction]"
# Spans longer than this are a model's whole window, not a located instruction: the message's
# REVIEW status carries that signal instead of blanking a page of ordinary text.
MAX_SPAN = 1000


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
    return strip_invisible("".join(pieces))
