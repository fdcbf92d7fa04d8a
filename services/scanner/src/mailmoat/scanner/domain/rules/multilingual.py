"""Override, role-change, exfiltration and prompt-leak phrasing in fourteen more languages.

``override`` reads English, Spanish, French, German and Portuguese. This module adds Italian,
Dutch, Polish, Turkish, Indonesian, Swahili, Vietnamese, Russian, Arabic, Hindi, Amharic, Khmer,
Japanese, Chinese and Korean: "ignore (all) previous instructions", "forget your
instructions", "reveal your system prompt", and "send/forward all emails to" followed by an
address (out-of-office replies say "all emails will be forwarded to ...", a statement with no
imperative verb; the patterns use imperatives). Each language is a list of patterns below; a
finding's reason names the language.

"You are now" is a weaker signal (in any language it also opens "you are now a Gold member"),
so it has its own code and weight, as in English (``injection.role_play``).

Several of these scripts put no spaces between words, so the rule looks its anchors up with
``str.find`` rather than through ``base.anchored`` (which relies on word boundaries); a text in
ASCII is only read for the Latin-script languages.
"""

# The phrases are written in their own scripts and punctuation, look-alikes of ASCII included.

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from mailmoat.common.events import Finding
from mailmoat.scanner.domain.content import Segment
from mailmoat.scanner.domain.rules.base import MAX_HITS, anchored, hit, lowered, merged_spans, words
from mailmoat.scanner.domain.rules.lexicon import EMAIL_ADDRESS
from mailmoat.scanner.domain.rules.multilingual_leaks import PROMPT_LEAK, YOU_ARE_NOW
from mailmoat.scanner.domain.rules.multilingual_phrases import EXFILTRATION, OVERRIDE, Phrases

_I = re.IGNORECASE
_ADDRESS = re.compile(EMAIL_ADDRESS + r"|https?://", _I)
_ADDRESS_REACH = 150
"""An exfiltration order counts when an address or URL lies this close to it."""
_REACH = 200


@dataclass(frozen=True, slots=True)
class MultilingualRule:
    """Phrases in several languages; a finding names the language that matched."""

    code: str
    description: str
    weight: int
    phrases: tuple[Phrases, ...]
    needs_address: bool = False
    markup: bool = False

    def check(self, segment: Segment) -> list[Finding]:
        text, low = segment.text, lowered(segment.text)
        if len(low) != len(text):
            return []
        present, foreign = words(text), _non_ascii(text)
        found: list[Finding] = []
        for phrases in self.phrases:
            if not _may_hold(phrases, present, foreign):
                continue
            found += self._language(segment, low, phrases)
            if len(found) >= MAX_HITS:
                break
        return found[:MAX_HITS]

    def _language(self, segment: Segment, low: str, phrases: Phrases) -> list[Finding]:
        found = []
        if phrases.latin:
            windows = anchored(segment.text, phrases.anchors, _REACH)
        else:
            windows = _windows(low, phrases.anchors)
        for start, end in windows:
            for pattern in _compiled(phrases):
                for match in pattern.finditer(segment.text, start, end):
                    if self.needs_address and not _near_address(segment.text, *match.span()):
                        continue
                    what = f"{self.description} ({phrases.language})"
                    found.append(hit(self.code, what, segment, *match.span()))
        return found


_CACHE: dict[str, re.Pattern[str]] = {}
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


@lru_cache(maxsize=16)
def _non_ascii(text: str) -> frozenset[str]:
    """The distinct non-ASCII characters of a text: a language's anchors must start with one."""
    return frozenset(_NON_ASCII.findall(text)) if not text.isascii() else frozenset()


def _may_hold(phrases: Phrases, present: frozenset[str], foreign: frozenset[str]) -> bool:
    """False when none of the language's anchors can occur: Latin-script anchors start with a
    word of the text, the others with one of its non-ASCII characters."""
    if phrases.latin:
        return any(anchor.split()[0] in present for anchor in phrases.anchors)
    return any(a[0].isascii() or a[0] in foreign for a in phrases.anchors)


def _compiled(phrases: Phrases) -> list[re.Pattern[str]]:
    return [_CACHE.setdefault(p, re.compile(p, _I)) for p in phrases.patterns]


def _windows(low: str, anchors: tuple[str, ...]) -> list[tuple[int, int]]:
    """Windows around anchors in scripts without spaces, where word boundaries mean nothing."""
    spans: list[tuple[int, int]] = []
    for anchor in (a for a in anchors if a in low):
        at = low.find(anchor)
        while at != -1 and len(spans) < 100:
            spans.append((max(0, at - _REACH), min(len(low), at + len(anchor) + _REACH)))
            at = low.find(anchor, at + 1)
    return merged_spans(spans)


def _near_address(text: str, start: int, end: int) -> bool:
    window = text[max(0, start - _ADDRESS_REACH) : end + _ADDRESS_REACH]
    return _ADDRESS.search(window) is not None


OVERRIDE_MULTILINGUAL = MultilingualRule(
    code="injection.override_multilingual",
    description="tells the reader to drop its instructions or reveal its prompt",
    weight=60,
    phrases=(*OVERRIDE, *PROMPT_LEAK),
)
EXFIL_MULTILINGUAL = MultilingualRule(
    code="exfil.forward_multilingual",
    description="orders all mail sent to an address",
    weight=55,
    phrases=EXFILTRATION,
    needs_address=True,
)
ROLE_PLAY_MULTILINGUAL = MultilingualRule(
    code="injection.role_play_multilingual",
    description="reassigns the reader's role ('you are now')",
    weight=40,
    phrases=YOU_ARE_NOW,
)
