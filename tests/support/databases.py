"""Fresh, migrated databases and isolated settings, for fixtures of any scope."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from mailmoat.common.bus import create_topics
from mailmoat.common.db.migrate import upgrade
from mailmoat.common.settings import CommonSettings


@contextlib.asynccontextmanager
async def fresh_database(database: str, directory: Path, admin_url: str) -> AsyncIterator[str]:
    """A new database migrated to head: an SQLite file in ``directory``, or a database made on
    the PostgreSQL cluster behind ``admin_url`` and dropped afterwards."""
    if database == "sqlite":
        url = f"sqlite+aiosqlite:///{directory / 'mailmoat.db'}"
        await asyncio.to_thread(upgrade, url)
        yield url
        return
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    await asyncio.to_thread(upgrade, url)
    try:
        yield url
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()


async def isolated_settings(database_url: str, kafka_bootstrap: str) -> CommonSettings:
    """Settings with their own topics and consumer groups on a shared broker."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    result = CommonSettings(
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        kafka_idempotence=False,
        topic_prefix=prefix,
        group_prefix=prefix,
        kafka_session_timeout_ms=6000,
        kafka_fetch_max_wait_ms=10,
        outbox_poll_seconds=0.05,
        log_json=False,
    )
    await create_topics(result, partitions=2)
    return result
