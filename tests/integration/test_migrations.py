"""Migrations go down to nothing and back up to head on SQLite and PostgreSQL, and carry the
data they must."""

from __future__ import annotations

import asyncio

from sqlalchemy import inspect, select, update

from mailmoat.common.db.base import Base
from mailmoat.common.db.migrate import downgrade, upgrade
from mailmoat.common.db.session import create_engine
from mailmoat.common.db.tables import OutboundMessage
from mailmoat.common.mail.draft import content_sha256
from tests.support.outbound import approved_sends
from tests.support.scenario import Scenario


async def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    finally:
        await engine.dispose()
    return names - {"alembic_version"}


async def test_downgrade_to_base_and_upgrade_to_head(database_url: str) -> None:
    assert await table_names(database_url) == set(Base.metadata.tables)
    await asyncio.to_thread(downgrade, database_url, "base")
    assert await table_names(database_url) == set()
    await asyncio.to_thread(upgrade, database_url)
    assert await table_names(database_url) == set(Base.metadata.tables)


async def test_sends_approved_before_the_fingerprint_are_given_theirs(scenario: Scenario) -> None:
    """0025: a send already approved when the gateway is upgraded still leaves (dispatch
    needs the fingerprint of its approved draft); one still held gets none."""
    [approved] = await approved_sends(scenario, ["bob@example.org"], text="As agreed.\n")
    [held] = await approved_sends(scenario, ["carol@example.org"])
    url = scenario.settings.database_url
    engine = create_engine(url)
    try:
        async with engine.begin() as db:
            pending = OutboundMessage.id == held
            await db.execute(update(OutboundMessage).where(pending).values(status="requested"))
        await asyncio.to_thread(downgrade, url, "0024")
        await asyncio.to_thread(upgrade, url)
        async with engine.connect() as db:
            query = select(OutboundMessage.id, OutboundMessage.approved_sha256)
            fingerprints = {row.id: row.approved_sha256 for row in await db.execute(query)}
    finally:
        await engine.dispose()
    expected = content_sha256(["bob@example.org"], "Numbers", "As agreed.\n", None)
    assert fingerprints == {approved: expected, held: None}
