"""Reputation subscribers: running counts of what each inbox sent and what came back."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.tables import SenderStats
from mailmoat.common.events import FeedbackReceived, MailSent


async def on_sent(event: MailSent, session: AsyncSession) -> None:
    """Count a relay outcome for the sending inbox."""
    stats = await _stats(session, event.inbox_id, event.workspace_id)
    if event.status == "sent":
        stats.sent_count += 1
    else:
        stats.failed_count += 1
    stats.last_event_at = event.occurred_at


async def on_feedback(event: FeedbackReceived, session: AsyncSession) -> None:
    """Count a complaint or bounce against the sending inbox."""
    stats = await _stats(session, event.inbox_id, event.workspace_id)
    if event.kind == "complaint":
        stats.complaint_count += 1
    else:
        stats.bounce_count += 1
    stats.last_event_at = event.occurred_at


async def _stats(
    session: AsyncSession, inbox_id: uuid.UUID, workspace_id: uuid.UUID
) -> SenderStats:
    stats = await session.get(SenderStats, inbox_id)
    if stats is None:
        stats = SenderStats(
            inbox_id=inbox_id,
            workspace_id=workspace_id,
            sent_count=0,
            failed_count=0,
            complaint_count=0,
            bounce_count=0,
        )
        session.add(stats)
    return stats
