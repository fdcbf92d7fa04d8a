"""The webhook deliveries that are due, read for the delivery worker a few per workspace."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.tables import WebhookDelivery
from mailmoat.common.observability.metrics import WEBHOOK_BACKLOG
from mailmoat.dispatch.domain.fairness import Due, target_of


async def due_deliveries(session: AsyncSession, now: datetime, per_workspace: int) -> list[Due]:
    """Pending deliveries whose next attempt is due, at most ``per_workspace`` of each
    workspace (its longest waiting first): a backlog of one workspace leaves room for all."""
    owed = WebhookDelivery
    rank = (
        func.row_number()
        .over(partition_by=owed.workspace_id, order_by=(owed.next_attempt_at, owed.id))
        .label("rank")
    )
    ranked = (
        select(owed.id, owed.workspace_id, owed.url, owed.next_attempt_at, rank)
        .where(owed.status == "pending", owed.next_attempt_at <= now)
        .subquery()
    )
    rows = await session.execute(
        select(ranked.c.id, ranked.c.workspace_id, ranked.c.url)
        .where(ranked.c.rank <= per_workspace)
        .order_by(ranked.c.next_attempt_at)
    )
    return [Due(owed_id, workspace, target_of(url)) for owed_id, workspace, url in rows.all()]


async def measure_backlog(session: AsyncSession) -> None:
    """``mailmoat_webhook_backlog_deliveries``: deliveries still owed (due or waiting to retry)."""
    pending = select(func.count()).where(WebhookDelivery.status == "pending")
    WEBHOOK_BACKLOG.labels("dispatch").set(await session.scalar(pending) or 0)
