"""Each accepted inbound mail costs 1 credit, its AI analysis 2 more on L2 and up; L1 mail gets
no analysis and no analysis charge. The balance and the ledger move together."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select

from mailmoat.common.db.tables import CreditEntry, Inbox, Workspace
from mailmoat.common.processes import wait_for_port
from mailmoat.common.settings import CommonSettings
from tests.support.inprocess import running
from tests.support.scenario import Scenario, all_consumer_services


async def test_inbound_and_analysis_are_charged_per_mail(
    settings: CommonSettings, scenario: Scenario
) -> None:
    plain = Inbox(
        id=uuid.uuid4(),
        workspace_id=scenario.workspace_id,
        slug="plain",
        address=f"plain@{settings.mail_domain}",
        security_level="L1",
    )
    async with scenario.sessions() as session, session.begin():
        session.add(plain)
    async with running(*all_consumer_services(settings, scenario)):
        await asyncio.to_thread(wait_for_port, "127.0.0.1", scenario.smtp_port)
        analysed = await scenario.deliver_and_wait("analysed")
        scenario.address = plain.address
        unanalysed = await scenario.deliver_and_wait("unanalysed")
    async with scenario.sessions() as session:
        entries = list(await session.scalars(select(CreditEntry)))
        workspace = await session.get(Workspace, scenario.workspace_id)
    assert workspace is not None
    charged = sorted((e.ref_id == analysed.mail_id, e.reason, e.amount) for e in entries)
    assert charged == [
        (False, "inbound", -1),
        (True, "ai_analysis", -2),
        (True, "inbound", -1),
    ]
    assert {e.ref_id for e in entries} == {analysed.mail_id, unanalysed.mail_id}
    assert workspace.credits_balance == -4
    assert min(e.balance_after for e in entries) == -4
