"""Group commit: concurrent units share transactions, with no savepoints unless one fails; a
failing unit is rolled back alone."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.session import create_engine, create_session_factory
from mailmoat.common.db.tables import Inbox, OutboxRecord, Workspace
from mailmoat.common.events import SenderStatusChanged
from mailmoat.common.outbox import stage_event
from mailmoat.common.topics import Topic
from mailmoat.ingest.adapters.commits import GroupCommitter, Work


async def committed(database_url: str, units: list[Work]) -> tuple[list[object], list[str]]:
    """``units`` run together through a group committer: what each returned or raised, and the
    names of the workspaces committed."""
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    try:
        async with GroupCommitter(sessions).running() as commits:
            results = await asyncio.gather(
                *(commits.run(unit) for unit in units), return_exceptions=True
            )
        async with sessions() as db:
            names = list(await db.scalars(select(Workspace.name)))
    finally:
        await engine.dispose()
    return results, names


async def test_units_share_commits_and_fail_alone(database_url: str) -> None:
    seen: list[int] = []

    def unit(n: int):  # type: ignore[no-untyped-def]
        async def work(db: AsyncSession) -> int:
            seen.append(id(db))
            db.add(Workspace(id=uuid.uuid4(), name=f"w{n}", plan="free"))
            await db.flush()
            if n == 3:
                raise ValueError("unit 3 fails after writing")
            return n

        return work

    results, names = await committed(database_url, [unit(n) for n in range(10)])
    assert isinstance(results[3], ValueError)
    assert [r for i, r in enumerate(results) if i != 3] == [0, 1, 2, 4, 5, 6, 7, 8, 9]
    assert len(names) == 9
    assert "w3" not in names
    assert len(set(seen)) < 10  # several units ran in one transaction


async def test_the_rows_a_batch_committed_are_handed_to_the_relay(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    handed: list[list[OutboxRecord]] = []
    staged: dict[int, uuid.UUID] = {}

    def unit(n: int):  # type: ignore[no-untyped-def]
        async def work(db: AsyncSession) -> None:
            event = SenderStatusChanged(
                mail_id=uuid.uuid4(),
                workspace_id=uuid.uuid4(),
                inbox_id=uuid.uuid4(),
                status="warned",
                reason=f"unit {n}",
            )
            stage_event(db, Topic.SENDER_STATUS, event, producer="ingest")
            staged[n] = event.event_id
            await db.flush()
            if n == 3:
                raise ValueError("unit 3 fails after staging")

        return work

    try:
        async with GroupCommitter(sessions, after_commit=handed.append).running() as commits:
            await asyncio.gather(*(commits.run(unit(n)) for n in range(10)), return_exceptions=True)
        async with sessions() as db:
            committed = set(await db.scalars(select(OutboxRecord.event_id)))
    finally:
        await engine.dispose()
    rows = [row.event_id for batch in handed for row in batch]
    # Every committed row handed over once, in fewer handovers than units; the failed unit's
    # row neither committed nor handed.
    assert sorted(rows) == sorted(committed) == sorted(e for n, e in staged.items() if n != 3)
    assert len(handed) < 10


async def test_a_batch_without_failures_takes_no_savepoints_and_a_lone_failure_runs_once(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    statements: list[str] = []
    event.listen(
        engine.sync_engine,
        "before_cursor_execute",
        lambda _conn, _cursor, statement, *_: statements.append(statement.split()[0].upper()),
    )
    runs = 0

    async def fine(db: AsyncSession) -> None:
        db.add(Workspace(id=uuid.uuid4(), name="fine", plan="free"))
        await db.flush()

    async def fails(db: AsyncSession) -> None:
        nonlocal runs
        runs += 1
        raise ValueError("refused")

    try:
        async with GroupCommitter(sessions).running() as commits:
            await asyncio.gather(*(commits.run(fine) for _ in range(10)))
            clean = list(statements)
            with pytest.raises(ValueError, match="refused"):
                await commits.run(fails)
        async with sessions() as db:
            total = await db.scalar(select(func.count()).select_from(Workspace))
    finally:
        await engine.dispose()
    assert "INSERT" in clean
    assert "SAVEPOINT" not in clean
    assert runs == 1  # alone in its batch: rolled back alone, not run again
    assert total == 10


async def test_a_row_refused_only_when_the_batch_is_written_fails_its_unit_alone(
    database_url: str,
) -> None:
    taken = uuid.uuid4()

    def unit(n: int):  # type: ignore[no-untyped-def]
        async def work(db: AsyncSession) -> int:
            # Unit 3 repeats unit 2's id: nothing fails until the rows are written.
            db.add(Workspace(id=taken if n in (2, 3) else uuid.uuid4(), name=f"w{n}", plan="free"))
            return n

        return work

    results, names = await committed(database_url, [unit(n) for n in range(6)])
    assert isinstance(results[3], IntegrityError)
    assert [r for i, r in enumerate(results) if i != 3] == [0, 1, 2, 4, 5]
    assert sorted(names) == ["w0", "w1", "w2", "w4", "w5"]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_a_failed_commit_fails_every_unit_of_the_batch(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)

    async def fine(db: AsyncSession) -> None:
        db.add(Workspace(id=uuid.uuid4(), name="fine", plan="free"))

    async def breaks_the_commit(db: AsyncSession) -> None:
        # A foreign key checked only at COMMIT: the unit itself succeeds, the batch cannot.
        await db.execute(text("PRAGMA defer_foreign_keys = ON"))
        db.add(
            Inbox(workspace_id=uuid.uuid4(), slug="x", address="x@y.example", security_level="L1")
        )

    try:
        async with GroupCommitter(sessions).running() as commits:
            results = await asyncio.gather(
                commits.run(fine), commits.run(breaks_the_commit), return_exceptions=True
            )
        async with sessions() as db:
            total = await db.scalar(select(func.count()).select_from(Workspace))
    finally:
        await engine.dispose()
    assert total == 0
    assert all(isinstance(r, Exception) for r in results), results
