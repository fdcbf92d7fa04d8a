"""SQLite runs on the event loop's own thread, yet waiting for another process's write lock never
holds the loop: the wait is asyncio's, it ends the moment a retry finds the lock free, it gives
up at the timeout as SQLite's busy handler would, and a stale reader that tries to write fails
at once rather than waiting for a lock that cannot help it."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from mailmoat.common.db import inline_sqlite
from mailmoat.common.db import session as db_session
from mailmoat.common.db.session import create_engine, create_session_factory, reading
from mailmoat.common.db.tables import Workspace
from tests.support.databases import fresh_database

HOLDER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
connection.execute(
    "INSERT INTO workspaces (id, name, plan, outbound_enabled, sending_status, credits_used,"
    " created_at) VALUES (?, 'other process', 'developer', 1, 'active', 0,"
    " '2026-01-01 00:00:00.000000')",
    (sys.argv[2],),
)
print("held", flush=True)
sys.stdin.readline()
connection.execute("COMMIT")
"""


@asynccontextmanager
async def lock_held_elsewhere(path: str, workspace: uuid.UUID) -> AsyncIterator[asyncio.Event]:
    """Another process holds the database's write lock (with a workspace written) until the
    event yielded is set."""
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        HOLDER,
        path,
        workspace.hex,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert holder.stdin is not None
    assert holder.stdout is not None
    try:
        assert await holder.stdout.readline() == b"held\n"
        release = asyncio.Event()

        async def let_go() -> None:
            await release.wait()
            assert holder.stdin is not None
            holder.stdin.write(b"\n")
            await holder.stdin.drain()

        letting_go = asyncio.create_task(let_go())
        yield release
        release.set()
        await letting_go
        assert await holder.wait() == 0
    finally:
        if holder.returncode is None:
            holder.kill()
            await holder.wait()


def database_path(url: str) -> str:
    database = make_url(url).database
    assert database
    return database


async def test_a_writer_waits_for_another_process_without_holding_the_loop(
    tmp_path: Path,
) -> None:
    async with fresh_database("sqlite", tmp_path, "") as url:
        engine = create_engine(url)
        sessions = create_session_factory(engine)
        theirs, mine = uuid.uuid4(), uuid.uuid4()
        try:
            async with lock_held_elsewhere(database_path(url), theirs) as release:

                async def write() -> None:
                    async with sessions() as session, session.begin():
                        assert await session.get(Workspace, theirs) is not None
                        session.add(Workspace(id=mine, name="mine", plan="developer"))

                writer = asyncio.create_task(write())
                ticks = 0
                started = time.monotonic()
                while time.monotonic() - started < 0.5:
                    await asyncio.sleep(0.01)
                    ticks += 1
                assert not writer.done()  # still waiting for the lock...
                assert ticks >= 20  # ...and the loop ran all along
                release.set()
            async with asyncio.timeout(5):  # it went ahead once the lock was free
                await writer
            async with sessions() as session:
                found = await session.scalars(select(Workspace.name).order_by(Workspace.name))
                assert {"mine", "other process"} <= set(found)
        finally:
            await engine.dispose()


async def test_a_lock_held_past_the_timeout_fails_as_a_busy_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_session, "GATE_TIMEOUT_SECONDS", 0.3)
    async with fresh_database("sqlite", tmp_path, "") as url:
        engine = create_engine(url)
        sessions = create_session_factory(engine)
        try:
            async with lock_held_elsewhere(database_path(url), uuid.uuid4()):
                started = time.monotonic()
                with pytest.raises(OperationalError, match="database is locked"):
                    async with sessions() as session, session.begin():
                        await session.get(Workspace, uuid.uuid4())
                assert 0.3 <= time.monotonic() - started < 3
            async with sessions() as session, session.begin():  # free again, it works
                session.add(Workspace(id=uuid.uuid4(), name="after", plan="developer"))
        finally:
            await engine.dispose()


async def test_a_stale_reader_that_writes_fails_at_once(tmp_path: Path) -> None:
    async with fresh_database("sqlite", tmp_path, "") as url:
        path = database_path(url)
        reader = await inline_sqlite.connect(path, busy_timeout=10, isolation_level=None)
        try:
            await reader.execute("BEGIN")
            await reader.execute("SELECT count(*) FROM workspaces")  # its snapshot starts here
            async with lock_held_elsewhere(path, uuid.uuid4()):
                pass  # another process wrote and committed since
            started = time.monotonic()
            with pytest.raises(sqlite3.OperationalError) as failed:
                await reader.execute("DELETE FROM workspaces")
            assert failed.value.sqlite_errorcode == inline_sqlite.SQLITE_BUSY_SNAPSHOT
            assert time.monotonic() - started < 1  # not the 10 s timeout
            await reader.rollback()
        finally:
            await reader.close()


async def test_sqlite_work_starts_no_thread(tmp_path: Path) -> None:
    async with fresh_database("sqlite", tmp_path, "") as url:
        engine = create_engine(url)
        sessions = create_session_factory(engine)
        # Threads are compared by identity, not counted: a thread an earlier test
        # left behind may end meanwhile, and that is not this test's concern.
        before = set(threading.enumerate())
        try:
            for name in ("a", "b", "c"):
                async with sessions() as session, session.begin():
                    session.add(Workspace(id=uuid.uuid4(), name=name, plan="developer"))
            with reading():
                async with sessions() as session, session.begin():
                    names = set(await session.scalars(select(Workspace.name)))
            assert {"a", "b", "c"} <= names
            assert set(threading.enumerate()) - before == set()
        finally:
            await engine.dispose()
