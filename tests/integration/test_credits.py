"""Credits as a reader meets them: a workspace's plan gives it an allowance per calendar month,
each charge draws the month's balance down and names the message or send it paid for by the id
the API shows it under, and past the allowance mail is still taken and analysed, the excess
counted as overage. One thing is charged once per reason."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import event, select, update

from mailmoat.cli.bootstrap import bootstrap_workspace
from mailmoat.common.credits import AI_ANALYSIS, INBOUND, charge, credit_period, credit_standing
from mailmoat.common.db.session import create_engine, create_session_factory
from mailmoat.common.db.tables import CreditEntry, Inbox, Message, ScanDecision, Workspace
from mailmoat.common.events.base import utcnow
from mailmoat.common.plans import monthly_allowance
from mailmoat.common.settings import CommonSettings
from tests.support.inprocess import running
from tests.support.scenario import Scenario, all_consumer_services
from tests.support.stack import gateway_alone


@dataclass
class Tenant:
    """A bootstrapped workspace (a person's key), its L2 inbox as a scenario, and the API."""

    scenario: Scenario
    api: httpx.AsyncClient


@pytest.fixture
def plan() -> str:
    """The tenant's plan (a test parametrizes it)."""
    return "developer"


@pytest.fixture
async def tenant(settings: CommonSettings, tmp_path: Path, plan: str) -> AsyncIterator[Tenant]:
    made = await bootstrap_workspace(settings.database_url, name="credits", plan=plan)
    engine = create_engine(settings.database_url)
    inbox = Inbox(
        id=uuid.uuid4(),
        workspace_id=made.workspace_id,
        slug="agent",
        address=f"agent@{settings.mail_domain}",
        security_level="L2",
    )
    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        session.add(inbox)
    scenario = Scenario(settings, engine, sessions, made.workspace_id, inbox.id, inbox.address)
    headers = {"authorization": f"Bearer {made.api_key}"}
    async with (
        gateway_alone(settings, tmp_path) as gateway,
        httpx.AsyncClient(base_url=gateway.api, headers=headers, timeout=10) as api,
    ):
        yield Tenant(scenario, api)
    await engine.dispose()


async def credits_page(api: httpx.AsyncClient) -> dict[str, Any]:
    answer = await api.get("/workspace/credits")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


@pytest.mark.parametrize("plan", ["developer"])
async def test_the_month_starts_at_the_allowance_and_charges_name_what_the_api_shows(
    settings: CommonSettings, tenant: Tenant
) -> None:
    scenario, api = tenant.scenario, tenant.api
    plain = Inbox(
        id=uuid.uuid4(),
        workspace_id=scenario.workspace_id,
        slug="plain",
        address=f"plain@{settings.mail_domain}",
        security_level="L1",
    )
    async with scenario.sessions() as session, session.begin():
        session.add(plain)
    fresh = await credits_page(api)
    assert (fresh["plan"], fresh["allowance"], fresh["used"]) == ("developer", 25_000, 0)
    assert (fresh["balance"], fresh["overage"], fresh["over_allowance"]) == (25_000, 0, False)
    assert fresh["period"] == credit_period(utcnow())
    assert fresh["items"] == []

    async with running(*all_consumer_services(settings, scenario)):
        await scenario.deliver_and_wait("analysed")
        scenario.address = plain.address
        await scenario.deliver_and_wait("unanalysed")
    page = await credits_page(api)

    # Every charge names a message the API shows, by the id it shows it under.
    subjects = {}
    for item in page["items"]:
        shown = await api.get(f"/messages/{item['ref_id']}")
        assert shown.status_code == 200, shown.text
        subjects[item["ref_id"]] = shown.json()["subject"]
    charged = sorted((subjects[i["ref_id"]], i["reason"], i["amount"]) for i in page["items"])
    assert charged == [
        ("analysed", "ai_analysis", -2),
        ("analysed", "inbound", -1),
        ("unanalysed", "inbound", -1),  # L1: no AI analysis, no analysis charge
    ]
    assert (page["used"], page["balance"], page["overage"]) == (4, 24_996, 0)
    assert [i["balance_after"] for i in reversed(page["items"])] == [24_999, 24_997, 24_996]
    assert all(i["overage_after"] == 0 for i in page["items"])


@pytest.mark.parametrize("plan", ["free"])
async def test_past_the_allowance_mail_is_taken_and_analysed_and_counted_as_overage(
    settings: CommonSettings, tenant: Tenant
) -> None:
    scenario, api = tenant.scenario, tenant.api
    allowance = monthly_allowance("free")
    async with scenario.sessions() as session, session.begin():
        await session.execute(
            update(Workspace)
            .where(Workspace.id == scenario.workspace_id)
            .values(credits_period=credit_period(utcnow()), credits_used=allowance - 1)
        )
    before = REGISTRY.get_sample_value("mailmoat_credits_overage_total", {"reason": "ai_analysis"})

    async with running(*all_consumer_services(settings, scenario)):
        message = await scenario.deliver_and_wait("over the allowance")
    async with scenario.sessions() as session:
        analysed = await session.get(ScanDecision, message.mail_id)
    assert analysed is not None
    assert analysed.decided_at is not None  # scanned in full, not waved through unscanned
    assert message.status == "delivered"

    page = await credits_page(api)
    assert (page["allowance"], page["used"], page["balance"]) == (allowance, allowance + 2, 0)
    assert (page["overage"], page["over_allowance"]) == (2, True)
    assert [(i["reason"], i["balance_after"], i["overage_after"]) for i in page["items"]] == [
        ("ai_analysis", 0, 2),
        ("inbound", 0, 0),
    ]
    after = REGISTRY.get_sample_value("mailmoat_credits_overage_total", {"reason": "ai_analysis"})
    assert (after or 0) - (before or 0) == 2


async def test_a_new_month_starts_afresh_and_a_thing_is_charged_once_per_reason(
    scenario: Scenario,
) -> None:
    async with scenario.sessions() as session, session.begin():
        await session.execute(
            update(Workspace)
            .where(Workspace.id == scenario.workspace_id)
            .values(credits_period="2000-01", credits_used=999_999)
        )
    async with scenario.sessions() as session:
        workspace = await session.get(Workspace, scenario.workspace_id)
    assert workspace is not None
    allowance = monthly_allowance(workspace.plan)
    assert credit_standing(workspace, utcnow()).balance == allowance  # last month's is gone

    mail_id = uuid.uuid4()
    for _redelivered in range(2):
        async with scenario.sessions() as session, session.begin():
            await charge(session, scenario.workspace_id, INBOUND, mail_id)
            await charge(session, scenario.workspace_id, AI_ANALYSIS, mail_id)
    async with scenario.sessions() as session:
        entries = list(await session.scalars(select(CreditEntry)))
        workspace = await session.get(Workspace, scenario.workspace_id, populate_existing=True)
    assert workspace is not None
    assert sorted((e.reason, e.amount, e.ref_id) for e in entries) == [
        ("ai_analysis", -2, mail_id),
        ("inbound", -1, mail_id),
    ]
    assert (workspace.credits_period, workspace.credits_used) == (credit_period(utcnow()), 3)
    assert credit_standing(workspace, utcnow()).balance == allowance - 3


async def test_a_new_mails_charge_is_the_usage_update_and_its_ledger_row_only(
    scenario: Scenario,
) -> None:
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement.split()[0].upper())

    event.listen(scenario.engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with scenario.sessions() as session, session.begin():
            statements.clear()
            await charge(session, scenario.workspace_id, INBOUND, uuid.uuid4(), new_ref=True)
            await session.flush()
            new = [s for s in statements if s in ("SELECT", "INSERT", "UPDATE")]
            statements.clear()
            await charge(session, scenario.workspace_id, INBOUND, uuid.uuid4())
            await session.flush()
            other = [s for s in statements if s in ("SELECT", "INSERT", "UPDATE")]
    finally:
        event.remove(scenario.engine.sync_engine, "before_cursor_execute", seen)
    assert sorted(new) == ["INSERT", "UPDATE"]
    assert sorted(other) == ["INSERT", "SELECT", "UPDATE"]  # an event's charge looks first


async def test_a_stored_message_keeps_the_id_its_mail_was_queued_under(
    settings: CommonSettings, scenario: Scenario
) -> None:
    """The SMTP reply's "queued as" id, the credit charges' ref and the API's message id are
    one id."""
    async with running(*all_consumer_services(settings, scenario)):
        message = await scenario.deliver_and_wait("one id")
    async with scenario.sessions() as session:
        refs = set(await session.scalars(select(CreditEntry.ref_id)))
        stored = await session.scalar(select(Message).where(Message.subject == "one id"))
    assert stored is not None
    assert stored.id == message.mail_id
    assert refs == {stored.id}
