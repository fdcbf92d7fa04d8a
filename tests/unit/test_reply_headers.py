"""A reply names the mail it answers and the thread before it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from mailmoat.dispatch.domain.compose import MAX_REFERENCES, OutboundContent, compose_message

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def content(**changes: object) -> OutboundContent:
    base: dict[str, object] = {
        "outbound_id": uuid.uuid4(),
        "sender": "agent@agents.example",
        "recipients": ("alice@example.org",),
        "subject": "Re: question",
        "text": "Here it is.",
    }
    return OutboundContent(**{**base, **changes})  # type: ignore[arg-type]


def test_a_reply_carries_in_reply_to_and_references() -> None:
    message = compose_message(
        content(in_reply_to="<q1@x>", references=("<q0@x>", "<q1@x>")), now=NOW
    )
    assert message["In-Reply-To"] == "<q1@x>"
    assert message["References"] == "<q0@x> <q1@x>"
    assert message["Auto-Submitted"] == "auto-generated"


def test_a_new_message_has_no_threading_headers() -> None:
    message = compose_message(content(), now=NOW)
    assert message["In-Reply-To"] is None
    assert message["References"] is None


def test_a_long_thread_keeps_its_first_and_newest_references() -> None:
    refs = tuple(f"<m{n}@x>" for n in range(50))
    message = compose_message(content(in_reply_to="<m49@x>", references=refs), now=NOW)
    kept = str(message["References"]).split()
    assert len(kept) == MAX_REFERENCES
    assert kept[0] == "<m0@x>"
    assert kept[-1] == "<m49@x>"
    assert kept[1] == f"<m{50 - MAX_REFERENCES + 1}@x>"
