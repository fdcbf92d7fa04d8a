"""Async engine and session factory; SQLite gets WAL, foreign keys and write-locking BEGINs.

SQLite lets one transaction write at a time. Between processes its busy handler makes a writer
wait, sleeping in growing steps (up to 100 ms) and trying again, so a waiter often sleeps on
long after the lock is free. Within one process (``mailmoat dev``: every service on one event
loop and one engine) the write transactions are funnelled instead: each waits its turn on the
engine's gate, in order, and starts the moment the one before it commits.
"""

from __future__ import annotations

import asyncio
import os
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    AsyncSessionTransaction,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from mailmoat.common.db import inline_sqlite
from mailmoat.common.observability.logging import current_service
from mailmoat.common.observability.metrics import DB_COMMITS, DB_STATEMENTS

SessionFactory = async_sessionmaker[AsyncSession]
IDLE_PING_SECONDS = 5.0
"""A pooled PostgreSQL connection idle this long is pinged before use (``_pinged_when_idle``)."""
_IDLE_SINCE = "mailmoat.idle_since"
GATE_TIMEOUT_SECONDS = 30.0
"""How long a write transaction waits for its turn on the gate, and a statement for another
process's lock."""

_READ_ONLY: ContextVar[bool] = ContextVar("mailmoat_read_only", default=False)


@contextmanager
def reading() -> Iterator[None]:
    """Transactions begun inside only read. On SQLite they begin DEFERRED, so they neither take
    nor wait for the database's write lock (in WAL mode readers never block writers); a write
    inside one may fail with SQLITE_BUSY. Elsewhere this changes nothing."""
    token = _READ_ONLY.set(True)
    try:
        yield
    finally:
        _READ_ONLY.reset(token)


def is_sqlite(url: str) -> bool:
    """Whether the URL points at SQLite (the embedded mode)."""
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str) -> AsyncEngine:
    """Engine for the URL, configured for several processes sharing one SQLite file."""
    if not is_sqlite(url):
        engine = create_async_engine(url)
        _pinged_when_idle(engine)
    else:
        _ensure_sqlite_dir(url)

        async def opened() -> inline_sqlite.InlineConnection:
            args, kwargs = engine.sync_engine.dialect.create_connect_args(engine.url)
            kwargs.pop("timeout", None)
            return await inline_sqlite.connect(*args, busy_timeout=GATE_TIMEOUT_SECONDS, **kwargs)

        # Room for every session of the services that may share the engine in one process.
        engine = create_async_engine(url, async_creator=opened, pool_size=10, max_overflow=40)
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_on_begin)
    event.listen(engine.sync_engine, "before_cursor_execute", _count_statement)
    event.listen(engine.sync_engine, "commit", _count_commit)
    return engine


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Session factory; objects stay usable after commit (handlers publish what they saved).
    On SQLite, write transactions begun with ``session.begin()`` take turns on the engine's
    gate: sessions sharing the engine never wait in SQLite's busy handler."""
    if not is_sqlite(str(engine.url)):
        return async_sessionmaker(engine, expire_on_commit=False)
    gate = _GATES.setdefault(engine.sync_engine, asyncio.Lock())

    class Funnelled(_FunnelledSession):
        _gate = gate

    return async_sessionmaker(engine, class_=Funnelled, expire_on_commit=False)


_GATES: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()


class _FunnelledSession(AsyncSession):
    _gate: asyncio.Lock

    def begin(self) -> AsyncSessionTransaction:
        if _READ_ONLY.get():
            return super().begin()
        return _TurnTaken(self, self._gate)


class _TurnTaken(AsyncSessionTransaction):
    """A write transaction that begins once its turn on the gate comes and gives the turn on
    as it ends (committed or rolled back)."""

    def __init__(self, session: AsyncSession, gate: asyncio.Lock) -> None:
        super().__init__(session)
        self._gate = gate

    async def __aenter__(self) -> AsyncSessionTransaction:
        try:
            async with asyncio.timeout(GATE_TIMEOUT_SECONDS):
                await self._gate.acquire()
        except TimeoutError as exc:
            raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
        try:
            return await super().__aenter__()
        except BaseException:
            self._gate.release()
            raise

    async def __aexit__(self, *exc_info: Any) -> None:
        try:
            await super().__aexit__(*exc_info)
        finally:
            self._gate.release()


def _pinged_when_idle(engine: AsyncEngine) -> None:
    """A pooled connection idle for ``IDLE_PING_SECONDS`` or more is pinged before it is handed
    out, and replaced if the ping fails (the server restarted, or something on the way closed it
    while it sat idle). One in steady use is not pinged, which saves a round trip on every
    transaction: if it breaks, its statement fails, SQLAlchemy renews the pool, and the caller's
    retry (a consumer redelivers its batch) gets a fresh connection."""
    dialect = engine.sync_engine.dialect

    def idle_from(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def pinged_if_idle(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("the pooled connection failed its ping") from exc

    event.listen(engine.sync_engine, "checkin", idle_from)
    event.listen(engine.sync_engine, "checkout", pinged_if_idle)


def _ensure_sqlite_dir(url: str) -> None:
    """The database file's folder, and the file itself readable by its owner only (SQLite gives
    its -wal and -shm files the database file's permissions)."""
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control from the driver so that "begin" below issues BEGIN IMMEDIATE:
    # a deferred BEGIN that later upgrades to a write fails at once with SQLITE_BUSY when another
    # process writes, whereas IMMEDIATE waits for the busy timeout.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN" if _READ_ONLY.get() else "BEGIN IMMEDIATE")


_KINDS = {"select": "select", "insert": "insert", "update": "update", "delete": "delete"}


def _count_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    """Counts each statement for the service whose task sent it (services can share a process
    and an engine; the task's context names the service)."""
    verb = statement.lstrip()[:6].lower()
    DB_STATEMENTS.labels(current_service() or "none", _KINDS.get(verb, "other")).inc()


def _count_commit(_conn: Any) -> None:
    DB_COMMITS.labels(current_service() or "none").inc()
