"""Overlapping windows that together cover a whole segment, so no text goes unread."""

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
