"""Pure pieces of the SMTP front door: raw-data checks, sender rules, replies, connection caps."""

from __future__ import annotations

import pytest

from mailmoat.ingest.domain.rawcheck import count_header_fields, has_bare_line_ending
from mailmoat.ingest.domain.senders import SenderRule, SenderVerdict, judge_sender, matches
from mailmoat.ingest.smtp.limits import ConnectionLimiter
from mailmoat.ingest.smtp.replies import with_enhanced_code


@pytest.mark.parametrize(
    ("raw", "bare"),
    [
        (b"Subject: a\r\n\r\nbody\r\n", False),
        (b"Subject: a\r\n\r\nbody\n.\nMAIL FROM:<x>\r\n", True),
        (b"Subject: a\r\n\r\nbody\r.\r\n", True),
        (b"Subject: a\r\n\r\nbo\x00dy\r\n", True),
        (b"Subject: a\r\n\r\n..\r\n", False),
    ],
)
def test_bare_line_endings(raw: bytes, bare: bool) -> None:
    assert has_bare_line_ending(raw) is bare


def test_header_fields_are_counted_with_continuations() -> None:
    raw = b"A: 1\r\nB: 2\r\n  continued\r\nC: 3\r\n\r\nD: not a header\r\n"
    assert count_header_fields(raw, stop_after=100) == 3
    assert count_header_fields(raw, stop_after=2) == 2


def test_domain_rules_cover_subdomains_but_not_lookalikes() -> None:
    assert matches("spam.example", "x@spam.example")
    assert matches("spam.example", "x@mail.spam.example")
    assert not matches("spam.example", "x@notspam.example")
    assert matches("boss@corp.example", "BOSS@corp.example")
    assert not matches("boss@corp.example", "other@corp.example")


def test_block_wins_and_allow_needs_alignment() -> None:
    rules = [SenderRule("partner.example", "allow"), SenderRule("bad@partner.example", "block")]
    ids = ["bad@partner.example"]
    assert judge_sender(rules, ids, aligned_domain="partner.example") is SenderVerdict.BLOCKED
    good = ["ceo@partner.example"]
    assert judge_sender(rules, good, aligned_domain="partner.example") is SenderVerdict.TRUSTED
    assert judge_sender(rules, good, aligned_domain=None) is SenderVerdict.UNKNOWN
    assert judge_sender(rules, good, aligned_domain="other.example") is SenderVerdict.UNKNOWN


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("552 Error: Too much mail data", "552 5.3.4 Error: Too much mail data"),
        ("503 Error: need RCPT command", "503 5.5.1 Error: need RCPT command"),
        ("250 OK", "250 2.0.0 OK"),
        ("550 5.1.1 already coded", "550 5.1.1 already coded"),
        ("250-SIZE 1000", "250-SIZE 1000"),
        ("354 End data with <CR><LF>.<CR><LF>", "354 End data with <CR><LF>.<CR><LF>"),
    ],
)
def test_replies_get_enhanced_codes(reply: str, expected: str) -> None:
    assert with_enhanced_code(reply) == expected


def test_connection_limiter_caps_per_address_and_in_total() -> None:
    limiter = ConnectionLimiter(max_total=3, max_per_ip=2)
    assert limiter.acquire("10.0.0.1")
    assert limiter.acquire("10.0.0.1")
    assert not limiter.acquire("10.0.0.1")
    assert limiter.acquire("10.0.0.2")
    assert not limiter.acquire("10.0.0.3")  # total reached
    limiter.release("10.0.0.1")
    assert limiter.acquire("10.0.0.3")
    assert limiter.open_connections == 3
