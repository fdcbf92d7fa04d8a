"""Fresh, migrated databases and isolated settings, for fixtures of any scope."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import shutil
import tempfile
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
    the PostgreSQL cluster behind ``admin_url`` and dropped afterwards.

    Migrating takes a fraction of a second, and hundreds of tests each want a database: the
    first of each kind is migrated once per process as a template, and every database after it
    is a copy (a file copy; PostgreSQL's ``CREATE DATABASE ... TEMPLATE``)."""
    if database == "sqlite":
        path = directory / "mailmoat.db"
        await asyncio.to_thread(shutil.copyfile, await _sqlite_template(), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = f"t_{uuid.uuid4().hex[:12]}"
    template = await _postgres_template(admin_url)
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield _database_url(admin_url, name)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()


_templates: dict[str, str] = {}


async def _sqlite_template() -> str:
    if "sqlite" not in _templates:
        directory = Path(tempfile.mkdtemp(prefix="mailmoat-template-"))
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
        path = directory / "template.db"
        await asyncio.to_thread(upgrade, f"sqlite+aiosqlite:///{path}")
        _templates["sqlite"] = str(path)
    return _templates["sqlite"]


async def _postgres_template(admin_url: str) -> str:
    """A database migrated to head on the cluster behind ``admin_url``, copied by every fresh
    one and never connected to after its migration (a template must have no sessions)."""
    if admin_url not in _templates:
        name = f"template_{uuid.uuid4().hex[:12]}"
        admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as connection:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            await admin.dispose()
        await asyncio.to_thread(upgrade, _database_url(admin_url, name))
        _templates[admin_url] = name
    return _templates[admin_url]


def _database_url(admin_url: str, name: str) -> str:
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


async def isolated_settings(database_url: str, kafka_bootstrap: str) -> CommonSettings:
    """Settings with their own topics and consumer groups on a shared broker."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    result = CommonSettings(
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        kafka_idempotence=False,
        topic_prefix=prefix,
        group_prefix=prefix,
        # The embedded broker holds a group's join for half of this: 1.5 s for every service
        # a test starts, where production's 10 s would cost 5.
        kafka_session_timeout_ms=3000,
        kafka_fetch_max_wait_ms=10,
        outbox_poll_seconds=0.05,
        log_json=False,
    )
    await create_topics(result, partitions=2)
    return result
