"""Reputation counts a complaint or bounce once per send, recipient and kind: a replayed report,
or one the bus delivers again, changes nothing (``on_feedback`` against both databases)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from mailmoat.common.db.tables import CountedFeedback, ReputationBucket, SenderStats
from mailmoat.common.events import FeedbackReceived
from mailmoat.common.settings import CommonSettings
from mailmoat.reputation.handlers import on_feedback
from tests.support.scenario import Scenario


def report(scenario: Scenario, send: uuid.UUID, recipient: str, kind: str) -> FeedbackReceived:
    return FeedbackReceived(
        mail_id=send,
        workspace_id=scenario.workspace_id,
        inbox_id=scenario.inbox_id,
        kind=kind,
        recipient=recipient,
        outbound_id=send,
    )


async def test_each_report_counts_once_however_often_it_arrives(database_url: str) -> None:
    scenario = await Scenario.create(CommonSettings(database_url=database_url))
    send, other = uuid.uuid4(), uuid.uuid4()
    arriving = [
        report(scenario, send, "bob@example.org", "hard_bounce"),
        report(scenario, send, "bob@example.org", "hard_bounce"),  # replayed
        report(scenario, send, "Bob@Example.org", "hard_bounce"),  # spelled otherwise
        report(scenario, send, "bob@example.org", "soft_bounce"),  # another kind
        report(scenario, send, "carol@example.org", "hard_bounce"),  # another recipient
        report(scenario, other, "bob@example.org", "complaint"),  # another send
        report(scenario, other, "bob@example.org", "complaint"),
    ]
    try:
        for event in arriving:
            async with scenario.sessions() as session, session.begin():
                await on_feedback(event, session)
        async with scenario.sessions() as session:
            stats = await session.get(SenderStats, scenario.inbox_id)
            assert stats is not None
            assert (stats.bounce_count, stats.complaint_count) == (3, 1)
            totals = (
                await session.execute(
                    select(
                        func.sum(ReputationBucket.hard_bounces),
                        func.sum(ReputationBucket.soft_bounces),
                        func.sum(ReputationBucket.complaints),
                    ).where(
                        ReputationBucket.scope == "inbox",
                        ReputationBucket.scope_id == scenario.inbox_id,
                    )
                )
            ).one()
            assert tuple(totals) == (2, 1, 1)
            kept = await session.scalar(select(func.count()).select_from(CountedFeedback))
            assert kept == 4
    finally:
        await scenario.close()
