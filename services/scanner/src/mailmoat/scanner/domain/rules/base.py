"""What every checker rule is: a code, a description, a weight and a ``check`` giving findings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from mailmoat.common.events import Finding
from mailmoat.scanner.domain.content import ScanContent, Segment

MAX_HITS = 5
"""Findings one rule reports per scanned text; more of the same adds nothing to the score."""
SNIPPET = 120
REACH = 160
"""How far from an anchor word a rule's match may start or end."""
MAX_ANCHORS = 500
_WORD = re.compile(r"[^\W\d_]+")


class SegmentRule(Protocol):
    """A check over one segment of text (or a decoded or rendered view of one)."""

    @property
    def code(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def weight(self) -> int: ...
    @property
    def markup(self) -> bool:
        """True when the rule reads raw HTML source; False when it reads rendered HTML text."""
        ...

    def check(self, segment: Segment) -> list[Finding]: ...


class ContentRule(Protocol):
    """A check that compares segments of one message."""

    @property
    def code(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def weight(self) -> int: ...

    def check(self, content: ScanContent) -> list[Finding]: ...


@dataclass(frozen=True, slots=True)
class Decoded:
    """Text recovered from a concealed or encoded run, and where that run sits."""

    start: int
    end: int
    text: str
    how: str
    index: tuple[int, ...] | None = None
    """Where each character of ``text`` sits in the source text, when the decoding keeps
    positions (characters removed, not transformed); None points every finding at the run."""


class Decoder(Protocol):
    """Finds concealed runs in a text and recovers what they say, so the rules read it too."""

    def decode(self, text: str) -> list[Decoded]: ...


def snippet(text: str, limit: int = SNIPPET) -> str:
    """A one-line excerpt for a reason: whitespace collapsed, capped."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "\u2026"


def hit(
    code: str, what: str, segment: Segment, start: int, end: int, shown: str | None = None
) -> Finding:
    """A finding whose reason names what matched (``shown``, by default the span's text) and
    the span it covers."""
    excerpt = snippet(segment.text[start:end] if shown is None else shown)
    reason = f"{what}: {excerpt!r} at {start}-{end}"
    return Finding(code=code, reason=reason, part=segment.part, start=start, end=end)


def hidden_kind(part: str) -> str | None:
    """The hiding method of a ``hidden:<kind>:<n>`` part, None for other parts."""
    if not part.startswith("hidden:"):
        return None
    return part.split(":")[1]


@lru_cache(maxsize=16)
def lowered(text: str) -> str:
    """The text in lower case, computed once for all the rules reading it."""
    return text.lower()


def anchored(text: str, anchors: tuple[str, ...], reach: int = REACH) -> list[tuple[int, int]]:
    """Windows of ``reach`` characters around each occurrence of an anchor (lower case), merged.

    Rules run their expressions only there: a typical mail holds few anchors, so most of its
    text is skipped at the speed of ``str.find`` instead of being walked by the regex engine.
    """
    low = lowered(text)
    present = [a for a in anchors if _may_occur(a, words(text))]
    if len(low) != len(text):  # lower() changed a length: positions would not line up
        return [(0, len(text))] if any(a in low for a in present) else []
    spans: list[tuple[int, int]] = []
    for anchor in present:
        at = low.find(anchor)
        while at != -1 and len(spans) < MAX_ANCHORS:
            if _whole(low, anchor, at):
                spans.append((max(0, at - reach), min(len(text), at + len(anchor) + reach)))
            at = low.find(anchor, at + 1)
    return merged_spans(spans)


def _whole(low: str, anchor: str, at: int) -> bool:
    """An anchor that starts or ends with a letter must not continue a longer word there
    ("ai" in "email" is no anchor)."""
    end = at + len(anchor)
    if anchor[0].isalpha() and at > 0 and low[at - 1].isalpha():
        return False
    return not (anchor[-1].isalpha() and end < len(low) and low[end].isalpha())


@lru_cache(maxsize=16)
def words(text: str) -> frozenset[str]:
    """The lower-case words of a text, so that absent anchors cost a set lookup, not a scan."""
    return frozenset(_WORD.findall(lowered(text)))


def _may_occur(anchor: str, present: frozenset[str]) -> bool:
    """False when the anchor's first word is missing from the text; anchors must therefore
    start with a whole word (or with no letters at all, which are always looked for)."""
    head = _head(anchor)
    return head is None or head in present


@lru_cache(maxsize=1024)
def _head(anchor: str) -> str | None:
    found = _WORD.search(anchor)
    return found.group() if found else None


_UNUSUAL = re.compile(
    "[\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\U000e0000-\U000e007f]"
)


@lru_cache(maxsize=16)
def has_unusual(text: str) -> bool:
    """Whether the text holds any invisible, bidi or tag character (ASCII text never does)."""
    return not text.isascii() and _UNUSUAL.search(text) is not None


def merged_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans sorted, overlapping ones joined."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


@dataclass(frozen=True, slots=True)
class PatternRule:
    """A rule made of regular expressions, run only in windows around its anchor words."""

    code: str
    description: str
    weight: int
    patterns: tuple[re.Pattern[str], ...]
    anchors: tuple[str, ...]
    """Lower-case substrings, one of which every match contains or lies within REACH of."""
    markup: bool = False
    reach: int = REACH

    def check(self, segment: Segment) -> list[Finding]:
        found: dict[tuple[int, int], Finding] = {}
        for start, end in anchored(segment.text, self.anchors, self.reach):
            for pattern in self.patterns:
                for match in pattern.finditer(segment.text, start, end):
                    found.setdefault(match.span(), self._hit(segment, match))
                    if len(found) >= MAX_HITS:
                        return list(found.values())
        return list(found.values())

    def _hit(self, segment: Segment, match: re.Match[str]) -> Finding:
        return hit(self.code, self.description, segment, *match.span())
