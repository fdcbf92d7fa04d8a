"""What makes a complaint or bounce the same one again, for reputation's count-once rule."""

from __future__ import annotations

import uuid

from mailmoat.reputation.domain import feedback_identity

SEND = uuid.uuid4()


def test_the_same_send_address_and_kind_is_the_same_report() -> None:
    first = feedback_identity(SEND, "Bob@Example.org", "hard_bounce")
    assert first == feedback_identity(SEND, " bob@example.org ", "hard_bounce")
    assert first == (SEND, "bob@example.org", "hard_bounce")


def test_another_send_address_or_kind_is_another_report() -> None:
    first = feedback_identity(SEND, "bob@example.org", "hard_bounce")
    assert first != feedback_identity(uuid.uuid4(), "bob@example.org", "hard_bounce")
    assert first != feedback_identity(SEND, "carol@example.org", "hard_bounce")
    assert first != feedback_identity(SEND, "bob@example.org", "soft_bounce")
