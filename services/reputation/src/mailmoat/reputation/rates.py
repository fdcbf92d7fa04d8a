"""The highest complaint and bounce rates among senders, for ``/metrics``: how close the worst
sender is to its suspension line, without a series per workspace or inbox."""

from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.tables import ReputationBucket, SenderStanding
from mailmoat.common.events.base import utcnow
from mailmoat.common.observability.metrics import REPUTATION_RATE_MAX
from mailmoat.reputation.domain import (
    MIN_SENT_FOR_BOUNCES,
    MIN_SENT_FOR_COMPLAINTS,
    WINDOWS,
    hour_of,
)


async def measure_rates(session: AsyncSession) -> None:
    """Set ``mailmoat_reputation_rate_max_ratio`` by kind: the highest rate over each judging
    window among senders not suspended, counting only those with enough sends to be judged."""
    now = utcnow()
    worst = {"complaint": 0.0, "bounce": 0.0}
    current = and_(
        ReputationBucket.scope == SenderStanding.scope,
        ReputationBucket.scope_id == SenderStanding.scope_id,
        ReputationBucket.epoch == SenderStanding.epoch,
    )
    for _, span in WINDOWS:
        rows = await session.execute(
            select(
                func.sum(ReputationBucket.sent),
                func.sum(ReputationBucket.complaints),
                func.sum(ReputationBucket.hard_bounces),
            )
            .join(SenderStanding, current)
            .where(
                SenderStanding.status != "suspended",
                ReputationBucket.hour >= hour_of(now - span),
            )
            .group_by(ReputationBucket.scope, ReputationBucket.scope_id)
        )
        for sent, complaints, bounces in rows.all():
            if sent >= MIN_SENT_FOR_COMPLAINTS:
                worst["complaint"] = max(worst["complaint"], complaints / sent)
            if sent >= MIN_SENT_FOR_BOUNCES:
                worst["bounce"] = max(worst["bounce"], bounces / sent)
    for kind, rate in worst.items():
        REPUTATION_RATE_MAX.labels(kind).set(rate)
