"""A send's state machine: every allowed move and every refused one, as written on the row."""

from __future__ import annotations

import itertools
import uuid

import pytest

from mailmoat.common.db.tables import OutboundMessage
from mailmoat.common.outbound_status import (
    MOVES,
    IllegalTransition,
    OutboundStatus,
    checked_move,
)

S = OutboundStatus
ALLOWED = {
    (S.REQUESTED, S.APPROVED),
    (S.REQUESTED, S.PENDING_APPROVAL),
    (S.REQUESTED, S.REJECTED),
    (S.PENDING_APPROVAL, S.REQUESTED),
    (S.PENDING_APPROVAL, S.REJECTED),
    (S.APPROVED, S.SENDING),
    (S.APPROVED, S.FAILED),
    (S.SENDING, S.SENT),
    (S.SENDING, S.FAILED),
}
"""Written out by hand, apart from the table it checks."""
PAIRS = [(a, b) for a, b in itertools.product(S, S) if a != b]


def _row(status: OutboundStatus) -> OutboundMessage:
    return OutboundMessage(id=uuid.uuid4(), status=status)


@pytest.mark.parametrize(("current", "new"), sorted(ALLOWED))
def test_every_allowed_move_is_written(current: OutboundStatus, new: OutboundStatus) -> None:
    row = _row(current)
    row.status = new
    assert row.status == new
    row.status = new.value  # the same, written as text
    assert row.status == new


@pytest.mark.parametrize(("current", "new"), [p for p in PAIRS if p not in ALLOWED])
def test_every_other_move_is_refused(current: OutboundStatus, new: OutboundStatus) -> None:
    row = _row(current)
    with pytest.raises(IllegalTransition, match=f"from {current} to {new}"):
        row.status = new
    assert row.status == current


def test_the_table_is_the_hand_written_list() -> None:
    assert {(a, b) for a, targets in MOVES.items() for b in targets} == ALLOWED
    assert set(MOVES) == set(S)


@pytest.mark.parametrize("status", list(S))
def test_staying_put_is_allowed_and_final_states_have_no_way_out(status: OutboundStatus) -> None:
    assert checked_move(status, status) is status
    assert status.final == (status in {S.SENT, S.FAILED, S.REJECTED})


def test_a_new_send_may_start_anywhere_but_not_at_an_unknown_status() -> None:
    assert checked_move(None, "sent") is S.SENT
    with pytest.raises(ValueError, match="not a valid"):
        _row(S.REQUESTED).status = "delivered"


def test_what_the_api_shows() -> None:
    shown = {status: status.shown for status in S}
    assert shown == {
        S.REQUESTED: "queued",
        S.APPROVED: "queued",
        S.SENDING: "queued",
        S.PENDING_APPROVAL: "pending_approval",
        S.SENT: "sent",
        S.FAILED: "failed",
        S.REJECTED: "rejected",
    }
