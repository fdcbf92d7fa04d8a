"""Credits: each workspace's plan gives it an allowance per calendar month (UTC), and every
charge draws the month's balance down, in one ledger row naming the message or send it paid for.

A balance is never negative and never stops mail: a charge past the allowance is taken all the
same (mail is neither refused nor left unscanned for want of credits) and counted as overage,
which the ledger row, the credits endpoint and ``mailmoat_credits_overage_total`` show. The
month's usage moves in one UPDATE with the ledger row in the caller's transaction, so concurrent
charges never lose one another, and one thing is charged once for one reason: a redelivered event
finds its ledger row and is not charged again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.tables import CreditEntry, Workspace
from mailmoat.common.events.base import utcnow
from mailmoat.common.observability.metrics import CREDITS_CHARGED, CREDITS_OVERAGE
from mailmoat.common.plans import monthly_allowance


@dataclass(frozen=True)
class Charge:
    """A billable thing and what it costs."""

    reason: str
    credits: int


# The pricing page's numbers. A rejected send, inbound or outbound, costs nothing.
INBOUND = Charge("inbound", 1)
"""A mail accepted over SMTP; ``ref_id`` is the message's id."""
AI_ANALYSIS = Charge("ai_analysis", 2)
"""The detectors' analysis of a mail to an L2+ inbox; ``ref_id`` is the message's id."""
OUTBOUND_SENT = Charge("outbound_sent", 3)
"""A send the relay accepted; ``ref_id`` is the send's id."""
REVIEW_EVENT = Charge("review_event", 1)
"""A person's approval or rejection of a held send; ``ref_id`` is the send's id."""


@dataclass(frozen=True)
class CreditStanding:
    """A workspace's credits in one period: its allowance, what it used, what is left."""

    period: str
    """The calendar month, ``YYYY-MM`` (UTC)."""
    resets_at: datetime
    allowance: int
    used: int

    @property
    def balance(self) -> int:
        """Credits left in the period's allowance (0 once it is used up)."""
        return max(0, self.allowance - self.used)

    @property
    def overage(self) -> int:
        """Credits used beyond the allowance this period."""
        return max(0, self.used - self.allowance)


def credit_period(now: datetime) -> str:
    """The period ``now`` falls in: its calendar month in UTC."""
    now = now.astimezone(UTC)
    return f"{now.year:04d}-{now.month:02d}"


def credit_standing(workspace: Workspace, now: datetime) -> CreditStanding:
    """The workspace's credits in the period of ``now`` (a new period starts unused)."""
    period = credit_period(now)
    used = workspace.credits_used if workspace.credits_period == period else 0
    year, month = int(period[:4]), int(period[5:])
    resets = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return CreditStanding(period, resets, monthly_allowance(workspace.plan), used)


async def charge(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    what: Charge,
    ref_id: uuid.UUID,
    *,
    new_ref: bool = False,
) -> CreditEntry:
    """Charge ``what`` for the message or send ``ref_id`` in the caller's transaction, once:
    a second charge of the same thing for the same reason returns the first's row. ``new_ref``:
    the caller knows nothing can have charged ``ref_id`` for this yet (ingest's new mail, a
    mail's one decision), so the lookup for an earlier charge is left out; a charge that was
    there after all fails on the ledger's unique key rather than counting twice."""
    if not new_ref:
        earlier = await session.scalar(
            select(CreditEntry).where(
                CreditEntry.workspace_id == workspace_id,
                CreditEntry.reason == what.reason,
                CreditEntry.ref_id == ref_id,
            )
        )
        if earlier is not None:
            return earlier
    now = utcnow()
    used, plan = await _draw(session, workspace_id, what.credits, credit_period(now))
    allowance = monthly_allowance(plan)
    overage = max(0, used - allowance)
    entry = CreditEntry(
        id=uuid.uuid4(),
        workspace_id=workspace_id,
        amount=-what.credits,
        reason=what.reason,
        ref_id=ref_id,
        balance_after=max(0, allowance - used),
        overage_after=overage,
        created_at=now,
    )
    session.add(entry)
    CREDITS_CHARGED.labels(what.reason).inc(what.credits)
    if overage > 0:
        CREDITS_OVERAGE.labels(what.reason).inc(min(what.credits, overage))
    return entry


async def _draw(
    session: AsyncSession, workspace_id: uuid.UUID, credits: int, period: str
) -> tuple[int, str]:
    """Add ``credits`` to the period's usage (the first charge of a period starts it afresh);
    the usage after it and the workspace's plan."""
    same_period = Workspace.credits_period == period
    row = (
        await session.execute(
            update(Workspace)
            .where(Workspace.id == workspace_id)
            .values(
                credits_used=case((same_period, Workspace.credits_used), else_=0) + credits,
                credits_period=period,
            )
            .returning(Workspace.credits_used, Workspace.plan)
        )
    ).one_or_none()
    if row is None:
        raise LookupError(f"workspace {workspace_id} not found")
    return int(row[0]), str(row[1])
