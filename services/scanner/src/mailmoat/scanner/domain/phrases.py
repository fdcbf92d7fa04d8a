"""Primary detector (walking skeleton): weighted phrase scoring of instruction-style text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailmoat.common.events import Finding
from mailmoat.common.mailtext import MailText, html_to_text
from mailmoat.scanner.domain.assessment import Assessment

FLAG_AT = 50


@dataclass(frozen=True)
class Phrase:
    """A pattern, its weight toward the score, and why it matters."""

    code: str
    pattern: re.Pattern[str]
    weight: int
    reason: str


PHRASES = (
    Phrase(
        "override_instructions",
        re.compile(
            r"\b(ignore|disregard|forget)\b.{0,40}\b(previous|prior|above|earlier|all)\b"
            r".{0,20}\b(instructions?|rules|prompts?|directions)",
            re.I | re.S,
        ),
        60,
        "asks the reader to discard its instructions",
    ),
    Phrase(
        "new_instructions",
        re.compile(r"\b(new|updated|real)\s+(instructions?|system prompt|directive)s?\b", re.I),
        30,
        "announces replacement instructions",
    ),
    Phrase(
        "addressed_to_ai",
        re.compile(r"\b(AI|assistant|agent|language model|LLM|chatbot)\b\s*[,:]", re.I),
        20,
        "text addressed to an AI assistant",
    ),
    Phrase(
        "exfiltrate",
        re.compile(
            r"\b(forward|send|email|reply with)\b.{0,60}\b(password|credentials?|"
            r"api key|tokens?|secrets?|all (emails|messages|files))",
            re.I | re.S,
        ),
        45,
        "asks for data to be sent somewhere",
    ),
    Phrase(
        "reveal_prompt",
        re.compile(r"\b(reveal|print|show|repeat)\b.{0,30}\b(system prompt|instructions)", re.I),
        40,
        "asks the reader to reveal its prompt",
    ),
)


class PhraseScorer:
    """Sums the weights of instruction-style phrases found in subject, text and HTML text."""

    name = "phrase-scorer"
    version = "0.1.0"

    def assess(self, mail: MailText) -> Assessment:
        """Score the mail; flagged when the sum reaches ``FLAG_AT``."""
        findings: list[Finding] = []
        for part, text in (
            ("subject", mail.subject),
            ("text", mail.text),
            ("html", html_to_text(mail.html)),
        ):
            findings.extend(_matches(part, text))
        score = min(100, sum(_weight(f.code) for f in _distinct(findings)))
        return Assessment(score=score, flagged=score >= FLAG_AT, findings=tuple(findings))


def _matches(part: str, text: str) -> list[Finding]:
    return [
        Finding(code=p.code, reason=p.reason, part=part, start=m.start(), end=m.end())
        for p in PHRASES
        if (m := p.pattern.search(text))
    ]


def _distinct(findings: list[Finding]) -> list[Finding]:
    return list({f.code: f for f in findings}.values())


def _weight(code: str) -> int:
    return next(p.weight for p in PHRASES if p.code == code)
