"""Services sharing one SQLite engine in one process take turns on a gate for their write
transactions: a writer starts the moment the one before it commits (not when SQLite's busy
handler next wakes it), in the order they asked, reads never wait, and a turn that never comes
fails as the database being busy would."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from mailmoat.common.db import session as db_session
from mailmoat.common.db.session import create_engine, create_session_factory, reading
from mailmoat.common.db.tables import Workspace
from tests.support.databases import fresh_database


async def test_writers_take_turns_in_order_and_readers_do_not_wait(tmp_path: Path) -> None:
    async with fresh_database("sqlite", tmp_path, "") as url:
        engine = create_engine(url)
        sessions = create_session_factory(engine)
        order: list[str] = []
        first_in = asyncio.Event()
        release = asyncio.Event()

        async def write(name: str, hold: asyncio.Event | None = None) -> None:
            async with sessions() as session, session.begin():
                order.append(name)
                session.add(Workspace(id=uuid.uuid4(), name=name, plan="developer"))
                await session.flush()
                if hold is not None:
                    first_in.set()
                    await hold.wait()

        try:
            first = asyncio.create_task(write("first", release))
            await first_in.wait()
            waiting = [asyncio.create_task(write(f"w{n}")) for n in range(5)]
            await asyncio.sleep(0.05)
            async with asyncio.timeout(2):  # a reader is not held up by the writer in its turn
                with reading():
                    async with sessions() as session, session.begin():
                        assert await session.get(Workspace, uuid.uuid4()) is None
            assert order == ["first"]  # the others wait on the gate, not in SQLite
            release.set()
            await asyncio.gather(first, *waiting)
            assert order == ["first", "w0", "w1", "w2", "w3", "w4"]
        finally:
            await engine.dispose()


async def test_a_turn_that_never_comes_fails_as_a_busy_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_session, "GATE_TIMEOUT_SECONDS", 0.2)
    async with fresh_database("sqlite", tmp_path, "") as url:
        engine = create_engine(url)
        sessions = create_session_factory(engine)
        try:
            async with sessions() as holder, holder.begin():
                with pytest.raises(OperationalError, match="BEGIN IMMEDIATE"):
                    async with sessions() as waiter, waiter.begin():
                        pass
            async with sessions() as after, after.begin():  # the gate was given back
                pass
        finally:
            await engine.dispose()
