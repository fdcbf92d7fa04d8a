"""Reputation over the broker: ``sent`` and ``feedback`` events counted per sender and judged;
a complaint rate above 0.3% suspends once the volume is there, a lower one warns, a handful of
sends never acts; the verdict reaches policy on ``sender-status`` and the audit log."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from mailmoat.common.db.session import reading
from mailmoat.common.db.tables import (
    AuditEntry,
    Inbox,
    ReputationBucket,
    SenderStanding,
    SenderStats,
)
from mailmoat.common.events import Event, MailSent, SenderStatusChanged
from mailmoat.common.events.base import utcnow
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic
from mailmoat.policy.app import build_service as build_policy
from mailmoat.policy.settings import PolicySettings
from mailmoat.reputation.app import build_service as build_reputation
from mailmoat.reputation.handlers import count_sends
from tests.support.feedback_events import complaints as complaint_events
from tests.support.feedback_events import delivered, publish_all
from tests.support.inprocess import running
from tests.support.scenario import Scenario
from tests.support.waiting import eventually


def sends(scenario: Scenario, count: int) -> list[Event]:
    """``count`` delivered messages spread over the last 20 hours."""
    step = timedelta(hours=20) / max(count, 1)
    return delivered(
        scenario.workspace_id,
        scenario.inbox_id,
        count,
        start=utcnow() - timedelta(hours=20),
        step=step,
    )


def complaints(scenario: Scenario, count: int) -> list[Event]:
    return complaint_events(scenario.workspace_id, scenario.inbox_id, count)


async def stats(scenario: Scenario) -> SenderStats | None:
    # Reads, so never queued behind reputation's write transactions for SQLite's write lock.
    with reading():
        async with scenario.sessions() as db:
            return await db.get(SenderStats, scenario.inbox_id)


async def test_complaint_rates_suspend_past_the_threshold_and_the_minimum_volume(
    settings: CommonSettings,
) -> None:
    # One sender of 1,000 mails is warned at 2 complaints (0.2%), then suspended at 4 (0.4%);
    # another with three mails and one complaint (33%) stays active: three prove nothing.
    heavy = await Scenario.create(settings, slug="heavy")
    tiny = await Scenario.create(settings, slug="tiny")

    async def judged(scenario: Scenario, complained: int, want: str) -> bool:
        found = await stats(scenario)
        with reading():
            async with scenario.sessions() as db:
                inbox = await db.get(Inbox, scenario.inbox_id)
        return (
            found is not None
            and found.complaint_count == complained
            and inbox is not None
            and inbox.sending_status == want
        )

    try:
        async with running(
            build_reputation(settings), build_policy(PolicySettings(**settings.model_dump()))
        ):
            for scenario, sent in ((heavy, 1000), (tiny, 3)):
                await publish_all(settings, Topic.SENT, sends(scenario, sent))
            for scenario, sent in ((heavy, 1000), (tiny, 3)):

                async def counted(scenario: Scenario = scenario, n: int = sent) -> bool:
                    found = await stats(scenario)
                    return found is not None and found.sent_count == n

                await eventually(counted, what=f"{sent} sends counted", timeout=120)
            # Complaints come after the mail they are about.
            await publish_all(settings, Topic.FEEDBACK, complaints(heavy, 2))
            await publish_all(settings, Topic.FEEDBACK, complaints(tiny, 1))
            await eventually(lambda: judged(heavy, 2, "warned"), what="warned at 0.2%")
            await eventually(lambda: judged(tiny, 1, "active"), what="tiny left active")
            await publish_all(settings, Topic.FEEDBACK, complaints(heavy, 2))
            await eventually(lambda: judged(heavy, 4, "suspended"), what="suspended at 0.4%")

        async with heavy.sessions() as db:
            standing = await db.get(SenderStanding, ("inbox", heavy.inbox_id))
            audit = list(
                await db.scalars(select(AuditEntry).where(AuditEntry.action.like("sender.%")))
            )
        assert standing is not None
        assert standing.reason == (
            "complaint rate above 0.30%: 4 complaints in 1000 messages over 24 h (0.40%)"
        )
        by_workspace = {(a.workspace_id, a.action) for a in audit}
        assert (heavy.workspace_id, "sender.warned") in by_workspace
        assert (heavy.workspace_id, "sender.suspended") in by_workspace
        assert not any(a.workspace_id == tiny.workspace_id for a in audit)
        assert all(a.actor == "system:reputation" for a in audit)
    finally:
        await heavy.close()
        await tiny.close()


async def standing_of(scenario: Scenario) -> SenderStanding | None:
    with reading():
        async with scenario.sessions() as db:
            return await db.get(SenderStanding, ("inbox", scenario.inbox_id))


async def test_a_reinstatement_counts_afresh_and_a_burst_throttles(
    settings: CommonSettings,
) -> None:
    noisy = await Scenario.create(settings, slug="noisy")
    bursty = await Scenario.create(settings, slug="bursty")
    try:
        async with running(
            build_reputation(settings), build_policy(PolicySettings(**settings.model_dump()))
        ):
            await publish_all(settings, Topic.SENT, sends(noisy, 300))

            async def counted(n: int) -> bool:
                found = await stats(noisy)
                return found is not None and found.sent_count == n

            await eventually(lambda: counted(300), what="the sends counted", timeout=120)
            await publish_all(settings, Topic.FEEDBACK, complaints(noisy, 2))

            async def status_is(scenario: Scenario, status: str) -> SenderStanding | None:
                found = await standing_of(scenario)
                return found if found is not None and found.status == status else None

            await eventually(lambda: status_is(noisy, "suspended"), what="the suspension")

            # A person reinstates it (the gateway announces that on sender-status).
            reinstated = SenderStatusChanged(
                mail_id=noisy.inbox_id,
                workspace_id=noisy.workspace_id,
                inbox_id=noisy.inbox_id,
                status="active",
                reason="reinstated by api_key:mm_test",
                actor="api_key:mm_test",
            )
            await publish_all(settings, Topic.SENDER_STATUS, [reinstated])
            fresh = await eventually(lambda: status_is(noisy, "active"), what="reinstatement")
            assert fresh.epoch == 1
            # The old 300 sends and 2 complaints are not counted again: one more complaint
            # with a new send stays under the minimum volume.
            await publish_all(settings, Topic.SENT, sends(noisy, 1))
            await eventually(lambda: counted(301), what="the new send counted")
            await publish_all(settings, Topic.FEEDBACK, complaints(noisy, 1))

            async def complained_thrice() -> bool:
                found = await stats(noisy)
                return found is not None and found.complaint_count == 3

            await eventually(complained_thrice, what="the new complaint counted")
            after = await standing_of(noisy)
            assert after is not None
            assert (after.status, after.epoch) == ("active", 1)

            # 61 messages within one minute from a sender with no history: a burst.
            now = utcnow()
            burst = delivered(
                bursty.workspace_id,
                bursty.inbox_id,
                61,
                start=now.replace(second=0, microsecond=0),
                step=timedelta(milliseconds=1),
                prefix="b",
            )
            await publish_all(settings, Topic.SENT, burst)

            async def throttled() -> Inbox | None:
                with reading():
                    async with bursty.sessions() as db:
                        inbox = await db.get(Inbox, bursty.inbox_id)
                return inbox if inbox is not None and inbox.sending_status == "throttled" else None

            inbox = await eventually(throttled, what="the throttle reaching policy")
            assert inbox.sending_status_until is not None
            assert timedelta(minutes=14) < inbox.sending_status_until - now < timedelta(minutes=16)
            held = await standing_of(bursty)
            assert held is not None
            assert held.reason is not None
            assert held.reason.startswith("burst: ")
    finally:
        await noisy.close()
        await bursty.close()


async def test_a_minutes_burst_is_judged_before_the_next_minutes_sends_in_one_batch(
    settings: CommonSettings,
) -> None:
    # A batch of sends is counted together and judged once at its end; a minute's burst must not
    # be lost because the same batch went on to count the next minute's sends.
    scenario = await Scenario.create(settings, slug="rolling")
    minute = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=2)
    burst = delivered(
        scenario.workspace_id,
        scenario.inbox_id,
        61,
        start=minute,
        step=timedelta(milliseconds=1),
    )
    later = delivered(
        scenario.workspace_id,
        scenario.inbox_id,
        1,
        start=minute + timedelta(minutes=1),
        step=timedelta(0),
        prefix="later",
    )
    try:
        sends = [event for event in burst + later if isinstance(event, MailSent)]
        refused = sends[-1].model_copy(update={"status": "failed", "event_id": uuid.uuid4()})
        async with scenario.sessions() as session, session.begin():
            await count_sends([*sends, refused], session)
        standing = await standing_of(scenario)
        assert standing is not None
        assert (standing.status, standing.minute_sent) == ("throttled", 1)
        found = await stats(scenario)
        assert found is not None
        assert (found.sent_count, found.failed_count) == (62, 1)
        with reading():
            async with scenario.sessions() as db:
                buckets = (
                    await db.execute(
                        select(
                            func.sum(ReputationBucket.sent),
                            func.sum(ReputationBucket.failed),
                            func.sum(ReputationBucket.first_contacts),
                        ).where(ReputationBucket.scope_id == scenario.inbox_id)
                    )
                ).one()
        assert tuple(buckets) == (62, 1, 62)
        assert standing.reason is not None
        assert standing.reason.startswith("burst: 61 messages in one minute")
    finally:
        await scenario.close()
