"""Cuts a message's segments into overlapping windows packed into per-call chunks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mailmoat.scanner.domain.content import Segment


@dataclass(frozen=True, slots=True)
class Window:
    """``text`` is ``segment.text[start:end]`` of the segment named ``part``."""

    part: str
    start: int
    end: int
    total: int
    text: str


@dataclass(frozen=True, slots=True)
class Chunk:
    """The windows sent together in one model call."""

    windows: tuple[Window, ...]

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(w.part for w in self.windows))


def split_segment(segment: Segment, size: int, overlap: int) -> tuple[Window, ...]:
    """Windows of at most ``size`` characters, ``overlap`` shared, covering the whole text.

    The overlap keeps a passage cut at a window edge readable in one piece in the next window.
    """
    text, total = segment.text, len(segment.text)
    step = max(1, size - overlap)
    windows: list[Window] = []
    start = 0
    while start < total:
        end = min(start + size, total)
        windows.append(Window(segment.part, start, end, total, text[start:end]))
        if end == total:
            break
        start += step
    return tuple(windows)


def plan_chunks(
    segments: Sequence[Segment],
    capacity: int,
    overlap: int,
    header_chars: Callable[[str], int],
) -> tuple[Chunk, ...]:
    """Pack every window of every segment, in order, into chunks of at most ``capacity`` chars.

    ``header_chars(part)`` is what one window's label costs; a window never exceeds the room
    left after its label, so every chunk fits.
    """
    chunks: list[Chunk] = []
    current: list[Window] = []
    used = 0
    for segment in segments:
        size = capacity - header_chars(segment.part)
        if size <= overlap:
            raise ValueError(f"capacity {capacity} leaves no room for part {segment.part!r}")
        for window in split_segment(segment, size, overlap):
            cost = header_chars(window.part) + len(window.text)
            if current and used + cost > capacity:
                chunks.append(Chunk(tuple(current)))
                current, used = [], 0
            current.append(window)
            used += cost
    if current:
        chunks.append(Chunk(tuple(current)))
    return tuple(chunks)


def covered_parts(segments: Sequence[Segment], dropped: Sequence[Chunk]) -> tuple[str, ...]:
    """Parts with no window in the ``dropped`` chunks (those the budget left unsent)."""
    missing = {w.part for c in dropped for w in c.windows}
    return tuple(s.part for s in segments if s.part not in missing)
