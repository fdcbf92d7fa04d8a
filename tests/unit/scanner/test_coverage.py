"""The coverage invariant, scanner side: every field an agent may see is read whole by both
detectors, and whatever was not read is a ``coverage.*`` gap that makes the verdict a flag."""

from __future__ import annotations

import pytest

from mailmoat.common.mail.structured import Address, Attachment, StructuredMessage
from mailmoat.ingest.domain.mime import limits as mime_limits
from mailmoat.ingest.domain.mime import parse_message
from mailmoat.scanner.domain import content as content_module
from mailmoat.scanner.domain.assessment import Assessment
from mailmoat.scanner.domain.checker import RuleChecker
from mailmoat.scanner.domain.content import ScanContent, Segment, within_scan_budget
from mailmoat.scanner.domain.coverage import COVERAGE_SCORE, enforce_coverage
from mailmoat.scanner.domain.primary import LearnedDetector
from tests.support.attack_mails import INSTRUCTION, padded

AGENT_FIELDS = {"subject", "from", "visible"}


def _attachment(status: str, path: str = "2") -> Attachment:
    return Attachment(
        path=path,
        filename=f"{INSTRUCTION}.pdf",
        declared_type="application/pdf",
        sniffed_type="application/pdf",
        size=10,
        sha256="0" * 64,
        disposition="attachment",
        text_status=status,  # type: ignore[arg-type]
    )


def _gaps(content: ScanContent) -> list[tuple[str, str]]:
    return [(f.code, f.part) for f in content.unscannable]


def test_every_field_an_agent_may_see_is_a_segment() -> None:
    message = StructuredMessage(
        subject="Lunch",
        from_=(Address(display_name="Ann Example", address="ann@corp.example", domain="x"),),
        headers=(("From", "Ann Example <ann@corp.example>"), ("X-Note", "not shown")),
        visible_text="See you at noon.",
        attachments=(_attachment("extracted"),),
    )
    content = ScanContent.from_structured(message)
    assert {s.part for s in content.segments} >= AGENT_FIELDS | {"attachment-names"}
    sender = content.segment("from")
    assert sender is not None
    assert "Ann Example" in sender.text
    assert "ann@corp.example" in sender.text
    assert "not shown" not in sender.text


def test_a_from_header_that_is_no_address_is_still_read() -> None:
    parsed = parse_message(f"From: {INSTRUCTION}\r\nSubject: hi\r\n\r\nhello\r\n".encode())
    assert parsed.message.from_[0].address == ""  # shown to nobody
    sender = ScanContent.from_structured(parsed.message).segment("from")
    assert sender is not None
    assert INSTRUCTION in sender.text


def test_unreadable_attachment_text_is_a_gap_but_a_type_without_text_is_not() -> None:
    attachments = tuple(
        _attachment(status, str(n))
        for n, status in enumerate(("too_large", "failed", "encrypted", "unsupported"), start=2)
    )
    content = ScanContent.from_structured(StructuredMessage(attachments=attachments))
    assert _gaps(content) == [
        ("coverage.too_large", "attachment:2"),
        ("coverage.failed", "attachment:3"),
    ]
    assert all(INSTRUCTION not in f.reason for f in content.unscannable)


@pytest.mark.parametrize("defect", ["text_truncated", "html_truncated", "nesting_too_deep"])
def test_text_ingest_cut_off_is_a_gap(defect: str) -> None:
    content = ScanContent.from_structured(StructuredMessage(visible_text="hi", defects=(defect,)))
    assert _gaps(content) == [("coverage.truncated", "message")]


def test_the_budget_cuts_and_reports_rather_than_skips() -> None:
    segments = [
        Segment("subject", "s" * 10),
        Segment("visible", "v" * 50),
        Segment("html", "h" * 50),
    ]
    kept, gaps = within_scan_budget(segments, 40)
    assert [(s.part, len(s.text)) for s in kept] == [("subject", 10), ("visible", 30)]
    assert [(g.code, g.part, g.start, g.end) for g in gaps] == [
        ("coverage.budget", "visible", 30, 50),
        ("coverage.budget", "html", 0, 50),
    ]


def test_text_read_once_is_not_charged_twice() -> None:
    same = "x" * 30
    kept, gaps = within_scan_budget([Segment("visible", same), Segment("text", same)], 40)
    assert [s.part for s in kept] == ["visible", "text"]
    assert gaps == []


def test_a_gap_makes_any_detectors_verdict_a_flag() -> None:
    content = ScanContent.unanalysed("hi", "", "hello", "")
    clean = Assessment(score=3, flagged=False, findings=(), coverage=("subject",))
    enforced = enforce_coverage(content, clean)
    assert (enforced.flagged, enforced.score) == (True, COVERAGE_SCORE)
    assert [(f.code, f.part) for f in enforced.findings] == [
        ("coverage.analysis_failed", "message"),
        ("coverage.unread", "visible"),
    ]
    whole = Assessment(score=3, flagged=False, findings=(), coverage=("subject", "visible"))
    assert enforce_coverage(ScanContent(content.segments), whole) == whole


async def test_a_padded_mail_cannot_pass_either_detector() -> None:
    # Three megabytes: a long subject, then ordinary text with one instruction in it.
    content = ScanContent.from_structured(
        parse_message(padded(INSTRUCTION, body_chars=3_000_000)).message
    )
    visible = content.segment("visible")
    assert visible is not None
    where = visible.text.index(INSTRUCTION)
    for detector in (RuleChecker(), LearnedDetector()):
        verdict = enforce_coverage(content, await detector.assess(content))
        assert verdict.flagged, detector.name
        assert set(verdict.coverage) == {s.part for s in content.segments}
    checker = RuleChecker().judge(content)
    located = [f for f in checker.findings if f.part == "visible" and f.start <= where < f.end]
    assert {f.code for f in located} >= {"injection.override"}


def test_every_truncating_defect_is_one_ingest_records() -> None:
    # The scanner cannot import ingest; this keeps the two vocabularies from drifting apart.
    recorded = {value for name, value in vars(mime_limits).items() if name.isupper()}
    assert recorded >= content_module.TRUNCATING_DEFECTS
