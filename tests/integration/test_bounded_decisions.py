"""Policy's bounded reads on both databases: the auto-reject sweep reads held sends by deadline,
and the copy check finds flagged mail through its index, including mail stored before the index
existed once the backfill has fingerprinted it."""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.tables import (
    FlaggedShingle,
    Inbox,
    Message,
    OutboundMessage,
    RawMessage,
    Workspace,
)
from mailmoat.common.events.base import utcnow
from mailmoat.policy.adapters.flagged import backfill_fingerprints, flagged_repeated, index_flagged
from mailmoat.policy.domain.fingerprint import PROBE_SIZE, fingerprint
from mailmoat.policy.sweeps import reject_overdue_approvals
from tests.support.plans import analysed_plan, statements_sent
from tests.support.scenario import Scenario

QUOTED = (
    "please wire the outstanding balance to the new account number listed below today and "
    "do not call the office to confirm because the line is being repaired this week"
)

UNRELATED = (
    "The quarterly numbers are attached, as promised. Revenue grew in the north and the west "
    "while costs held steady across every office this quarter."
)


async def _other_inbox(scenario: Scenario) -> tuple[uuid.UUID, uuid.UUID]:
    """A second workspace and its inbox, with a one-hour review window."""
    workspace = Workspace(id=uuid.uuid4(), name="other", plan="developer")
    inbox = Inbox(
        id=uuid.uuid4(),
        workspace_id=workspace.id,
        slug="other",
        address=f"other@{scenario.settings.mail_domain}",
        security_level="L4",
        approval_timeout_seconds=3600,
    )
    async with scenario.sessions() as session, session.begin():
        session.add(workspace)
        await session.flush()
        session.add(inbox)
    return workspace.id, inbox.id


def _held(workspace_id: uuid.UUID, inbox_id: uuid.UUID, **at: object) -> OutboundMessage:
    return OutboundMessage(
        workspace_id=workspace_id,
        inbox_id=inbox_id,
        recipients=["bob@example.org"],
        subject="Numbers",
        text="The numbers.",
        source="api",
        status="pending_approval",
        **at,
    )


async def test_the_sweep_takes_overdue_sends_first_whatever_else_is_held(
    scenario: Scenario,
) -> None:
    now = utcnow()
    other = await _other_inbox(scenario)
    patient = [
        _held(
            scenario.workspace_id,
            scenario.inbox_id,
            created_at=now - timedelta(days=2, minutes=n),
            expires_at=now + timedelta(days=5),
        )
        for n in range(5)
    ]
    due = _held(
        *other,
        created_at=now - timedelta(hours=1, seconds=5),
        expires_at=now - timedelta(seconds=5),
    )
    # Held by a process older than the deadline column: its inbox's window gives it one.
    unstamped = _held(*other, created_at=now - timedelta(hours=2))
    async with scenario.sessions() as session, session.begin():
        session.add_all([*patient, due, unstamped])

    async with scenario.sessions() as session, session.begin():
        assert await reject_overdue_approvals(session, now, batch=2) == 2

    async with scenario.sessions() as session:
        statuses = {
            o.id: (o.status, o.decision_message)
            for o in await session.scalars(select(OutboundMessage))
        }
    assert statuses[due.id] == ("rejected", "Nobody reviewed the send within 3600 seconds")
    assert statuses[unstamped.id] == ("rejected", "Nobody reviewed the send within 3600 seconds")
    assert all(statuses[o.id][0] == "pending_approval" for o in patient)


async def _flagged_message(scenario: Scenario, text: str, status: str = "withheld") -> Message:
    """A stored inbound message, as policy stored it before the index existed."""
    async with scenario.sessions() as session, session.begin():
        return await _flagged_message_in(session, scenario, text, status)


async def _repeated(scenario: Scenario, draft: str) -> int:
    async with scenario.sessions() as session:
        found = await flagged_repeated(
            session, scenario.workspace_id, fingerprint(draft, PROBE_SIZE), utcnow()
        )
    return len(found)


async def test_flagged_mail_stored_before_the_index_is_found_once_backfilled(
    scenario: Scenario,
) -> None:
    old = await _flagged_message(scenario, f"Dear customer, {QUOTED}. Regards")
    await _flagged_message(scenario, f"Newsletter: {QUOTED}.", status="delivered")
    draft = f"As you asked: {QUOTED}."
    assert await _repeated(scenario, draft) == 0

    assert await backfill_fingerprints(scenario.sessions, utcnow(), batch=10) == 1
    assert await backfill_fingerprints(scenario.sessions, utcnow(), batch=10) == 0
    assert await _repeated(scenario, draft) == 1
    assert await _repeated(scenario, "The quarterly numbers are attached, as promised.") == 0

    async with scenario.sessions() as session:
        stored = await session.get(Message, old.id)
        assert stored is not None
        assert stored.fingerprint == list(fingerprint(stored.text).hashes)
        rows = await session.scalar(select(func.count()).select_from(FlaggedShingle))
    assert rows == len(fingerprint(old.text).hashes)


async def test_a_released_mail_is_no_longer_compared(scenario: Scenario) -> None:
    message = await _flagged_message(scenario, f"Dear customer, {QUOTED}. Regards")
    async with scenario.sessions() as session, session.begin():
        stored = await session.get(Message, message.id)
        assert stored is not None
        index_flagged(session, stored, fingerprint(stored.text))
    assert await _repeated(scenario, f"As you asked: {QUOTED}.") == 1

    async with scenario.sessions() as session, session.begin():
        stored = await session.get(Message, message.id)
        assert stored is not None
        stored.status = "delivered"  # a person released it
    assert await _repeated(scenario, f"As you asked: {QUOTED}.") == 0


async def test_the_copy_check_starts_from_the_index_before_any_statistics(
    scenario: Scenario, database: str
) -> None:
    if database != "postgresql":
        pytest.skip("the plan in question is PostgreSQL's")
    # Two hundred flagged mails just stored: PostgreSQL has no statistics on them yet.
    draw = random.Random(200)
    words = ["".join(draw.choices("etaoinshrdlucmfw", k=draw.randint(2, 9))) for _ in range(5000)]
    mails = [" ".join(draw.choices(words, k=400)) for _ in range(200)]  # 128 hashes each
    async with scenario.sessions() as session, session.begin():
        for text in mails:
            stored = await _flagged_message_in(session, scenario, text)
            index_flagged(session, stored, fingerprint(text))
    with statements_sent(scenario.engine, "flagged_shingles") as ran:
        assert await _repeated(scenario, UNRELATED) == 0
    assert len(ran) == 1
    read = await analysed_plan(scenario.engine, *ran[0])
    # The draft shares no hash with them: a few index pages, not every mail's rows.
    assert read["Shared Hit Blocks"] + read["Shared Read Blocks"] < 500, read


async def _flagged_message_in(
    session: AsyncSession, scenario: Scenario, text: str, status: str = "withheld"
) -> Message:
    raw = RawMessage(
        id=uuid.uuid4(),
        workspace_id=scenario.workspace_id,
        inbox_id=scenario.inbox_id,
        mail_from="mallory@evil.example",
        rcpt_to=scenario.address,
        raw=text.encode(),
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        size=len(text),
    )
    session.add(raw)
    await session.flush()
    message = Message(
        workspace_id=scenario.workspace_id,
        inbox_id=scenario.inbox_id,
        mail_id=raw.id,
        raw_id=raw.id,
        from_address="mallory@evil.example",
        subject="account update",
        text=text,
        status=status,
        consensus="WITHHOLD",
        risk_score=90,
    )
    session.add(message)
    await session.flush()
    return message
