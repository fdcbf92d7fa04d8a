"""Flanker's bounce and ARF fixtures through ``parse_feedback``; its other mail is not feedback.

Expectations were written per file after reading each one by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mailmoat.ingest.domain.feedback import FeedbackReport, parse_feedback
from tests.support.external import external, report

HARD, SOFT, COMPLAINT = "hard_bounce", "soft_bounce", "complaint"

EXPECTED: dict[str, dict[str, Any]] = {
    "bounce/broken-mime.eml": {
        # text/plain notice, no DSN part: "Delivery failed 10 attempts: info@example.net".
        "kind": HARD,
        "source": "plain-bounce",
        "recipients": [("info@example.net", HARD, None)],
        "original_message_id": None,
    },
    "bounce/delayed-broken.eml": {
        # A bare message/delivery-status body: Action failed but Status 4.2.2 (transient).
        "kind": SOFT,
        "source": "delivery-status",
        "recipients": [("demo@example.com", SOFT, "4.2.2")],
        "reporting_mta": "a92.example.com",
    },
    "bounce/delayed.eml": {
        # RFC 3464's own example: Action failed with Status 4.0.0 after five days.
        "kind": SOFT,
        "source": "delivery-status",
        "recipients": [("foo@example.com", SOFT, "4.0.0")],
        "reporting_mta": "cs.example.com",
        "original_message_id": None,
    },
    "bounce/gmail-invalid-address.eml": {
        "kind": HARD,
        "source": "plain-bounce",
        "recipients": [("awfawfawfawfawfaw@someserverhere.com", HARD, "5.1.0")],
        "original_message_id": (
            "<CAKsfaBUUGqVZiaMrmH3TRPfq1odQPtM7Ey5YW1SgyJJRHtAjgw@mail.gmail.com>"
        ),
    },
    "bounce/gmail-no-dns.eml": {
        "kind": HARD,
        "source": "plain-bounce",
        "recipients": [("user@example.comm", HARD, None)],
        "original_message_id": None,
    },
    "bounce/mailbox-full.eml": {
        # AOL reports a full mailbox as permanent (5.2.2), so it is hard.
        "kind": HARD,
        "source": "delivery-status",
        "recipients": [("user@aol.com", HARD, "5.2.2")],
        "original_message_id": "<4E326A95.3010907@example.com>",
        "original_mail_from": "bounce+8c8b98.c-user=aol.com@example.com",
        "reporting_mta": "mtain-db01.r1000.mx.aol.com",
    },
    "bounce/no-mx.eml": {
        "kind": SOFT,
        "source": "delivery-status",
        "recipients": [("user@example.com", SOFT, "4.4.4")],
        "original_message_id": "<19E44CA63F984902B7D654F8FF40F89D@bo>",
        "reporting_mta": "example.com",
    },
    "bounce/office365.eml": {
        "kind": HARD,
        "source": "delivery-status",
        "recipients": [("noname@example.com", HARD, "5.1.10")],
        "original_message_id": "<20171013111011.20866.254C2F3A4D7AA526@ninomail.com>",
        "reporting_mta": "DB5PR06MB1800.eurprd06.prod.outlook.com",
    },
    "bounce/zed.eml": {
        "kind": HARD,
        "source": "delivery-status",
        "recipients": [
            ("asdfasdfasdfasdfasdfasdfewrqertrtyrthsfgdfgadfqeadvxzvz@gmail.com", HARD, "5.1.1")
        ],
        "original_message_id": "<20090708054735.GC7578@example.com>",
        "original_mail_from": "foo@example.com",
        "reporting_mta": "mail.example.com",
    },
    "complaints/aol.eml": {
        # Original-Rcpt-To is missing (redacted); the returned message's To stands in.
        "kind": COMPLAINT,
        "source": "feedback-report",
        "feedback_type": "abuse",
        "recipients": [("redacted@aol.com", COMPLAINT, None)],
        "original_message_id": "<20101117174130.28884.55421@luna>",
        "original_mail_from": None,
    },
    "complaints/yahoo.eml": {
        "kind": COMPLAINT,
        "source": "feedback-report",
        "feedback_type": "abuse",
        "recipients": [("user@yahoo.com", COMPLAINT, None)],
        "original_message_id": "<20120711015015.4A8BE2E088E@www.example.com>",
        "original_mail_from": "bounce+705f77.d4a-user=yahoo.com@example.com",
    },
}

# Cases where our answer is knowingly not the expectation above: case -> reason. Empty now;
# kept so that a future exception is documented here and stays exact.
EXCEPTIONS: dict[str, str] = {}


def _actual(result: FeedbackReport | None, keys: list[str]) -> dict[str, Any] | None:
    if result is None:
        return None
    shown: dict[str, Any] = {key: getattr(result, key) for key in keys if key != "recipients"}
    shown["recipients"] = [(r.recipient, r.kind.value, r.status) for r in result.recipients]
    return shown


def _non_feedback(root: Path) -> list[Path]:
    return sorted([*root.glob("*.eml"), *root.glob("spam/*.eml")])


def test_flanker_feedback_samples() -> None:
    root = external("flanker", "messages")
    failures: dict[str, str] = {}
    for name, expected in EXPECTED.items():
        got = _actual(parse_feedback((root / name).read_bytes()), list(expected))
        if got != expected:
            failures[name] = f"expected {expected}, got {got}"
    others = _non_feedback(root)
    for path in others:
        result = parse_feedback(path.read_bytes())
        if result is not None:
            failures[path.name] = f"not feedback, got {result}"
    total = len(EXPECTED) + len(others)
    report("flanker feedback", total - len(failures), total, len(EXCEPTIONS))
    assert len(EXPECTED) == 11
    assert len(others) >= 30
    assert sorted(failures) == sorted(EXCEPTIONS), failures
