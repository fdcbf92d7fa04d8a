"""The outbound caps and their ledger.

The caps are server constants, never settings; per-inbox limits may only go below them. The
ledger is ``send_reservations``: one row per message to one recipient, written by policy in the
transaction that approves the send (under the workspace's lock), checked again by dispatch at
send time and settled with the outcome. Both read it through ``CapLedger``, so they count the
same rows over the same window.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.tables import SendReservation

WINDOW = timedelta(hours=24)
"""Both caps count over a rolling 24 hours."""
WORKSPACE_DAILY_CAP = 500
"""Messages (one per recipient) a workspace may send per rolling 24 hours."""
RECIPIENT_DAILY_CAP = 5
"""Messages one recipient may receive from a workspace per rolling 24 hours."""
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class CapCounts:
    """Live reservations: the workspace's and one inbox's in the window, the inbox's in the last
    hour, and those of the recipients asked about."""

    workspace: int
    inbox: int
    inbox_last_hour: int
    by_recipient: dict[str, int] = field(default_factory=dict)


class CapLedger:
    """One workspace's reservations. A reservation is live while it is younger than ``WINDOW``;
    recipients are counted lower-cased."""

    def __init__(self, session: AsyncSession, workspace_id: uuid.UUID) -> None:
        self._session = session
        self._workspace_id = workspace_id

    def _live(self, now: datetime) -> ColumnElement[bool]:
        return (SendReservation.workspace_id == self._workspace_id) & (
            SendReservation.reserved_at > now - WINDOW
        )

    async def counts(
        self,
        inbox_id: uuid.UUID | None,
        recipients: Iterable[str],
        now: datetime,
        *,
        as_of: bool = False,
    ) -> CapCounts:
        """What the caps and the inbox's limits are judged on, in two passes over the ledger.
        ``as_of`` leaves out reservations made at ``now`` or later (a replay of a past send)."""
        live = self._live(now)
        if as_of:
            live = live & (SendReservation.reserved_at < now)
        from_inbox = SendReservation.inbox_id == inbox_id
        recent = SendReservation.reserved_at > now - HOUR
        totals = select(
            func.count(),
            func.coalesce(func.sum(case((from_inbox, 1), else_=0)), 0),
            func.coalesce(func.sum(case((from_inbox & recent, 1), else_=0)), 0),
        ).where(live)
        workspace, inbox, last_hour = (await self._session.execute(totals)).one()
        wanted = sorted({r.lower() for r in recipients})
        by_recipient: dict[str, int] = {}
        if wanted:
            rows = await self._session.execute(
                select(SendReservation.recipient, func.count())
                .where(live, SendReservation.recipient.in_(wanted))
                .group_by(SendReservation.recipient)
            )
            by_recipient = {str(r): int(n) for r, n in rows.all()}
        return CapCounts(int(workspace), int(inbox), int(last_hour), by_recipient)

    def reserve(
        self, outbound_id: uuid.UUID, inbox_id: uuid.UUID, recipients: Iterable[str], at: datetime
    ) -> None:
        """Count a send against the caps, in the transaction that approves it."""
        self._session.add_all(
            SendReservation(
                workspace_id=self._workspace_id,
                inbox_id=inbox_id,
                outbound_id=outbound_id,
                recipient=recipient,
                reserved_at=at,
            )
            for recipient in sorted({r.lower() for r in recipients})
        )

    async def refusal(
        self, outbound_id: uuid.UUID, recipients: Iterable[str], now: datetime
    ) -> str | None:
        """Why a send may not leave now, or None: it must hold a live reservation for every
        recipient, and the ledger must be within the caps with those reservations counted."""
        rows = await self._session.scalars(
            select(SendReservation).where(SendReservation.outbound_id == outbound_id)
        )
        reserved = {row.recipient for row in rows if row.reserved_at > now - WINDOW}
        missing = sorted({r.lower() for r in recipients} - reserved)
        if missing:
            return f"No live cap reservation for {', '.join(missing)}"
        counts = await self.counts(None, reserved, now)
        if counts.workspace > WORKSPACE_DAILY_CAP:
            return f"The workspace's ledger holds {counts.workspace} messages in 24 h"
        for recipient, count in sorted(counts.by_recipient.items()):
            if count > RECIPIENT_DAILY_CAP:
                return f"Recipient '{recipient}' has {count} messages in 24 h"
        return None

    async def settle(self, outbound_id: uuid.UUID, outcome: str) -> None:
        """Record what became of a send's reservations; a failed send keeps its slots."""
        await self._session.execute(
            update(SendReservation)
            .where(SendReservation.outbound_id == outbound_id)
            .values(outcome=outcome)
        )
