"""A dead letter is recorded in the database and, once its cause is fixed, replayed onto its
topic: the group that gave up handles it once, the groups that handled it skip it, the replay is
audited and refused a second time unless forced; ``mailmoat dlq`` does the same from a shell."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from faststream.kafka import KafkaBroker
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.cli.bootstrap import bootstrap_workspace
from mailmoat.common.bus import create_broker
from mailmoat.common.db.session import SessionFactory, create_engine, create_session_factory
from mailmoat.common.db.tables import AuditEntry, DeadLetter
from mailmoat.common.dead_letters import (
    REPLAYED_FROM,
    AlreadyReplayed,
    count_pending,
    list_dead_letters,
    replay_dead_letter,
)
from mailmoat.common.events import AuditRecorded
from mailmoat.common.service import Service
from mailmoat.common.settings import CommonSettings
from mailmoat.common.subscription import Subscription
from mailmoat.common.topics import Topic
from tests.support.inprocess import running
from tests.support.waiting import eventually


@dataclass
class Flaky:
    """A handler that fails until its cause is fixed, and remembers what it handled."""

    fixed: bool = False
    handled: list[uuid.UUID] = field(default_factory=list)

    async def handle(self, event: AuditRecorded, session: AsyncSession) -> None:
        if not self.fixed:
            raise RuntimeError("downstream not ready")
        self.handled.append(event.event_id)


@dataclass
class Bench:
    """Consumers on the ``audit`` topic: ``flaky`` fails at first, ``steady`` never does."""

    settings: CommonSettings
    sessions: SessionFactory
    broker: KafkaBroker
    workspace_id: uuid.UUID
    flaky: Flaky
    flaky_group: str
    steady: Flaky
    steady_group: str

    async def publish(self) -> AuditRecorded:
        event = AuditRecorded(
            mail_id=uuid.uuid4(),
            workspace_id=self.workspace_id,
            action="test.action",
            actor="system:test",
            source="test",
            target="nothing",
            audit_id=uuid.uuid4(),
        )
        await self.broker.publish(
            event.to_bytes(),
            self.settings.topic(Topic.AUDIT.value),
            key=str(event.mail_id).encode(),
            headers={"event-type": "AuditRecorded"},
        )
        return event

    async def letter(self, event: AuditRecorded) -> DeadLetter:
        async def probe() -> DeadLetter | None:
            async with self.sessions() as session:
                return await session.scalar(
                    select(DeadLetter).where(DeadLetter.event_id == event.event_id)
                )

        return await eventually(probe, timeout=30, what="the dead letter's row")


async def until(check: Callable[[], object], what: str) -> None:
    async def probe() -> bool:
        return bool(check())

    await eventually(probe, timeout=30, what=what)


async def replayed_records(
    settings: CommonSettings, count: int
) -> list[ConsumerRecord[bytes, bytes]]:
    """The first ``count`` records of the ``audit`` topic, read without a group."""
    consumer = AIOKafkaConsumer(
        settings.topic(Topic.AUDIT.value),
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    found: list[ConsumerRecord[bytes, bytes]] = []
    try:
        async with asyncio.timeout(30):
            while len(found) < count:
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    found.extend(records)
    finally:
        await consumer.stop()
    return found


def outcomes(group: str, outcome: str) -> float:
    labels = {"topic": Topic.AUDIT.value, "group": group, "outcome": outcome}
    return REGISTRY.get_sample_value("mailmoat_events_consumed_total", labels) or 0.0


@asynccontextmanager
async def bench(settings: CommonSettings) -> AsyncIterator[Bench]:
    """The two groups running, a producer and a workspace; one try before dead-lettering."""
    settings = settings.model_copy(update={"handler_attempts": 1})
    made = await bootstrap_workspace(settings.database_url, name="dlq", plan="free")
    flaky, steady = Flaky(), Flaky(fixed=True)
    tag = uuid.uuid4().hex[:8]  # metric labels carry the logical group: one per test
    groups = (f"flaky-{tag}", f"steady-{tag}")
    subscriptions = [
        Subscription(Topic.AUDIT, group, consumer.handle)
        for group, consumer in zip(groups, (flaky, steady), strict=True)
    ]
    engine = create_engine(settings.database_url)
    broker = create_broker(settings, client_id="dlq-test")
    await broker.start()
    service = Service("dlq-test", settings, subscriptions=subscriptions)
    try:
        async with running(service):
            sessions = create_session_factory(engine)
            yield Bench(
                settings, sessions, broker, made.workspace_id, flaky, groups[0], steady, groups[1]
            )
    finally:
        await broker.stop()
        await engine.dispose()


async def test_a_replay_after_the_fix_is_handled_once_and_audited(
    settings: CommonSettings,
) -> None:
    async with bench(settings) as b:
        event = await b.publish()
        letter = await b.letter(event)
        assert letter.error_type == "RuntimeError"
        assert letter.error == "downstream not ready"
        assert (letter.topic, letter.workspace_id) == (Topic.AUDIT.value, b.workspace_id)
        assert letter.consumer == b.settings.group(b.flaky_group)
        assert letter.key == str(event.mail_id)
        assert letter.headers["event-type"] == "AuditRecorded"
        await until(lambda: b.steady.handled, "the steady group")
        async with b.sessions() as session:
            assert await count_pending(session) == {(letter.consumer, Topic.AUDIT.value): 1}

        b.flaky.fixed = True
        async with b.sessions() as session, session.begin():
            await replay_dead_letter(session, b.broker, b.settings, letter.id, actor="ops:ann")

        await until(lambda: b.flaky.handled, "the replay")
        await until(lambda: outcomes(b.steady_group, "duplicate"), "the steady group's skip")
        assert b.flaky.handled == [event.event_id]
        assert b.steady.handled == [event.event_id]
        original, replay = await replayed_records(b.settings, 2)
        assert (replay.key, replay.value) == (original.key, original.value)
        assert (REPLAYED_FROM, str(letter.id).encode()) in replay.headers
        async with b.sessions() as session:
            replayed = await session.get(DeadLetter, letter.id)
            assert replayed is not None
            assert (replayed.replayed_by, replayed.replays) == ("ops:ann", 1)
            assert replayed.replayed_at is not None
            assert await count_pending(session) == {}
            assert await list_dead_letters(session) == []
            audit = await session.scalar(
                select(AuditEntry).where(AuditEntry.action == "dead_letter.replayed")
            )
            assert audit is not None
            assert (audit.workspace_id, audit.actor, audit.source) == (
                b.workspace_id,
                "ops:ann",
                "cli",
            )
            assert audit.target == f"dead_letter:{letter.id}"

        with pytest.raises(AlreadyReplayed):
            async with b.sessions() as session, session.begin():
                await replay_dead_letter(session, b.broker, b.settings, letter.id, actor="ops:bo")
        async with b.sessions() as session, session.begin():
            forced = await replay_dead_letter(
                session, b.broker, b.settings, letter.id, actor="ops:bo", force=True
            )
            assert forced.replays == 2
        await until(lambda: outcomes(b.flaky_group, "duplicate"), "the forced replay's skip")
        assert b.flaky.handled == [event.event_id]  # handled once, however often replayed


async def test_the_cli_lists_shows_and_replays_dead_letters(settings: CommonSettings) -> None:
    async with bench(settings) as b:
        event = await b.publish()
        letter = await b.letter(event)

        listed, shown = await asyncio.gather(
            cli(b.settings, "dlq", "list", "--topic", Topic.AUDIT.value),
            cli(b.settings, "dlq", "show", str(letter.id)),
        )
        assert listed.returncode == 0, listed.stderr
        rows = [json.loads(line) for line in listed.stdout.splitlines()]
        assert [(r["id"], r["event_id"], r["error_type"]) for r in rows] == [
            (letter.id, str(event.event_id), "RuntimeError")
        ]
        assert "payload" not in rows[0]
        assert shown.returncode == 0, shown.stderr
        detail = json.loads(shown.stdout)
        assert detail["payload_encoding"] == "json"
        assert detail["payload"]["event_id"] == str(event.event_id)
        assert detail["headers"]["event-type"] == "AuditRecorded"

        b.flaky.fixed = True
        # once replayed, refused the second time it is named; an unknown id is refused too
        ids = (str(letter.id), str(letter.id), "987654")
        replayed = await cli(b.settings, "dlq", "replay", *ids, "--actor", "ops:ann")
        assert replayed.returncode == 1
        assert [json.loads(line)["id"] for line in replayed.stdout.splitlines()] == [letter.id]
        assert f"dead letter {letter.id} was replayed" in replayed.stderr
        assert "no dead letter has id 987654" in replayed.stderr
        await until(lambda: b.flaky.handled, "the replay")
        assert b.flaky.handled == [event.event_id]


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


async def cli(settings: CommonSettings, *args: str) -> Ran:
    """Run ``mailmoat`` as an operator would, against the test's database and broker."""
    env = {
        **os.environ,
        "MAILMOAT_DATABASE_URL": settings.database_url,
        "MAILMOAT_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "MAILMOAT_KAFKA_IDEMPOTENCE": "false",
        "MAILMOAT_TOPIC_PREFIX": settings.topic_prefix,
        "MAILMOAT_GROUP_PREFIX": settings.group_prefix,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mailmoat.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())
