"""Pooled PostgreSQL connections: one that sat idle is pinged before use and replaced if the
server dropped it; one in steady use is not pinged (a round trip saved on every transaction), so
if it breaks its statement fails once and the pool is renewed for the retry."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from mailmoat.common.db import session as db_session
from mailmoat.common.db.session import SessionFactory, create_engine, create_session_factory

PID = text("SELECT pg_backend_pid()")


async def _cut(database_url: str, pid: int) -> None:
    """Ends the server process behind a connection, as a restart or a proxy's timeout would."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await engine.dispose()


async def _pid(sessions: SessionFactory) -> int:
    async with sessions() as session:
        return int(await session.scalar(PID))


@pytest.fixture
def postgres_only(database: str) -> None:
    if database != "postgresql":
        pytest.skip("SQLite has no server to drop a connection")


@pytest.mark.usefixtures("postgres_only")
async def test_a_connection_dropped_while_idle_is_replaced_before_use(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_session, "IDLE_PING_SECONDS", 0.2)
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    try:
        first = await _pid(sessions)
        await _cut(database_url, first)
        await asyncio.sleep(0.3)  # the pooled connection now counts as idle
        assert await _pid(sessions) != first  # no error: the ping found it dropped
    finally:
        await engine.dispose()


@pytest.mark.usefixtures("postgres_only")
async def test_a_connection_in_steady_use_is_not_pinged_and_a_retry_gets_a_fresh_one(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    try:
        first = await _pid(sessions)
        await _cut(database_url, first)
        with pytest.raises(OperationalError):  # used again at once: not pinged
            await _pid(sessions)
        assert await _pid(sessions) != first  # the retry
    finally:
        await engine.dispose()
