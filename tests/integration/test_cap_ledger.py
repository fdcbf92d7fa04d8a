"""The cap ledger policy counts with and dispatch checks against: the same rows over the same
window on both databases, recipients counted lower-cased, a reservation live for exactly 24 h."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select

from mailmoat.common.caps import RECIPIENT_DAILY_CAP, WINDOW, CapLedger
from mailmoat.common.db.tables import Inbox, OutboundMessage, SendReservation
from mailmoat.common.events.base import utcnow
from mailmoat.common.outbound_status import OutboundStatus
from tests.support.scenario import Scenario


async def _send(
    scenario: Scenario, recipients: list[str], at: datetime, inbox: uuid.UUID
) -> uuid.UUID:
    """An approved send reserved at ``at``."""
    outbound = OutboundMessage(
        id=uuid.uuid4(),
        workspace_id=scenario.workspace_id,
        inbox_id=inbox,
        recipients=recipients,
        subject="s",
        text="t",
        source="api",
        status=OutboundStatus.APPROVED,
    )
    async with scenario.sessions() as session, session.begin():
        session.add(outbound)
        await session.flush()
        CapLedger(session, scenario.workspace_id).reserve(outbound.id, inbox, recipients, at)
    return outbound.id


async def _other_inbox(scenario: Scenario) -> uuid.UUID:
    inbox = Inbox(
        id=uuid.uuid4(),
        workspace_id=scenario.workspace_id,
        slug="other",
        address=f"other@{scenario.settings.mail_domain}",
        security_level="L2",
    )
    async with scenario.sessions() as session, session.begin():
        session.add(inbox)
    return inbox.id


async def test_counts_by_workspace_inbox_hour_and_recipient(scenario: Scenario) -> None:
    now = utcnow()
    other = await _other_inbox(scenario)
    await _send(
        scenario,
        ["Ann@Example.com", "bob@example.com"],
        now - timedelta(minutes=5),
        scenario.inbox_id,
    )
    await _send(scenario, ["ann@example.com"], now - timedelta(hours=3), scenario.inbox_id)
    await _send(scenario, ["ann@example.com"], now - timedelta(minutes=1), other)
    await _send(scenario, ["ann@example.com"], now - WINDOW, scenario.inbox_id)  # just expired
    async with scenario.sessions() as session, session.begin():
        ledger = CapLedger(session, scenario.workspace_id)
        counts = await ledger.counts(
            scenario.inbox_id, ["ANN@example.com", "carol@example.com"], now
        )
    assert (counts.workspace, counts.inbox, counts.inbox_last_hour) == (4, 3, 2)
    assert counts.by_recipient == {"ann@example.com": 3}


async def test_a_reservation_is_live_for_exactly_the_window(scenario: Scenario) -> None:
    now = utcnow()
    young = await _send(
        scenario, ["ann@example.com"], now - WINDOW + timedelta(seconds=1), scenario.inbox_id
    )
    old = await _send(scenario, ["bob@example.com"], now - WINDOW, scenario.inbox_id)
    async with scenario.sessions() as session, session.begin():
        ledger = CapLedger(session, scenario.workspace_id)
        assert (await ledger.counts(None, [], now)).workspace == 1
        assert await ledger.refusal(young, ["ann@example.com"], now) is None
        refused = await ledger.refusal(old, ["bob@example.com"], now)
    assert refused == "No live cap reservation for bob@example.com"


async def test_a_send_over_the_recipient_cap_is_refused_at_send_time(scenario: Scenario) -> None:
    now = utcnow()
    sends = [
        await _send(scenario, ["ann@example.com"], now - timedelta(minutes=i), scenario.inbox_id)
        for i in range(RECIPIENT_DAILY_CAP + 1)
    ]
    async with scenario.sessions() as session, session.begin():
        ledger = CapLedger(session, scenario.workspace_id)
        refused = await ledger.refusal(sends[0], ["ann@example.com"], now)
        missing = await ledger.refusal(sends[0], ["ann@example.com", "eve@example.com"], now)
        await ledger.settle(sends[0], "refused")
    assert refused == f"Recipient 'ann@example.com' has {RECIPIENT_DAILY_CAP + 1} messages in 24 h"
    assert missing == "No live cap reservation for eve@example.com"
    async with scenario.sessions() as session:
        outcomes = await session.scalars(
            select(SendReservation.outcome).where(SendReservation.outbound_id.in_(sends[:2]))
        )
        assert sorted(map(str, outcomes)) == ["None", "refused"]
