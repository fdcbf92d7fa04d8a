"""Credits: each charge is a ledger row with what it paid for, and the workspace's balance moves
in the same transaction (one UPDATE, so concurrent charges never lose one another)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.tables import CreditEntry, Workspace
from mailmoat.common.events.base import utcnow


@dataclass(frozen=True)
class Charge:
    """A billable thing and what it costs."""

    reason: str
    credits: int


# The pricing page's numbers. A rejected send costs nothing.
INBOUND = Charge("inbound", 1)
AI_ANALYSIS = Charge("ai_analysis", 2)
OUTBOUND_SENT = Charge("outbound_sent", 3)
REVIEW_EVENT = Charge("review_event", 1)


async def charge(
    session: AsyncSession, workspace_id: uuid.UUID, what: Charge, ref_id: uuid.UUID
) -> CreditEntry:
    """Debit ``what`` from the workspace for the object ``ref_id`` in the caller's transaction."""
    balance = await session.scalar(
        update(Workspace)
        .where(Workspace.id == workspace_id)
        .values(credits_balance=Workspace.credits_balance - what.credits)
        .returning(Workspace.credits_balance)
    )
    if balance is None:
        raise LookupError(f"workspace {workspace_id} not found")
    entry = CreditEntry(
        id=uuid.uuid4(),
        workspace_id=workspace_id,
        amount=-what.credits,
        reason=what.reason,
        ref_id=ref_id,
        balance_after=balance,
        created_at=utcnow(),
    )
    session.add(entry)
    return entry
