"""The audit chain on both databases: rows written by separate transactions are sealed into their
workspace's chain in order, checkpoints sign its head, and any edit, deletion, reordering or
rewrite of the sealed rows is found, naming the first broken link."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import delete, distinct, func, select, update

from mailmoat.common.audit import record_audit
from mailmoat.common.audit_chain import CHECKPOINT_ACTION, CheckpointKey, genesis, row_hash
from mailmoat.common.audit_seal import Verdict, checkpoint_key, seal, verify
from mailmoat.common.db.tables import AuditEntry, Workspace
from mailmoat.common.settings import CommonSettings
from tests.integration.test_dead_letter_replay import cli
from tests.support.plans import analysed_plan, statements_sent
from tests.support.scenario import Scenario

KEY = CheckpointKey.derive("a deployment secret for these tests")
OTHER_KEY = CheckpointKey.derive("someone else's secret")
ROWS = 12


async def _audit(scenario: Scenario, workspace_id: uuid.UUID, count: int) -> None:
    for n in range(count):  # a transaction each, as the services write them
        async with scenario.sessions() as session, session.begin():
            record_audit(
                session,
                workspace_id=workspace_id,
                mail_id=uuid.uuid4(),
                action="inbox.created",
                actor="api_key:mm_test",
                source="api",
                target=f"inbox:n{n}",
                subject=f"subject {n}",
                detail={"n": n, "note": "ünïcode"},
                producer="gateway",
            )


async def _seal(
    scenario: Scenario,
    *,
    checkpoint_every: float = 3600.0,
    limit: int = 1000,
    key: CheckpointKey = KEY,
) -> int:
    async with scenario.sessions() as session, session.begin():
        return await seal(
            session,
            limit=limit,
            key=key,
            checkpoint_every=timedelta(seconds=checkpoint_every),
            producer="policy",
        )


async def _seal_all(scenario: Scenario, key: CheckpointKey = KEY) -> None:
    """Rounds until one seals nothing (the last checkpoint sealed too)."""
    while await _seal(scenario, key=key):
        pass


async def _at(scenario: Scenario, seq: int) -> AuditEntry:
    return next(row for row in await _rows(scenario) if row.seq == seq)


async def _verify(
    scenario: Scenario, expected: tuple[int, str] | None = None, workspace: uuid.UUID | None = None
) -> Verdict:
    async with scenario.sessions() as session, session.begin():
        return await verify(session, workspace or scenario.workspace_id, [KEY.public], expected)


async def _rows(scenario: Scenario) -> list[AuditEntry]:
    async with scenario.sessions() as session:
        query = select(AuditEntry).where(AuditEntry.workspace_id == scenario.workspace_id)
        return list(await session.scalars(query.order_by(AuditEntry.seq)))


async def _second_workspace(scenario: Scenario) -> uuid.UUID:
    other = uuid.uuid4()
    async with scenario.sessions() as session, session.begin():
        session.add(Workspace(id=other, name="other", plan="developer"))
    return other


async def test_rows_are_sealed_in_order_per_workspace_and_the_chain_verifies(
    scenario: Scenario,
) -> None:
    other = await _second_workspace(scenario)
    await _audit(scenario, scenario.workspace_id, ROWS)
    await _audit(scenario, other, 3)
    assert await _seal(scenario, limit=5) == 5 + 3  # a bounded round, each workspace its share
    await _seal_all(scenario)
    rows = await _rows(scenario)
    sealed = [r for r in rows if r.action != CHECKPOINT_ACTION]
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert [r.target for r in sealed] == [f"inbox:n{n}" for n in range(ROWS)]  # in commit order
    assert rows[0].prev_sha256 == genesis(scenario.workspace_id)
    for before, row in itertools.pairwise(rows):
        assert row.prev_sha256 == before.row_sha256
    assert rows[-1].action == CHECKPOINT_ACTION  # the head was signed once all were sealed
    assert rows[-1].detail is not None
    assert rows[-1].detail["seq"] == ROWS
    verdict = await _verify(scenario)
    assert (verdict.broken, verdict.rows, verdict.checkpoints, verdict.unsealed) == (
        None,
        ROWS + 1,
        1,
        0,
    )
    assert (await _verify(scenario, workspace=other)).broken is None
    assert await _seal(scenario) == 0  # nothing new: no further checkpoint either


@pytest.mark.parametrize("what", ["target", "detail", "created_at", "actor"])
async def test_an_edited_row_is_named(scenario: Scenario, what: str) -> None:
    await _audit(scenario, scenario.workspace_id, ROWS)
    await _seal_all(scenario)
    victim = await _at(scenario, 5)
    values = {
        "target": {"target": "inbox:innocent"},
        "detail": {"detail": {"n": 4, "note": "edited"}},
        "created_at": {"created_at": victim.created_at + timedelta(seconds=1)},
        "actor": {"actor": "api_key:mm_other"},
    }[what]
    async with scenario.sessions() as session, session.begin():
        await session.execute(update(AuditEntry).where(AuditEntry.id == victim.id).values(values))
    broken = (await _verify(scenario)).broken
    assert broken is not None
    assert (broken.seq, broken.row_id, broken.reason) == (
        5,
        victim.id,
        "its content or place was changed",
    )


async def test_a_deleted_row_is_named(scenario: Scenario) -> None:
    await _audit(scenario, scenario.workspace_id, ROWS)
    await _seal_all(scenario)
    victim = await _at(scenario, 7)
    async with scenario.sessions() as session, session.begin():
        await session.execute(delete(AuditEntry).where(AuditEntry.id == victim.id))
    broken = (await _verify(scenario)).broken
    assert broken is not None
    assert (broken.seq, broken.row_id) == (7, None)
    assert broken.reason == "row 7 is missing (next is 8)"


async def test_reordered_rows_are_named(scenario: Scenario) -> None:
    await _audit(scenario, scenario.workspace_id, ROWS)
    await _seal_all(scenario)
    third, fourth = await _at(scenario, 3), await _at(scenario, 4)
    async with scenario.sessions() as session, session.begin():  # swap their places
        await session.execute(update(AuditEntry).where(AuditEntry.id == third.id).values(seq=-1))
        await session.execute(update(AuditEntry).where(AuditEntry.id == fourth.id).values(seq=3))
        await session.execute(update(AuditEntry).where(AuditEntry.id == third.id).values(seq=4))
    broken = (await _verify(scenario)).broken
    assert broken is not None
    assert (broken.seq, broken.row_id) == (3, fourth.id)


async def test_a_rewritten_history_fails_against_the_signed_checkpoint(
    scenario: Scenario,
) -> None:
    await _audit(scenario, scenario.workspace_id, ROWS)
    await _seal_all(scenario)  # the checkpoint of row 12, as row 13
    # Someone with the database but not the key edits row 3 and recomputes every hash and link
    # from there: each row holds, only the checkpoint's signed head no longer matches.
    rows = await _rows(scenario)
    rows[2].target = "inbox:innocent"
    async with scenario.sessions() as session, session.begin():
        head = rows[1].row_sha256 or ""
        for row in rows[2:]:
            assert row.seq is not None
            digest = row_hash(row, row.seq, head)
            await session.execute(
                update(AuditEntry)
                .where(AuditEntry.id == row.id)
                .values(target=row.target, prev_sha256=head, row_sha256=digest)
            )
            head = digest
    verdict = await _verify(scenario)
    assert verdict.broken is not None
    assert verdict.broken.seq == ROWS
    assert verdict.broken.reason == f"row {ROWS} is not the one a checkpoint signed"


async def test_a_forged_checkpoint_and_a_cut_tail_are_found(scenario: Scenario) -> None:
    await _audit(scenario, scenario.workspace_id, ROWS)
    await _seal_all(scenario)
    rows = await _rows(scenario)
    checkpoint = rows[-1]
    assert checkpoint.detail is not None
    kept_outside = (int(checkpoint.detail["seq"]), str(checkpoint.detail["head_sha256"]))
    assert (await _verify(scenario, kept_outside)).broken is None
    # The newest rows cut, checkpoint and all: only a checkpoint kept elsewhere shows it.
    async with scenario.sessions() as session, session.begin():
        await session.execute(delete(AuditEntry).where(AuditEntry.seq >= 10))
    assert (await _verify(scenario)).broken is None
    broken = (await _verify(scenario, kept_outside)).broken
    assert broken is not None
    assert broken.reason == f"rows 10 to {ROWS} are gone"
    # A checkpoint signed by another key does not count, however well formed.
    forged = OTHER_KEY.sign(scenario.workspace_id, 9, rows[8].row_sha256 or "")
    async with scenario.sessions() as session, session.begin():
        record_audit(
            session,
            workspace_id=scenario.workspace_id,
            mail_id=uuid.uuid4(),
            action=CHECKPOINT_ACTION,
            actor="mailmoat",
            source="policy",
            target="forged",
            detail=forged,
            producer="policy",
        )
    await _seal_all(scenario)
    broken = (await _verify(scenario)).broken
    assert broken is not None
    assert (broken.seq, broken.reason) == (
        10,
        "a checkpoint by an untrusted key, or malformed",
    )


async def test_sealers_running_together_give_each_row_one_place(scenario: Scenario) -> None:
    other = await _second_workspace(scenario)
    await _audit(scenario, scenario.workspace_id, 40)
    await _audit(scenario, other, 20)
    sealed = await asyncio.gather(*(_seal(scenario, limit=7) for _ in range(4)))
    await _seal_all(scenario)
    assert sum(sealed) >= 14
    for workspace in (scenario.workspace_id, other):
        verdict = await _verify(scenario, workspace=workspace)
        assert verdict.broken is None
        assert verdict.unsealed == 0
    async with scenario.sessions() as session:
        mine = AuditEntry.workspace_id == scenario.workspace_id
        counted = select(func.count(), func.count(distinct(AuditEntry.seq))).where(mine)
        total, places = (await session.execute(counted)).one()
    assert total == places == 41  # forty rows and one checkpoint


async def test_the_newest_checkpoint_is_found_by_index_not_by_walking_back(
    scenario: Scenario, database: str
) -> None:
    if database != "postgresql":
        pytest.skip("the plan in question is PostgreSQL's")
    await _audit(scenario, scenario.workspace_id, 3)
    await _seal_all(scenario)  # a checkpoint, then thousands of rows after it
    async with scenario.sessions() as session, session.begin():
        for n in range(5000):
            record_audit(
                session,
                workspace_id=scenario.workspace_id,
                mail_id=uuid.uuid4(),
                action="message.raw_read",
                actor="api_key:mm_test",
                source="api",
                target=f"message:{n}",
                producer="gateway",
            )
    with statements_sent(scenario.engine, "audit_log.action =") as ran:
        await _seal(scenario, limit=10_000)
    assert len(ran) == 1
    read = await analysed_plan(scenario.engine, *ran[0])
    assert read["Shared Hit Blocks"] + read["Shared Read Blocks"] < 20, read


async def test_an_operator_checks_the_chain_in_the_database_without_the_gateway(
    settings: CommonSettings, scenario: Scenario
) -> None:
    await _audit(scenario, scenario.workspace_id, ROWS)
    await _seal_all(scenario, key=checkpoint_key(settings))  # this deployment's own key
    workspace = str(scenario.workspace_id)
    ran = await cli(settings, "admin", "audit-verify", "--workspace", workspace)
    assert ran.returncode == 0, ran.stderr
    report = json.loads(ran.stdout)
    assert (report["intact"], report["rows_checked"], report["checkpoints_verified"]) == (
        True,
        ROWS + 1,
        1,
    )
    victim = await _at(scenario, 5)
    async with scenario.sessions() as session, session.begin():
        changed = update(AuditEntry).where(AuditEntry.id == victim.id).values(actor="someone")
        await session.execute(changed)
    ran = await cli(settings, "admin", "audit-verify", "--workspace", workspace)
    assert ran.returncode == 1
    assert json.loads(ran.stdout)["first_broken_link"] == {
        "seq": 5,
        "row_id": str(victim.id),
        "reason": "its content or place was changed",
    }
