"""A consumer takes what the broker has and handles it in one transaction: one commit for many
records, no savepoint while nothing fails, and a record that fails is rolled back alone (the
batch again with each record in a savepoint; the record retried by itself, dead-lettered if it
keeps failing) while the rest of its batch commits."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.locks import turn_for
from mailmoat.common.db.session import create_engine, create_session_factory
from mailmoat.common.db.tables import DeadLetter, ProcessedEvent
from mailmoat.common.events import SenderStatusChanged
from mailmoat.common.observability.committed import on_commit
from mailmoat.common.service import Service
from mailmoat.common.settings import CommonSettings
from mailmoat.common.subscription import PoisonEvent, Subscription
from mailmoat.common.topics import Topic
from tests.support.commits import counted_commits, counted_statements
from tests.support.inprocess import running
from tests.support.scenario import Scenario
from tests.support.waiting import eventually

GROUP = "batch-probe"
RECORDS = 60


async def test_a_backlog_is_handled_in_few_commits_and_a_bad_record_alone(
    settings: CommonSettings, scenario: Scenario
) -> None:
    events = _events(scenario)
    poison, flaky = events[17].event_id, events[41].event_id
    tries: dict[uuid.UUID, int] = {}
    attempts: dict[uuid.UUID, list[uuid.UUID]] = {}  # each transaction's records, in order
    rolled_back: set[uuid.UUID] = set()  # transactions a failure ended (not in a savepoint)
    counted: list[uuid.UUID] = []  # what a metric counted, as services count (on commit)

    async def handler(got: SenderStatusChanged, session: AsyncSession) -> None:
        attempt = session.info.setdefault("attempt", uuid.uuid4())
        attempts.setdefault(attempt, []).append(got.event_id)
        tries[got.event_id] = tries.get(got.event_id, 0) + 1
        on_commit(session, lambda: counted.append(got.event_id))
        failing = got.event_id == poison or (got.event_id == flaky and tries[flaky] == 1)
        if failing and not session.in_nested_transaction():
            rolled_back.add(attempt)
        if got.event_id == poison:
            raise PoisonEvent("this record can never be handled")
        if failing:
            raise RuntimeError("a passing failure")

    await _publish(settings, [e.to_bytes() for e in events] + [b"{not json"])
    quiet = settings.model_copy(update={"redrive_interval_seconds": 0, "consumer_batch_max": 100})
    subscription = Subscription(Topic.SENDER_STATUS, GROUP, handler)
    service = Service(name="probe", settings=quiet, subscriptions=[subscription])
    with (
        counted_commits("INSERT INTO processed_events") as commits,
        counted_statements("SAVEPOINT") as savepoints,
    ):
        async with running(service):
            processed, letters = await _settled(scenario, settings, expected=RECORDS - 1)
    assert processed == {e.event_id for e in events} - {poison}
    assert sorted(str(letter.event_id) for letter in letters) == sorted([str(poison), "None"])
    # One per batch (the records arrive in a few fetches) and one for the record retried
    # alone: never one per record, as when each record had a transaction of its own.
    assert commits[0] <= 8, commits[0]
    assert tries[flaky] == 2  # in its batch, then in its batch's savepoint
    assert tries[poison] >= 3  # in its batch, in its savepoint, then alone until dead-lettered
    assert savepoints[0] > 0  # the batches that held a failing record, again record by record
    # A record is handled again only when a failure rolled back the transaction it was in.
    for event_id, n in tries.items():
        if event_id not in (poison, flaky):
            again = sum(event_id in attempts[attempt] for attempt in rolled_back)
            assert n == 1 + again, (event_id, n, again)
    assert rolled_back  # each batch was tried first with no savepoint
    # Handled up to three times, yet counted once each: only what committed counts.
    assert sorted(map(str, counted)) == sorted(map(str, processed))


async def test_finish_runs_once_a_batch_and_a_failed_finish_leaves_each_record_alone(
    settings: CommonSettings, scenario: Scenario
) -> None:
    events = _events(scenario)
    finished: list[int] = []  # how many records each finish closed

    async def handler(got: SenderStatusChanged, session: AsyncSession) -> None:
        session.info["records"] = session.info.get("records", 0) + 1

    async def finish(done: list[SenderStatusChanged], session: AsyncSession) -> None:
        assert len(done) == session.info.pop("records")  # every record its handler had
        finished.append(len(done))
        if len(finished) == 1:
            raise RuntimeError("the first batch fails to finish")

    await _publish(settings, [e.to_bytes() for e in events])
    quiet = settings.model_copy(update={"redrive_interval_seconds": 0, "consumer_batch_max": 100})
    subscription = Subscription(Topic.SENDER_STATUS, GROUP, handler, finish=finish)
    service = Service(name="probe", settings=quiet, subscriptions=[subscription])
    async with running(service):
        processed, letters = await _settled(scenario, settings, expected=RECORDS, letters=0)
    assert processed == {e.event_id for e in events}
    assert letters == []
    first = finished[0]
    assert first > 1  # the backlog came as a batch, and its finish failed ...
    assert finished[1 : 1 + first] == [1] * first  # ... so each of its records went alone
    assert sum(finished[1:]) == RECORDS  # every record closed by one committed finish


async def test_a_batch_skips_what_was_processed_before_and_what_repeats_within_it(
    settings: CommonSettings, scenario: Scenario
) -> None:
    events = _events(scenario)
    consumer = settings.group(GROUP)
    async with scenario.sessions() as session, session.begin():
        for event in events[:10]:  # processed before: a redelivery after a crash
            session.add(
                ProcessedEvent(
                    consumer=consumer, event_id=event.event_id, workspace_id=event.workspace_id
                )
            )
    calls: list[uuid.UUID] = []

    async def handler(got: SenderStatusChanged, session: AsyncSession) -> None:
        calls.append(got.event_id)
        # A handler that reads, as most do, flushes what the batch left pending.
        await session.scalar(select(ProcessedEvent.event_id).limit(1))

    labels = {"topic": Topic.SENDER_STATUS.value, "group": GROUP, "outcome": "duplicate"}
    duplicates = REGISTRY.get_sample_value("mailmoat_events_consumed_total", labels) or 0.0
    # The outbox published ten of them twice: the copies come in the same backlog.
    await _publish(settings, [e.to_bytes() for e in events + events[20:30]])
    quiet = settings.model_copy(update={"redrive_interval_seconds": 0, "consumer_batch_max": 100})
    subscription = Subscription(Topic.SENDER_STATUS, GROUP, handler)
    service = Service(name="probe", settings=quiet, subscriptions=[subscription])
    with (
        counted_statements("SAVEPOINT") as savepoints,
        counted_statements("INSERT INTO processed_events") as marks,
        counted_commits("INSERT INTO processed_events") as commits,
    ):
        async with running(service):
            await _settled(scenario, settings, expected=RECORDS, letters=0)

        async def all_counted() -> bool:
            seen = REGISTRY.get_sample_value("mailmoat_events_consumed_total", labels) or 0.0
            return seen - duplicates == 20

        await eventually(all_counted, what="twenty records counted as duplicates")
    assert sorted(calls) == sorted(e.event_id for e in events[10:])
    assert savepoints[0] == 0  # nothing failed: no record paid for a savepoint
    assert commits[0] > 0
    assert marks[0] == commits[0]  # a batch's processed-event rows go in one INSERT


async def test_a_batch_takes_its_records_turns_in_one_statement(
    database: str, settings: CommonSettings, scenario: Scenario
) -> None:
    events = _events(scenario)
    held: list[bool] = []

    async def handler(got: SenderStatusChanged, session: AsyncSession) -> None:
        await turn_for(session, "probe", got.mail_id)  # as the consensus's joins do
        held.append(True)

    await _publish(settings, [e.to_bytes() for e in events])
    quiet = settings.model_copy(update={"redrive_interval_seconds": 0, "consumer_batch_max": 100})
    subscription = Subscription(Topic.SENDER_STATUS, GROUP, handler, turn="probe")
    service = Service(name="probe", settings=quiet, subscriptions=[subscription])
    with (
        counted_statements("SELECT pg_advisory_xact_lock") as turns,
        counted_commits("INSERT INTO processed_events") as commits,
    ):
        async with running(service):
            await _settled(scenario, settings, expected=RECORDS, letters=0)
    assert len(held) == RECORDS
    if database == "postgresql":
        assert 0 < turns[0] == commits[0] < RECORDS  # one a batch, never one a record
    else:
        assert turns[0] == 0  # SQLite's write lock already makes writers take turns


def _events(scenario: Scenario) -> list[SenderStatusChanged]:
    return [
        SenderStatusChanged(
            mail_id=uuid.uuid4(),
            workspace_id=scenario.workspace_id,
            inbox_id=scenario.inbox_id,
            status="warned",
            reason=f"record {n}",
        )
        for n in range(RECORDS)
    ]


async def _publish(settings: CommonSettings, bodies: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        topic = settings.topic(Topic.SENDER_STATUS.value)
        for body in bodies:
            await producer.send(topic, body, key=b"k")
        await producer.flush()
    finally:
        await producer.stop()


async def _settled(
    scenario: Scenario, settings: CommonSettings, *, expected: int, letters: int = 2
) -> tuple[set[uuid.UUID], list[DeadLetter]]:
    engine = create_engine(settings.database_url)
    sessions = create_session_factory(engine)
    consumer = settings.group(GROUP)
    try:
        async with asyncio.timeout(60):
            while True:
                async with sessions() as session:
                    done = await session.scalar(
                        select(func.count()).where(ProcessedEvent.consumer == consumer)
                    )
                    found = list(
                        await session.scalars(
                            select(DeadLetter).where(DeadLetter.consumer == consumer)
                        )
                    )
                if done == expected and len(found) == letters:
                    async with sessions() as session:
                        rows = await session.scalars(
                            select(ProcessedEvent.event_id).where(
                                ProcessedEvent.consumer == consumer
                            )
                        )
                        return set(rows), found
                await asyncio.sleep(0.05)
    finally:
        await engine.dispose()
