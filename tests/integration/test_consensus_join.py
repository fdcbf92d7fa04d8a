"""The consensus engine's join of a mail with its two verdicts, when the intake and the verdicts
are handled in transactions that overlap (two subscribers, batches on PostgreSQL): whichever
commits second still sees the first's half, so the mail is decided now, not at its deadline."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.tables import OutboxRecord, RawMessage, ScanDecision
from mailmoat.common.events import DetectorVerdict, RawMailReceived
from mailmoat.scanner.consensus_handlers import SIDES, ConsensusEngine
from tests.support.scenario import Scenario

Half = Callable[[AsyncSession], Awaitable[None]]


async def _halves(scenario: Scenario, engine: ConsensusEngine) -> tuple[uuid.UUID, Half, Half]:
    """A mail as ingest stored it, and the two halves of its join."""
    mail = uuid.uuid4()
    async with scenario.sessions() as session, session.begin():
        session.add(
            RawMessage(
                id=mail,
                workspace_id=scenario.workspace_id,
                inbox_id=scenario.inbox_id,
                mail_from="a@example.com",
                rcpt_to=scenario.address,
                raw=b"Subject: hi\r\n\r\nhello\r\n",
                sha256="0" * 64,
                size=24,
            )
        )
    ids = {"mail_id": mail, "workspace_id": scenario.workspace_id}
    raw = RawMailReceived(
        **ids,
        inbox_id=scenario.inbox_id,
        raw_ref=mail,
        size=10,
        sha256="0" * 64,
        mail_from="a@example.com",
        rcpt_to=scenario.address,
        security_level="L2",
    )
    verdicts = [
        DetectorVerdict(
            **ids,
            detector=side,
            detector_name="rules",
            detector_version="1",
            score=0,
            flagged=False,
            latency_ms=1.0,
        )
        for side in SIDES
    ]

    async def intake(session: AsyncSession) -> None:
        await engine.on_raw_mail(raw, session)

    async def both_verdicts(session: AsyncSession) -> None:
        for verdict in verdicts:
            await engine.on_scan_verdict(verdict, session)

    return mail, intake, both_verdicts


@pytest.mark.parametrize("first", ["intake", "verdicts"])
async def test_a_mail_is_decided_when_its_intake_and_verdicts_overlap(
    scenario: Scenario, first: str
) -> None:
    engine = ConsensusEngine(deadline_seconds=3600)
    mail, intake, verdicts = await _halves(scenario, engine)
    opened, other = (intake, verdicts) if first == "intake" else (verdicts, intake)

    async def alone(half: Half) -> None:
        async with scenario.sessions() as session, session.begin():
            await half(session)

    async with scenario.sessions() as session, session.begin():
        await opened(session)
        # The other half runs while this transaction is open. Either it waits its turn (done
        # below, after the commit), or it finishes now having seen nothing of this half.
        late = asyncio.create_task(alone(other))
        await asyncio.wait({late}, timeout=3)
    await late

    async with scenario.sessions() as session:
        decision = await session.get(ScanDecision, mail)
        scanned = await session.scalars(
            select(OutboxRecord).where(OutboxRecord.topic == "scanned-mail")
        )
        assert decision is not None
        assert (decision.decided_at is not None, decision.consensus, decision.missing) == (
            True,
            "PASS",
            [],
        )
        assert len(list(scanned)) == 1
