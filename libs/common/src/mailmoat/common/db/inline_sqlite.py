"""SQLite on the event loop's own thread, behind the interface SQLAlchemy's aiosqlite dialect
drives.

aiosqlite runs every call (open a cursor, execute, fetch, close, commit) on a thread of its
own and hands the answer back through the event loop: four or five thread hops for each
statement, each dearer than the statement itself (an indexed lookup or a one-row insert takes
tens of microseconds). This connection makes the same calls directly instead.

What stays asynchronous is the one wait that can be long: another process's write lock. The
connection's busy timeout is 0, so SQLite answers ``SQLITE_BUSY`` at once rather than sleeping
in the loop's thread; the statement is tried again after an ``asyncio.sleep`` on SQLite's own
schedule of pauses, for as long as its busy timeout would have waited. A statement that failed
busy changed nothing, so trying it again is what SQLite's busy handler does too. Like that
handler, it does not wait on ``SQLITE_BUSY_SNAPSHOT`` (a read transaction whose snapshot is
older than the last commit cannot become a writer, however long it waits).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from types import SimpleNamespace
from typing import Any

BUSY_PAUSES_SECONDS = (0.001, 0.002, 0.005, 0.010, 0.015, 0.020, 0.025, 0.025, 0.025, 0.050)
"""SQLite's own busy handler's pauses; after the last, 0.1 s each until the timeout."""
LONGEST_PAUSE_SECONDS = 0.1
SQLITE_BUSY = 5
SQLITE_BUSY_SNAPSHOT = 517


async def connect(database: str, *, busy_timeout: float = 5.0, **kwargs: Any) -> InlineConnection:
    """Open ``database``; ``busy_timeout`` is how long a statement waits for another's lock."""
    kwargs.pop("check_same_thread", None)
    raw = sqlite3.connect(database, timeout=0, check_same_thread=False, **kwargs)
    raw.execute("PRAGMA busy_timeout=0")
    return InlineConnection(raw, busy_timeout)


class InlineConnection:
    """An aiosqlite ``Connection`` look-alike whose calls run where they are awaited."""

    def __init__(self, raw: sqlite3.Connection, busy_timeout: float) -> None:
        self._connection: sqlite3.Connection | None = raw
        self._conn = raw
        self._busy_timeout = busy_timeout
        # SQLAlchemy sets isolation_level through aiosqlite's request queue: (future, call).
        self._tx = SimpleNamespace(put_nowait=_run_into_future)

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self, self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        cursor = self.cursor()
        return await cursor.execute(sql, parameters)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Close at once (SQLAlchemy's terminate); closing again does nothing."""
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def when_not_busy(self, call: Callable[[], Any]) -> Any:
        """``call()``, again after a pause each time it fails because another connection holds
        the lock it needs, until the busy timeout has passed."""
        deadline = time.monotonic() + self._busy_timeout
        pauses = iter(BUSY_PAUSES_SECONDS)
        while True:
            try:
                return call()
            except sqlite3.OperationalError as exc:
                if not _waits_for_lock(exc) or time.monotonic() >= deadline:
                    raise
            pause = next(pauses, LONGEST_PAUSE_SECONDS)
            await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))


class InlineCursor:
    """An aiosqlite ``Cursor`` look-alike over a ``sqlite3.Cursor``."""

    def __init__(self, connection: InlineConnection, cursor: sqlite3.Cursor) -> None:
        self._connection = connection
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        params = () if parameters is None else parameters
        await self._connection.when_not_busy(lambda: self._cursor.execute(sql, params))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> InlineCursor:
        # Not tried again: a batch of writes run outside a transaction could have applied
        # some rows before failing.
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


def _waits_for_lock(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == SQLITE_BUSY and code != SQLITE_BUSY_SNAPSHOT


def _run_into_future(request: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
    future, call = request
    try:
        future.set_result(call())
    except Exception as exc:  # handed to whoever awaits the future
        future.set_exception(exc)
