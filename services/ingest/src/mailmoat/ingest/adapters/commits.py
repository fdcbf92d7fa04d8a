"""Group commit: SMTP transactions arriving together share one database transaction and fsync.

A batch first runs every unit in one transaction with no savepoints (two statements fewer per
mail) and writes their rows together at its end. If a unit fails, or writing the rows does,
that attempt is rolled back whole and the batch runs again with each unit in its own savepoint,
so the one that fails is rolled back alone and only its client hears about it; a unit may
therefore run twice, and does nothing but database work, reading nothing it wrote. When the
shared commit fails, every client in the batch gets the error and, having no 250, sends again.
The outbox rows the batch committed are handed to the relay's fast path at once, so no poll has
to read them back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.session import SessionFactory, reading
from mailmoat.common.db.tables import OutboxRecord
from mailmoat.common.outbox import take_staged

log = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[AsyncSession], Awaitable[Any]]
_Pending = tuple[Work, "asyncio.Future[Any]"]
_Outcome = tuple["asyncio.Future[Any]", BaseException | None, Any]


class GroupCommitter:
    """Runs submitted work in batched transactions, at most ``max_batch`` units per commit."""

    def __init__(
        self,
        sessions: SessionFactory,
        *,
        max_batch: int = 64,
        after_commit: Callable[[list[OutboxRecord]], None] = lambda rows: None,
    ) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._after_commit = after_commit
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[GroupCommitter]:
        """Commit batches while the block runs."""
        task = asyncio.create_task(self._loop(), name="ingest-group-commit")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``work`` inside the next batch; returns once that batch is committed."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((work, future))
        return await future

    async def read(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``work``, which only reads, in a transaction of its own outside the batches: it
        neither waits for a batch nor holds SQLite's write lock (a recipient's lookup)."""
        with reading():
            async with self._sessions() as db, db.begin():
                return await work(db)

    async def _loop(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._commit(batch)

    async def _commit(self, batch: list[_Pending]) -> None:
        outcomes: list[_Outcome]
        try:
            try:
                outcomes = await self._together(batch)
            except _UnitFailed as failed:
                if len(batch) == 1:  # rolled back alone already
                    outcomes = [(batch[0][1], failed.__cause__, None)]
                else:
                    outcomes = await self._apart(batch)
        except Exception as failure:
            log.exception("group commit of %d units failed", len(batch))
            outcomes = [(future, failure, None) for _, future in batch]
        for future, error, value in outcomes:
            if future.done():  # the client went away; its work stands or fell with the batch
                continue
            if error is None:
                future.set_result(value)
            else:
                future.set_exception(error)

    async def _together(self, batch: list[_Pending]) -> list[_Outcome]:
        """Every unit in one transaction; ``_UnitFailed`` (all rolled back) if one fails."""
        outcomes: list[_Outcome] = []
        async with self._sessions() as db:
            async with db.begin():
                # The units' rows are written together at the end (one INSERT for many rows)
                # rather than before each unit's next query; a unit reads nothing it wrote.
                with db.no_autoflush:
                    for work, future in batch:
                        try:
                            outcomes.append((future, None, await work(db)))
                        except Exception as error:
                            raise _UnitFailed from error
                try:
                    await db.flush()
                except Exception as error:  # one unit's row, maybe: find it in savepoints
                    raise _UnitFailed from error
            self._hand_over(take_staged(db))
        return outcomes

    async def _apart(self, batch: list[_Pending]) -> list[_Outcome]:
        """Every unit in a savepoint of one transaction: a failing one is rolled back alone."""
        async with self._sessions() as db:
            async with db.begin():
                outcomes = [await _in_savepoint(db, work, future) for work, future in batch]
            # Handed over before the session's close is awaited: the relay's poll, reading
            # the rows just committed, must find them in flight already.
            self._hand_over(take_staged(db))
        return outcomes

    def _hand_over(self, rows: list[OutboxRecord]) -> None:
        """The committed rows to the relay; a failure here fails no unit (they are committed,
        and the relay's poll publishes what it was not handed)."""
        try:
            self._after_commit(rows)
        except Exception:
            log.exception("handing %d committed outbox rows to the relay failed", len(rows))


class _UnitFailed(Exception):
    """A unit failed in a batch run without savepoints: the batch is rolled back whole."""


async def _in_savepoint(db: AsyncSession, work: Work, future: asyncio.Future[Any]) -> _Outcome:
    try:
        async with db.begin_nested():
            return future, None, await work(db)
    except Exception as error:
        return future, error, None
