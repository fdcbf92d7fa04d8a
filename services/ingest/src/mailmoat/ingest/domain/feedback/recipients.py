"""Which recipients of a report count against the sender: only addresses the send went to,
each kind once, however many blocks a report (or a forger) lists."""

from __future__ import annotations

from collections.abc import Iterable

from mailmoat.ingest.domain.feedback.model import FeedbackKind, FeedbackRecipient, FeedbackReport

COUNTED_KINDS = frozenset(
    {FeedbackKind.COMPLAINT, FeedbackKind.HARD_BOUNCE, FeedbackKind.SOFT_BOUNCE}
)


def recipients_to_count(
    report: FeedbackReport, sent_to: Iterable[str]
) -> tuple[FeedbackRecipient, ...]:
    """The report's complaints and bounces for the send's own recipients, case-folded, each
    (address, kind) once. A complaint naming none of them, about a send to one address, is that
    address's: feedback loops often redact who complained."""
    wanted = {address.strip().lower() for address in sent_to}
    found = _matching(report.recipients, wanted)
    if found or report.kind is not FeedbackKind.COMPLAINT or len(wanted) != 1:
        return found
    return (FeedbackRecipient(recipient=next(iter(wanted)), kind=FeedbackKind.COMPLAINT),)


def _matching(
    entries: Iterable[FeedbackRecipient], wanted: set[str]
) -> tuple[FeedbackRecipient, ...]:
    kept: dict[tuple[str, FeedbackKind], FeedbackRecipient] = {}
    for entry in entries:
        address = entry.recipient.strip().lower()
        if entry.kind in COUNTED_KINDS and address in wanted:
            kept.setdefault((address, entry.kind), entry.model_copy(update={"recipient": address}))
    return tuple(kept.values())
