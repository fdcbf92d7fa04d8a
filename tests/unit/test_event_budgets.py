"""Event size budgets: a mail's text can make no event larger than its topic's budget."""

from __future__ import annotations

import uuid

import pytest
from prometheus_client import REGISTRY

from mailmoat.common.events import DetectorVerdict, Finding, InboxEvent, RawMailReceived
from mailmoat.common.events.budget import EventTooLargeError, within_budget
from mailmoat.common.events.inbound import MAX_FINDINGS, MAX_PART_CHARS, MAX_REASON_CHARS, capped
from mailmoat.common.topics import EVENT_BUDGET_BYTES, Topic

IDS = {"mail_id": uuid.uuid4(), "workspace_id": uuid.uuid4()}


def _finding(n: int, name: str = "x" * 5000) -> Finding:
    return Finding(code="attachment.double_extension", reason=f"{name} hides", part=f"2/{n} {name}")


def _raw_mail(findings: int) -> RawMailReceived:
    return RawMailReceived(
        **IDS,
        inbox_id=uuid.uuid4(),
        raw_ref=uuid.uuid4(),
        sha256="0" * 64,
        size=1,
        mail_from="a@b.example",
        rcpt_to="agent@x.example",
        security_level="L2",
        l1_findings=tuple(_finding(n) for n in range(findings)),
        quarantine_reason="attachment.double_extension",
    )


def _trimmed(topic: Topic) -> float:
    value = REGISTRY.get_sample_value("mailmoat_events_trimmed_total", {"topic": topic.value})
    return value or 0.0


def test_a_findings_strings_are_cut_to_their_bounds() -> None:
    finding = _finding(1)
    assert len(finding.reason) == MAX_REASON_CHARS
    assert len(finding.part) == MAX_PART_CHARS


def test_findings_past_the_cap_are_counted_not_carried() -> None:
    kept, dropped = capped(tuple(_finding(n) for n in range(MAX_FINDINGS + 7)))
    assert (len(kept), dropped) == (MAX_FINDINGS, 7)


def test_a_small_event_is_staged_as_it_is() -> None:
    event = _raw_mail(3)
    assert within_budget(Topic.RAW_MAIL, event)[0] is event


def test_an_event_past_its_budget_goes_slimmed_and_counted() -> None:
    event = _raw_mail(4000)  # the findings of two zips of long member names
    assert len(event.to_bytes()) > 1024 * 1024
    before = _trimmed(Topic.RAW_MAIL)
    slim, payload = within_budget(Topic.RAW_MAIL, event)
    assert len(payload) <= EVENT_BUDGET_BYTES
    assert isinstance(slim, RawMailReceived)
    assert (slim.l1_findings, slim.l1_findings_dropped) == ((), 4000)
    assert (slim.event_id, slim.quarantine_reason) == (event.event_id, event.quarantine_reason)
    assert _trimmed(Topic.RAW_MAIL) == before + 1


def _verdict(findings: int, coverage: int = 0) -> DetectorVerdict:
    return DetectorVerdict(
        **IDS,
        detector="checker",
        detector_name="rules",
        detector_version="1",
        score=10,
        flagged=False,
        findings=tuple(_finding(n) for n in range(findings)),
        findings_dropped=50,
        latency_ms=1.0,
        coverage=tuple(f"attachment:{n}.{n}.{n}" for n in range(coverage)),
    )


def test_the_largest_verdict_a_detector_stages_fits_its_budget() -> None:
    verdict = _verdict(MAX_FINDINGS, coverage=1000)  # every string at its bound
    assert within_budget(Topic.SCAN_VERDICTS, verdict)[0] is verdict


def test_a_slimmed_verdict_is_a_flag_that_says_what_it_dropped() -> None:
    slim, _ = within_budget(Topic.SCAN_VERDICTS, _verdict(4 * MAX_FINDINGS))
    assert isinstance(slim, DetectorVerdict)
    assert (slim.flagged, slim.score, slim.findings) == (True, 100, ())
    assert slim.findings_dropped == 4 * MAX_FINDINGS + 50


def test_an_event_with_nothing_to_drop_must_be_small_by_construction() -> None:
    event = InboxEvent(
        **IDS,
        inbox_id=uuid.uuid4(),
        kind="message.received",
        message_id=uuid.uuid4(),
        reason="r" * (EVENT_BUDGET_BYTES + 1),
    )
    with pytest.raises(EventTooLargeError):
        within_budget(Topic.INBOX_EVENTS, event)
