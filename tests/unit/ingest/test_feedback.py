"""``parse_feedback`` edge cases: mixed DSNs, success notices, other report types, junk."""

from __future__ import annotations

import pytest

from mailmoat.ingest.domain.feedback import FeedbackKind, parse_feedback


def _report(report_type: str, body_type: str, body: str, original: str = "") -> bytes:
    text = (
        "From: MAILER-DAEMON@mx.example.net\r\nTo: agent@mailmoat.example\r\n"
        "Subject: report\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type={report_type}; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nHuman readable part.\r\n"
        f"--b\r\nContent-Type: {body_type}\r\n\r\n{body}\r\n"
    )
    if original:
        text += f"--b\r\nContent-Type: text/rfc822-headers\r\n\r\n{original}\r\n"
    return (text + "--b--\r\n").encode()


MIXED_DSN = (
    "Reporting-MTA: dns; mx.example.net\r\n\r\n"
    "Final-Recipient: rfc822; gone@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
    "Final-Recipient: rfc822; busy@example.org\r\nAction: delayed\r\nStatus: 4.2.0\r\n\r\n"
    "Final-Recipient: rfc822; fine@example.org\r\nAction: delivered\r\nStatus: 2.0.0\r\n"
)


def test_dsn_lists_each_failed_recipient_and_skips_delivered_ones() -> None:
    original = "Message-ID: <m1@mailmoat.example>\r\nReturn-Path: <agent@mailmoat.example>\r\n"
    result = parse_feedback(
        _report("delivery-status", "message/delivery-status", MIXED_DSN, original)
    )
    assert result is not None
    assert result.kind is FeedbackKind.HARD_BOUNCE
    assert [(r.recipient, r.kind, r.status, r.action) for r in result.recipients] == [
        ("gone@example.org", FeedbackKind.HARD_BOUNCE, "5.1.1", "failed"),
        ("busy@example.org", FeedbackKind.SOFT_BOUNCE, "4.2.0", "delayed"),
    ]
    assert result.original_message_id == "<m1@mailmoat.example>"
    assert result.original_mail_from == "agent@mailmoat.example"
    assert result.reporting_mta == "mx.example.net"


def test_success_only_dsn_is_a_notice() -> None:
    body = (
        "Reporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; a@b.example\r\nAction: relayed\r\n"
    )
    result = parse_feedback(_report("delivery-status", "message/delivery-status", body))
    assert result is not None
    assert (result.kind, result.recipients) == (FeedbackKind.NOTICE, ())


def test_failed_without_status_reads_the_smtp_code() -> None:
    body = (
        "Reporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; a@b.example\r\n"
        "Action: failed\r\nDiagnostic-Code: smtp; 452 mailbox full, try later\r\n"
    )
    result = parse_feedback(_report("delivery-status", "message/delivery-status", body))
    assert result is not None
    assert [r.kind for r in result.recipients] == [FeedbackKind.SOFT_BOUNCE]


def test_arf_not_spam_is_a_notice_not_a_complaint() -> None:
    body = (
        "Feedback-Type: not-spam\r\nUser-Agent: x/1\r\nVersion: 1\r\n"
        "Original-Rcpt-To: <u@isp.example>\r\n"
    )
    result = parse_feedback(_report("feedback-report", "message/feedback-report", body))
    assert result is not None
    assert (result.kind, result.feedback_type) == (FeedbackKind.NOTICE, "not-spam")
    assert [r.recipient for r in result.recipients] == ["u@isp.example"]


def test_read_receipt_is_not_feedback() -> None:
    body = (
        "Reporting-UA: mua.example\r\nFinal-Recipient: rfc822; a@b.example\r\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\r\n"
    )
    raw = _report("disposition-notification", "message/disposition-notification", body)
    assert parse_feedback(raw) is None


def test_ordinary_mail_from_postmaster_is_not_a_bounce() -> None:
    raw = b"From: postmaster@example.org\r\nSubject: Welcome aboard\r\n\r\nHi bob@example.org\r\n"
    assert parse_feedback(raw) is None


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage",
        b"Content-Type: multipart/report; boundary=\r\n\r\n--",
        b"\r\n" * 5000,
    ],
)
def test_junk_is_none_and_never_raises(raw: bytes) -> None:
    assert parse_feedback(raw) is None
