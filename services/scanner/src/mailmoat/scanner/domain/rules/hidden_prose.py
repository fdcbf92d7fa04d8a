"""Hidden prose: what the rules about hidden text read, and the rule shape they share.

Hidden text is legitimate in newsletters, but only in a few shapes: a preheader that sells
("20% off everything"), alt text that names a picture, template and Outlook comments made of
markup. None of them addresses a machine, orders the reader about or hides a link, so the rules
built here flag such text on its own: nobody hides those from the person who reads the mail.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import lru_cache

from mailmoat.common.events import Finding
from mailmoat.scanner.domain.content import Segment
from mailmoat.scanner.domain.rules.base import (
    MAX_HITS,
    REACH,
    anchored,
    hidden_kind,
    hit,
    lowered,
    snippet,
)

EXCERPT = 60
"""Characters of hidden text a reason quotes: enough to recognise it, short for the reader."""

# Style and script sources are code, and invisible-character runs carry no words of their own
# (the tag-block and bidi rules decode those); the other hidden kinds hold prose.
NOT_PROSE = frozenset({"style", "script", "invisible_chars"})

# Comments carry Outlook conditional blocks, VML, FrontPage bots and commented-out template
# code. Their tags, attribute pairs, CSS blocks and [if mso] brackets are markup, not prose; they
# are blanked (not removed) so every offset still points at the comment's own characters.
_MARKUP = re.compile(
    r"<!?\[[^\]<>]{0,64}\]>?"
    r"|\[(?:if|endif|else)\b[^\]<>]{0,64}\]>?"
    r"|<[^<>]{0,2000}>"
    r"|\{[^{}]{0,2000}\}"
    r"|[\w:.-]{1,40}\s*=\s*(?:\"[^\"]{0,2000}\"|'[^']{0,2000}')",
    re.IGNORECASE,
)


def hidden_prose(segment: Segment) -> Segment | None:
    """The segment as prose when it is hidden text a person would have read, else None."""
    kind = hidden_kind(segment.part)
    if kind is None or kind in NOT_PROSE:
        return None
    return segment if kind != "comment" else Segment(segment.part, _unmarked(segment.text))


@lru_cache(maxsize=16)
def _unmarked(comment: str) -> str:
    """The comment with its markup blanked, computed once for all the rules reading it."""
    return _MARKUP.sub(_blank, comment)


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group())


def hidden_hit(code: str, what: str, segment: Segment, start: int, end: int) -> Finding:
    """A finding quoting at most ``EXCERPT`` characters of the hidden text."""
    return hit(code, what, segment, start, end, snippet(segment.text[start:end], EXCERPT))


_CAPITALISED = re.compile(r"\s[A-Z][a-z]+\s+[a-z]")
"""A capitalised word followed by one in lower case; titles capitalise every word ("How To
Write A Great Story"), so only this starts a command in mid-text."""


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def fold(text: str) -> str:
    """The text in lower case with every character where it was, for patterns written in lower
    case: three times faster than matching with IGNORECASE, and these rules read every hidden
    fragment of a message. Where full lower-casing would move characters ('İ' becomes two),
    only ASCII letters are folded: the patterns are ASCII."""
    low = lowered(text)
    return low if len(low) == len(text) else text.translate(_ASCII_LOWER)


@dataclass(frozen=True, slots=True)
class Anchored:
    """A regular expression and the lower-case whole words (or phrases), one of which lies within
    REACH of its every match: the expression runs only in windows around them."""

    pattern: re.Pattern[str]
    anchors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HiddenPatternRule:
    """Anchored regular expressions, written in lower case, read only in folded hidden prose.

    A pattern whose group ``cap`` takes part in a match started it at a capitalised word in
    mid-text; the match counts only where the original text bears that out."""

    code: str
    description: str
    weight: int
    checks: tuple[Anchored, ...]
    markup: bool = False

    def check(self, segment: Segment) -> list[Finding]:
        prose = hidden_prose(segment)
        if prose is None:
            return []
        folded = fold(prose.text)
        found: dict[tuple[int, int], Finding] = {}
        for check in self.checks:
            for start, end in anchored(prose.text, check.anchors, REACH):
                for match in check.pattern.finditer(folded, start, end):
                    if not _capital_bears_out(prose.text, match):
                        continue
                    span = match.span()
                    found.setdefault(span, hidden_hit(self.code, self.description, prose, *span))
                    if len(found) >= MAX_HITS:
                        return list(found.values())
        return list(found.values())


def _capital_bears_out(text: str, match: re.Match[str]) -> bool:
    cap = match.start("cap") if "cap" in match.re.groupindex else -1
    return cap < 0 or _CAPITALISED.match(text, cap) is not None
