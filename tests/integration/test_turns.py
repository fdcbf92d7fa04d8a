"""Turns on a mail (PostgreSQL advisory locks): a batch takes all of its mails' turns at once and
in one order, so two batches over the same mails queue behind each other instead of each holding
a turn the other waits for (a cycle PostgreSQL breaks by failing one transaction)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import text

from mailmoat.common.db.locks import turn_for, turns_for
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic
from mailmoat.scanner.app import build_consensus
from mailmoat.scanner.consensus_handlers import JOIN
from mailmoat.scanner.settings import ScannerSettings
from tests.support.commits import counted_statements
from tests.support.scenario import Scenario
from tests.support.waiting import eventually

SCOPE = "turn-probe"


async def test_two_batches_over_the_same_mails_never_wait_on_each_other_in_a_cycle(
    database: str, scenario: Scenario
) -> None:
    if database != "postgresql":
        pytest.skip("on SQLite a writing transaction holds the whole database's write lock")
    first, second = uuid.uuid4(), uuid.uuid4()
    finished: list[list[uuid.UUID]] = []

    async def batch(mails: list[uuid.UUID]) -> None:
        async with scenario.sessions() as session, session.begin():
            await turns_for(session, SCOPE, mails)
            for mail in mails:  # each record's handler asks again: the batch holds it already
                await turn_for(session, SCOPE, mail)
        finished.append(mails)

    async def waiting() -> bool:
        async with scenario.sessions() as session:
            query = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            return (await session.scalar(text(query))) == 2

    with counted_statements("SELECT pg_advisory_xact_lock") as asked:
        async with scenario.sessions() as holder, holder.begin():
            await turn_for(holder, SCOPE, first)
            # Both batches start while one of their mails is held, in opposite orders.
            batches = [
                asyncio.create_task(batch([first, second])),
                asyncio.create_task(batch([second, first])),
            ]
            await eventually(waiting, what="both batches waiting for a turn")
        async with asyncio.timeout(30):
            await asyncio.gather(*batches)
    assert sorted(map(len, finished)) == [2, 2]
    assert asked[0] == 3  # the holder's, then one for each batch: none for a turn already held


async def test_the_consensus_joins_take_a_batchs_turns_at_once(settings: CommonSettings) -> None:
    consensus = build_consensus(ScannerSettings(**settings.model_dump()))
    turns = {s.topic: s.turn for s in consensus.subscriptions}
    assert turns == {Topic.RAW_MAIL: JOIN, Topic.SCAN_VERDICTS: JOIN, Topic.SENDER_GRAPH: None}
