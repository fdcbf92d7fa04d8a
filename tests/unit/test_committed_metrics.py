"""``on_commit``: a metric moves when the work it counts commits, never when it rolls back, in
a savepoint or outright; a savepoint released waits for the outermost commit."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from mailmoat.common.observability.committed import on_commit


@pytest.fixture
async def sessions() -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine("sqlite+aiosqlite:///:memory:")
    try:
        yield async_sessionmaker(engine)
    finally:
        await engine.dispose()


class Failed(Exception):
    pass


async def test_a_count_is_made_when_its_transaction_commits(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    counted: list[str] = []
    async with sessions() as session:
        async with session.begin():
            await session.execute(text("SELECT 1"))
            on_commit(session, lambda: counted.append("decided"))
            assert counted == []  # not before the commit
        assert counted == ["decided"]
        async with session.begin():
            await session.execute(text("SELECT 1"))
        assert counted == ["decided"]  # once


async def test_a_rolled_back_transaction_counts_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    counted: list[str] = []

    async def first_try(session: AsyncSession) -> None:
        async with session.begin():
            on_commit(session, lambda: counted.append("first try"))
            raise Failed

    async with sessions() as session:
        with pytest.raises(Failed):
            await first_try(session)
        async with session.begin():  # the same work again, in a new transaction
            on_commit(session, lambda: counted.append("second try"))
    assert counted == ["second try"]


async def test_a_rolled_back_savepoint_drops_its_counts_and_keeps_the_rest(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    counted: list[str] = []

    async def bad_record(session: AsyncSession) -> None:
        async with session.begin_nested():
            on_commit(session, lambda: counted.append("bad record"))
            raise Failed

    async with sessions() as session, session.begin():
        on_commit(session, lambda: counted.append("batch"))
        async with session.begin_nested():
            on_commit(session, lambda: counted.append("good record"))
        assert counted == []  # a released savepoint waits for the outermost commit
        with pytest.raises(Failed):
            await bad_record(session)
        on_commit(session, lambda: counted.append("after"))
    assert counted == ["batch", "good record", "after"]


async def test_a_session_closed_without_committing_counts_nothing_later(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    counted: list[str] = []
    session = sessions()
    await session.execute(text("SELECT 1"))  # a transaction begun by use
    on_commit(session, lambda: counted.append("abandoned"))
    await session.close()
    async with session.begin():  # the same session object, used again
        on_commit(session, lambda: counted.append("committed"))
    await session.close()
    assert counted == ["committed"]


async def test_outside_a_transaction_the_count_is_made_at_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    counted: list[str] = []
    async with sessions() as session:
        on_commit(session, lambda: counted.append("now"))
        assert counted == ["now"]
