"""Where a send stands, and the only moves it may make.

A send is written by three services (the gateway takes the request and a person's decision,
policy judges it, dispatch sends it), so its status is one state machine kept here, and every
write of ``OutboundMessage.status`` is checked against it (a refused move raises):

    requested ──► approved ──► sending ──► sent
        │  ▲          │           │
        │  │          └──► failed ◄┘        (refused at send time; interrupted mid-relay)
        ▼  │
    pending_approval ──► rejected ◄── requested

A person's approval puts a held send back to ``requested``: policy judges it again by the same
rules before it may be approved. ``sent``, ``failed`` and ``rejected`` are final.
"""

from __future__ import annotations

from enum import StrEnum


class OutboundStatus(StrEnum):
    REQUESTED = "requested"
    """Asked for; policy has not judged it yet (or judges a person's approval again)."""
    PENDING_APPROVAL = "pending_approval"
    """Held for a person, until they decide or its review window ends."""
    APPROVED = "approved"
    """Passed every rule and counted against the caps; dispatch has not claimed it."""
    SENDING = "sending"
    """Claimed by dispatch and committed before the relay is called."""
    SENT = "sent"
    """The relay accepted it."""
    FAILED = "failed"
    """Refused at send time, refused by the relay, or interrupted with an unknown outcome."""
    REJECTED = "rejected"
    """Refused by a rule, by a person, or by the end of its review window."""

    @property
    def final(self) -> bool:
        return not MOVES[self]

    @property
    def shown(self) -> str:
        """The status as the API and the agent see it: everything still on its way to the
        relay is ``queued``."""
        return "queued" if self in ON_ITS_WAY else self.value


MOVES: dict[OutboundStatus, frozenset[OutboundStatus]] = {
    OutboundStatus.REQUESTED: frozenset(
        {OutboundStatus.APPROVED, OutboundStatus.PENDING_APPROVAL, OutboundStatus.REJECTED}
    ),
    OutboundStatus.PENDING_APPROVAL: frozenset({OutboundStatus.REQUESTED, OutboundStatus.REJECTED}),
    OutboundStatus.APPROVED: frozenset({OutboundStatus.SENDING, OutboundStatus.FAILED}),
    OutboundStatus.SENDING: frozenset({OutboundStatus.SENT, OutboundStatus.FAILED}),
    OutboundStatus.SENT: frozenset(),
    OutboundStatus.FAILED: frozenset(),
    OutboundStatus.REJECTED: frozenset(),
}
"""From each status, the statuses it may move to."""

ON_ITS_WAY = frozenset({OutboundStatus.REQUESTED, OutboundStatus.APPROVED, OutboundStatus.SENDING})
COUNTED = frozenset({OutboundStatus.APPROVED, OutboundStatus.SENDING, OutboundStatus.SENT})
"""Sends that passed the rules and may have left or will: a reply's thread counts their
recipients as participants."""


class IllegalTransition(ValueError):
    """A write that would move a send where its state machine does not allow."""


def checked_move(current: str | None, new: str) -> OutboundStatus:
    """``new`` as a status, if a send in ``current`` may move there (``None``: a new send,
    which may start anywhere). Staying put is always allowed."""
    target = OutboundStatus(new)
    if current is None or current == target:
        return target
    if target not in MOVES[OutboundStatus(current)]:
        raise IllegalTransition(f"a send may not move from {current} to {target}")
    return target
