"""Overlapping windows that together cover a whole segment, so no text goes unread: by characters,
or as groups of consecutive short spans (what the detector scores)."""

from __future__ import annotations


def windows(length: int, size: int, overlap: int) -> list[tuple[int, int]]:
    """(start, end) spans of at most ``size`` characters, consecutive ones sharing ``overlap``."""
    if size <= overlap:
        raise ValueError("window size must exceed the overlap")
    spans: list[tuple[int, int]] = []
    start = 0
    while start < length:
        end = min(start + size, length)
        spans.append((start, end))
        if end == length:
            break
        start = end - overlap
    return spans


def span_windows(spans: list[tuple[int, int]], size: int, overlap: int) -> list[tuple[int, int]]:
    """[first, last) indices into ``spans`` of windows of at most ``size`` characters (or one
    span), consecutive ones sharing the spans that start in the last ``overlap`` characters."""
    out: list[tuple[int, int]] = []
    first = 0
    while first < len(spans):
        last = first + 1
        while last < len(spans) and spans[last][1] - spans[first][0] <= size:
            last += 1
        out.append((first, last))
        if last == len(spans):
            break
        reach = spans[last - 1][1] - overlap
        first = next((k for k in range(first + 1, last) if spans[k][0] >= reach), last)
    return out
