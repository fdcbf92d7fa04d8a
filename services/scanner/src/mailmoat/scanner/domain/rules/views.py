"""What the rules read of a segment: the text itself, rendered HTML, and decoded runs.

Every view knows how to place a span of its own text back onto the segment it came from, so a
finding in a decoded or rendered view still points at the characters of the message.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from mailmoat.scanner.domain.content import Segment
from mailmoat.scanner.domain.rules.base import Decoded, Decoder

Place = Callable[[int, int], tuple[int, int]]
MAX_DEPTH = 2
"""Decoding inside decoded text goes this deep (base64 in base64), no deeper."""

_TAG = re.compile(r"<!--|-->|<[A-Za-z/!?][^<>]*>")
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]\w{1,31});")


def _same(start: int, end: int) -> tuple[int, int]:
    return start, end


@dataclass(frozen=True, slots=True)
class View:
    """Text for the rules, with where it came from."""

    segment: Segment
    markup: bool
    """Rules that read markup (raw HTML source) run on this view."""
    prose: bool
    """Rules that read rendered text run on this view."""
    place: Place = _same
    how: str = ""
    """The decoding that produced the text; empty for the segment as received or rendered."""
    depth: int = 0


def base_views(segment: Segment) -> list[View]:
    """A non-HTML segment is read as is; HTML source also rendered to text."""
    if segment.part != "html":
        return [View(segment, markup=True, prose=True)]
    rendered = Segment(segment.part, render(segment.text))
    return [View(segment, markup=True, prose=False), View(rendered, markup=False, prose=True)]


def decoded_views(view: View, decoders: tuple[Decoder, ...]) -> list[View]:
    """Views of what the decoders recover from this view, up to ``MAX_DEPTH``."""
    if view.depth >= MAX_DEPTH:
        return []
    return [_child(view, d) for decoder in decoders for d in decoder.decode(view.segment.text)]


def _child(parent: View, decoded: Decoded) -> View:
    if decoded.index is not None:
        index = decoded.index

        def place(start: int, end: int) -> tuple[int, int]:
            return parent.place(*_span(index, start, end))
    else:

        def place(start: int, end: int) -> tuple[int, int]:
            return parent.place(decoded.start, decoded.end)

    how = f"{parent.how} > {decoded.how}" if parent.how else decoded.how
    segment = Segment(parent.segment.part, decoded.text)
    return View(segment, True, True, place, how, parent.depth + 1)


def render(source: str) -> str:
    """HTML source as text of the same length: tags (not comment text) blanked, entities
    decoded and padded, so every offset in the rendering is the same offset in the source."""
    if "<" not in source and "&" not in source:
        return source
    return _ENTITY.sub(_padded_entity, _TAG.sub(_blank, source))


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group())


def _padded_entity(match: re.Match[str]) -> str:
    text = html.unescape(match.group())
    return text + " " * (len(match.group()) - len(text))


def _span(index: tuple[int, ...], start: int, end: int) -> tuple[int, int]:
    if not index:
        return 0, 0
    first = index[min(start, len(index) - 1)]
    last = index[min(max(end - 1, start), len(index) - 1)] + 1
    return first, max(first, last)
