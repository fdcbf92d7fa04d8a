"""Which recipients of a report count: only the send's own, each (address, kind) once."""

from __future__ import annotations

from mailmoat.ingest.domain.feedback import (
    FeedbackKind,
    FeedbackRecipient,
    FeedbackReport,
    FeedbackSource,
)
from mailmoat.ingest.domain.feedback.recipients import recipients_to_count

HARD, SOFT = FeedbackKind.HARD_BOUNCE, FeedbackKind.SOFT_BOUNCE
COMPLAINT, NOTICE = FeedbackKind.COMPLAINT, FeedbackKind.NOTICE


def report(
    *entries: tuple[str, FeedbackKind],
    kind: FeedbackKind = HARD,
    source: FeedbackSource = "delivery-status",
) -> FeedbackReport:
    recipients = tuple(FeedbackRecipient(recipient=r, kind=k) for r, k in entries)
    return FeedbackReport(kind=kind, source=source, recipients=recipients)


def counted(found: tuple[FeedbackRecipient, ...]) -> list[tuple[str, FeedbackKind]]:
    return [(entry.recipient, entry.kind) for entry in found]


def test_only_addresses_the_send_went_to_count() -> None:
    forged = report(("bob@example.org", HARD), *((f"x{n}@example.net", HARD) for n in range(19)))
    assert counted(recipients_to_count(forged, ["bob@example.org"])) == [("bob@example.org", HARD)]
    assert recipients_to_count(forged, ["carol@example.org"]) == ()
    assert recipients_to_count(forged, []) == ()


def test_addresses_are_compared_and_published_case_folded() -> None:
    found = recipients_to_count(report(("  Bob@Example.ORG", HARD)), ["bob@example.org"])
    assert counted(found) == [("bob@example.org", HARD)]


def test_each_address_and_kind_counts_once_per_report() -> None:
    repeated = report(
        ("bob@example.org", HARD),
        ("BOB@example.org", HARD),
        ("bob@example.org", SOFT),
        ("carol@example.org", HARD),
    )
    found = recipients_to_count(repeated, ["bob@example.org", "carol@example.org"])
    assert counted(found) == [
        ("bob@example.org", HARD),
        ("bob@example.org", SOFT),
        ("carol@example.org", HARD),
    ]


def test_notices_never_count() -> None:
    assert recipients_to_count(report(("bob@example.org", NOTICE)), ["bob@example.org"]) == ()


def test_a_redacted_complaint_about_a_send_to_one_address_is_that_address_s() -> None:
    redacted = report(
        ("redacted@feedback.example", COMPLAINT), kind=COMPLAINT, source="feedback-report"
    )
    found = recipients_to_count(redacted, ["Bob@example.org"])
    assert counted(found) == [("bob@example.org", COMPLAINT)]
    # With several recipients nobody can tell who complained: nothing counts.
    assert recipients_to_count(redacted, ["bob@example.org", "carol@example.org"]) == ()
    # A bounce naming a stranger is never moved onto the recipient.
    assert recipients_to_count(report(("x@example.net", HARD)), ["bob@example.org"]) == ()
