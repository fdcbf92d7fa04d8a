"""Policy judges a burst of sends a batch at a time: one transaction for many decisions, each
send judged after the ones requested before it (so the caps count them), exactly as one at a
time would."""

from __future__ import annotations

import uuid
from datetime import timedelta

from aiokafka import AIOKafkaProducer
from sqlalchemy import select, update

from mailmoat.common.caps import RECIPIENT_DAILY_CAP
from mailmoat.common.db.tables import AllowlistEntry, Inbox, OutboundMessage
from mailmoat.common.events import SendRequested
from mailmoat.common.events.base import utcnow
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic
from mailmoat.policy.app import build_service as build_policy
from mailmoat.policy.settings import PolicySettings
from tests.support.commits import counted_commits
from tests.support.inprocess import running
from tests.support.scenario import Scenario
from tests.support.waiting import eventually

SENDS = 12


async def _requested(scenario: Scenario, count: int) -> list[uuid.UUID]:
    """``count`` sends to bob@example.org as the API leaves them, from an L3 inbox; bob is on
    the allowlist, past his cooldown."""
    ids = [uuid.uuid4() for _ in range(count)]
    async with scenario.sessions() as db, db.begin():
        await db.execute(
            update(Inbox).where(Inbox.id == scenario.inbox_id).values(security_level="L3")
        )
        db.add(
            AllowlistEntry(
                workspace_id=scenario.workspace_id,
                address="bob@example.org",
                active_from=utcnow() - timedelta(minutes=5),
            )
        )
        for n, outbound_id in enumerate(ids):
            db.add(
                OutboundMessage(
                    id=outbound_id,
                    workspace_id=scenario.workspace_id,
                    inbox_id=scenario.inbox_id,
                    recipients=["bob@example.org"],
                    subject=f"Numbers {n}",
                    text="The numbers are below.\n",
                    source="api",
                    status="requested",
                    created_at=utcnow() + timedelta(milliseconds=n),
                )
            )
    return ids


async def test_a_burst_of_sends_is_judged_in_order_a_batch_at_a_time(
    settings: CommonSettings, scenario: Scenario
) -> None:
    ids = await _requested(scenario, SENDS)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        for outbound_id in ids:
            event = SendRequested(
                mail_id=outbound_id,
                workspace_id=scenario.workspace_id,
                inbox_id=scenario.inbox_id,
                source="api",
            )
            topic = settings.topic(Topic.SEND_REQUESTED.value)
            await producer.send(topic, event.to_bytes(), key=b"one-partition")
        await producer.flush()
    finally:
        await producer.stop()

    async def decisions() -> list[str] | None:
        async with scenario.sessions() as db:
            rows = await db.execute(
                select(OutboundMessage.id, OutboundMessage.status, OutboundMessage.decision_code)
            )
            found = {row_id: (status, code) for row_id, status, code in rows.all()}
        if any(found[i][0] == "requested" for i in ids):
            return None
        return [f"{found[i][0]}:{found[i][1]}" for i in ids]

    with counted_commits("INSERT INTO send_reservations") as commits:
        async with running(build_policy(PolicySettings(**settings.model_dump()))):
            decided = await eventually(decisions, what="policy's decisions")
    allowed = RECIPIENT_DAILY_CAP
    assert decided == ["approved:None"] * allowed + ["rejected:cap_exceeded"] * (SENDS - allowed)
    # The approvals were written in a transaction or two, not one each.
    assert commits[0] <= 2, commits[0]
