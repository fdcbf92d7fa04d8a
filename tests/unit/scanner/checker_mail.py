"""Builders for the checker's tests: messages as the parser would hand them to the scanner."""

from __future__ import annotations

from mailmoat.common.mail.structured import HiddenFragment, HiddenKind, StructuredMessage
from mailmoat.scanner.domain.assessment import Assessment
from mailmoat.scanner.domain.checker import RuleChecker
from mailmoat.scanner.domain.content import ScanContent

CHECKER = RuleChecker()


def judge_text(body: str, subject: str = "Hello") -> Assessment:
    """Judge a plain message: subject and visible body."""
    return CHECKER.judge(ScanContent.from_text(subject, body))


def judge_mail(
    text: str = "",
    html: str = "",
    hidden: tuple[tuple[HiddenKind, str], ...] = (),
    subject: str = "Hello",
) -> Assessment:
    """Judge a message with both bodies and hidden fragments, as ingest stores it."""
    message = StructuredMessage(
        subject=subject,
        text_body=text,
        html_body=html,
        visible_text=text,
        hidden_content=tuple(HiddenFragment(kind=k, text=t, part="1") for k, t in hidden),
    )
    return CHECKER.judge(ScanContent.from_structured(message))


def codes(assessment: Assessment) -> set[str]:
    return {f.code for f in assessment.findings}


def in_tags(text: str) -> str:
    """ASCII written in invisible Unicode tag characters."""
    return "".join(chr(0xE0000 + ord(ch)) for ch in text)
