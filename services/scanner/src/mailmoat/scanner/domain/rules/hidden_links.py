"""Links and addresses in hidden prose: a person cannot click or write to what they never see.

Legitimate mail hides a link or an address in a few set phrases only, and those are let
through: the 'view it in your browser' fallback of a newsletter, the unsubscribe line, 'this
email was sent to you@example.com', 'add news@example.com to your address book', and the
'saved from url=' stamp of a page saved from a browser. Hrefs of tags inside comments (Outlook
conditional blocks, commented-out template code) are markup and are blanked before reading.
A bare host ('www.shop.example') is no link here: logos' alt text names the sender's site.
"""

from __future__ import annotations

import re

from mailmoat.common.events import Finding
from mailmoat.scanner.domain.content import Segment
from mailmoat.scanner.domain.rules.base import MAX_HITS, anchored
from mailmoat.scanner.domain.rules.hidden_prose import hidden_hit, hidden_prose
from mailmoat.scanner.domain.rules.lexicon import EMAIL_ADDRESS

_LINK = re.compile(r"\b(?:https?|ftp)://[^\s\"'<>)\]]{3,2000}|" + EMAIL_ADDRESS, re.IGNORECASE)
_LOOK_BACK = 100
_LOOK_AHEAD = 60
# Each phrase must end in the sentence that holds the link.
_BEFORE = re.compile(
    r"saved\s+from\s+url=\(\d+\)\s*$"
    r"|\b(?:sent|delivered|addressed)\s+to\s*:?\s*$|\badd\s*$"
    r"|(?:unsubscrib|opt[\s-]?out|\bremov\w*|manage\s+(?:your\s+)?(?:preferences|"
    r"subscription)|\b(?:view|read|see|open)\w*\s+(?:[\w-]+\s+){0,6}?(?:online|(?:in|on)\s+"
    r"(?:a\s+|the\s+|your\s+)?(?:web\s+)?(?:browser|web)|web\s+version)|web\s+version|"
    r"\btrouble\s+(?:viewing|reading|seeing)|(?:can(?:no|')t|unable\s+to)\s+(?:see|view|read|"
    r"display)|not\s+(?:display|appear)\w*\s+correctly)(?:[^.!?\n]|\.(?=\S)){0,80}$",
    re.IGNORECASE,
)
_AFTER = re.compile(
    r"^\W{0,3}\s*(?:to\s+your\s+)?(?:address\s+book|contacts|safe\s+senders?|whitelist|"
    r"approved\s+senders?)",
    re.IGNORECASE,
)
_ANCHORS = ("http", "https", "ftp", "@")
_REACH = 80
"""Longer than the local part of an address, which may precede its '@' by 64 characters."""


class HiddenLinkRule:
    """A URL or an email address in hidden prose, outside the phrases that put one there."""

    code = "hidden.link"
    description = "link or email address in hidden text"
    weight = 50
    markup = False

    def check(self, segment: Segment) -> list[Finding]:
        prose = hidden_prose(segment)
        if prose is None:
            return []
        found: dict[tuple[int, int], Finding] = {}
        for start, end in anchored(prose.text, _ANCHORS, reach=_REACH):
            for link in _LINK.finditer(prose.text, start, end):
                if not _explained(prose.text, *link.span()):
                    span = link.span()
                    found.setdefault(span, hidden_hit(self.code, self.description, prose, *span))
                if len(found) >= MAX_HITS:
                    return list(found.values())
        return list(found.values())


def _explained(text: str, start: int, end: int) -> bool:
    """Whether the link sits in one of the phrases that legitimately put one in hidden text."""
    before = text[max(0, start - _LOOK_BACK) : start]
    after = text[end : end + _LOOK_AHEAD]
    return _BEFORE.search(before) is not None or _AFTER.search(after) is not None


HIDDEN_LINK = HiddenLinkRule()
