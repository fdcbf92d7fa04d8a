"""A detector takes a backlog of mail as a batch: each mail read and judged with no transaction
open, the verdicts written in few commits rather than one each, and a record whose raw message
is missing dead-lettered alone while every other mail gets its verdict."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import func, select

from mailmoat.common.db.tables import DeadLetter, ProcessedEvent, RawMessage
from mailmoat.common.events import DetectorVerdict, RawMailReceived
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic
from mailmoat.scanner.app import build_checker
from mailmoat.scanner.settings import ScannerSettings
from tests.support.commits import counted_commits
from tests.support.inprocess import running
from tests.support.scenario import Scenario
from tests.support.waiting import eventually

MAILS = 40
BODY = b"From: bob@example.com\r\nSubject: figures\r\n\r\nThe figures for the quarter.\r\n"


async def _stored_mails(scenario: Scenario) -> list[RawMailReceived]:
    events = []
    async with scenario.sessions() as session, session.begin():
        for n in range(MAILS):
            mail = uuid.uuid4()
            session.add(
                RawMessage(
                    id=mail,
                    workspace_id=scenario.workspace_id,
                    inbox_id=scenario.inbox_id,
                    mail_from="bob@example.com",
                    rcpt_to=scenario.address,
                    raw=BODY,
                    sha256="0" * 64,
                    size=len(BODY),
                )
            )
            events.append(
                RawMailReceived(
                    mail_id=mail,
                    workspace_id=scenario.workspace_id,
                    inbox_id=scenario.inbox_id,
                    raw_ref=mail,
                    size=len(BODY),
                    sha256="0" * 64,
                    mail_from="bob@example.com",
                    rcpt_to=scenario.address,
                    security_level="L1" if n % 10 == 0 else "L2",
                )
            )
    return events


async def test_a_backlog_is_judged_in_few_commits_and_a_missing_mail_is_dead_lettered_alone(
    settings: CommonSettings, scenario: Scenario
) -> None:
    events = await _stored_mails(scenario)
    missing = events[23].model_copy(update={"raw_ref": uuid.uuid4(), "event_id": uuid.uuid4()})
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        for event in [*events[:23], missing, *events[23:]]:
            await producer.send(settings.topic(Topic.RAW_MAIL.value), event.to_bytes(), key=b"k")
        await producer.flush()
    finally:
        await producer.stop()

    scanner = ScannerSettings(**{**settings.model_dump(), "consumer_batch_max": 100})
    group = settings.group("scanner-checker")

    async def settled() -> bool:
        async with scenario.sessions() as session:
            done = await session.scalar(
                select(func.count()).where(ProcessedEvent.consumer == group)
            )
            letters = await session.scalar(select(func.count()).where(DeadLetter.consumer == group))
        return (done, letters) == (MAILS, 1)

    with counted_commits("INSERT INTO processed_events") as commits:
        async with running(build_checker(scanner)):
            await eventually(settled, timeout=60, what="every mail judged, one dead letter")
    # The batch fails on the missing mail once, and its records then go one by one; a backlog
    # of forty judged a mail a commit would have taken forty.
    assert commits[0] <= MAILS // 2, commits[0]
    verdicts = [DetectorVerdict.model_validate_json(v) for v in await _verdicts(settings)]
    analysed = {e.mail_id for e in events if e.security_level != "L1"}
    assert sorted(str(v.mail_id) for v in verdicts) == sorted(str(m) for m in analysed)


async def _verdicts(settings: CommonSettings) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        settings.topic(Topic.SCAN_VERDICTS.value),
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        for _ in range(6):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                values.extend(r.value for r in records if r.value is not None)
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    return values
