"""Short spans of a segment (sentences and lines grouped up to a size), scored beside the windows
so that an attack paragraph is not diluted by the ordinary text around it."""

from __future__ import annotations

import re

# A blank line (also inside quoted history, "> ") ends a paragraph; a sentence end or a line
# break only ends a piece, and neighbouring pieces of one paragraph share a span while they fit.
# Lines may end in CRLF (text parts and attachments keep the wire's line endings).
_BOUNDARY = re.compile(r"\r?\n[ \t>\r]*\n\s*|(?<=[.!?])\s+|\r?\n")


def spans(text: str, size: int) -> list[tuple[int, int]]:
    """(start, end) spans of at most ``size`` characters covering every non-blank character."""
    out: list[tuple[int, int]] = []
    group: tuple[int, int] | None = None
    for start, end, closes in _pieces(text):
        if group is not None and end - group[0] > size:
            out.append(group)
            group = None
        if end - start > size:
            out += [(s, min(s + size, end)) for s in range(start, end, size)]
            continue
        group = (group[0] if group else start, end)
        if closes:
            out.append(group)
            group = None
    return [*out, group] if group else out


def _pieces(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, ends a paragraph) of each non-blank sentence or line."""
    out: list[tuple[int, int, bool]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if text[start : match.start()].strip():
            out.append((start, match.start(), match.group().count("\n") > 1))
        start = match.end()
    if text[start:].strip():
        out.append((start, len(text), True))
    return out
