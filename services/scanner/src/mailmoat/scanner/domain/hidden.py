"""Checker detector (walking skeleton): hidden-content and smuggling rules, no learned weights."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from mailmoat.common.events import Finding
from mailmoat.common.mailtext import MailText
from mailmoat.scanner.domain.assessment import Assessment

INVISIBLE = re.compile(
    "[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]"
)
HIDDEN_STYLE = re.compile(
    r"style\s*=\s*['\"][^'\"]*(display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0"
    r"|opacity\s*:\s*0(?![.\d]*[1-9]))",
    re.I,
)
ROLE_TOKEN = re.compile(
    r"<\|?(im_start|im_end|system|assistant)\|?>|\[/?INST\]|^\s*system\s*:", re.I | re.M
)
HTML_COMMENT = re.compile(r"<!--(.*?)-->", re.S)


@dataclass(frozen=True)
class Rule:
    """One check: a code, a reason, its score, and where to look."""

    code: str
    reason: str
    score: int
    find: Callable[[MailText], list[tuple[str, int, int]]]


def _search(
    pattern: re.Pattern[str], *parts: str
) -> Callable[[MailText], list[tuple[str, int, int]]]:
    def find(mail: MailText) -> list[tuple[str, int, int]]:
        hits = []
        for part in parts:
            if match := pattern.search(getattr(mail, part)):
                hits.append((part, match.start(), match.end()))
        return hits

    return find


def _long_comment(mail: MailText) -> list[tuple[str, int, int]]:
    return [
        ("html", m.start(), m.end())
        for m in HTML_COMMENT.finditer(mail.html)
        if len(m.group(1).split()) >= 5
    ]


RULES = (
    Rule(
        "invisible_characters",
        "invisible, bidi or tag characters hide text",
        60,
        _search(INVISIBLE, "subject", "text", "html"),
    ),
    Rule(
        "hidden_html",
        "HTML text styled to be invisible to a person",
        60,
        _search(HIDDEN_STYLE, "html"),
    ),
    Rule(
        "role_token",
        "fake chat-role or instruction tokens",
        70,
        _search(ROLE_TOKEN, "subject", "text", "html"),
    ),
    Rule("html_comment_text", "sentences hidden in HTML comments", 40, _long_comment),
)


class HiddenContentChecker:
    """Flags content a person would not see but a model would read."""

    name = "hidden-content-rules"
    version = "0.1.0"

    def assess(self, mail: MailText) -> Assessment:
        """Flag the mail if any rule fires; the score is the strongest rule's."""
        findings = tuple(
            Finding(code=rule.code, reason=rule.reason, part=part, start=start, end=end)
            for rule in RULES
            for part, start, end in rule.find(mail)
        )
        score = max((r.score for r in RULES if any(f.code == r.code for f in findings)), default=0)
        return Assessment(score=score, flagged=bool(findings), findings=findings)
