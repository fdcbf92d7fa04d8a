"""Migrations go down to nothing and back up to head on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import inspect

from mailmoat.common.db.base import Base
from mailmoat.common.db.migrate import downgrade, upgrade
from mailmoat.common.db.session import create_engine


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
