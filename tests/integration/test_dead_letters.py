"""A malformed record on any topic is recorded and goes to that topic's .dlq with the error;
consumers go on."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from mailmoat.common.db.session import create_engine, create_session_factory
from mailmoat.common.dead_letters import list_dead_letters
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic
from tests.support.inprocess import running
from tests.support.scenario import Scenario, all_consumer_services

MALFORMED = (b"{not json", b'{"event_id": "not-a-uuid", "mail_id": 1}')
# Replies to waiting send calls are read by every gateway replica without a group: an unreadable
# one is skipped (the decision is in the database), never dead-lettered once per replica.
DEAD_LETTERED = tuple(t for t in Topic if t is not Topic.SEND_DECISIONS)


async def test_every_topic_dead_letters_malformed_records_and_keeps_consuming(
    settings: CommonSettings, scenario: Scenario
) -> None:
    async with running(*all_consumer_services(settings, scenario)):
        await publish_malformed(settings)
        dead = await read_dead_letters(settings, expected=len(DEAD_LETTERED) * len(MALFORMED))
        for topic in DEAD_LETTERED:
            bodies = {body for body, _ in dead[topic.dlq]}
            assert bodies == set(MALFORMED), topic
            headers = dead[topic.dlq][0][1]
            assert headers["x-original-topic"] == settings.topic(topic.value)
            assert headers["x-error-type"] == "ValidationError"
            assert headers["x-error"]
        await assert_recorded(settings)
        # the consumers behind every stage still work after the bad records
        message = await scenario.deliver_and_wait("still flowing")
        assert message.subject == "still flowing"


async def assert_recorded(settings: CommonSettings) -> None:
    """Each dlq record was first written to ``dead_letters``: unparsed, so with no event id."""
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            letters = await list_dead_letters(session, limit=None)
    finally:
        await engine.dispose()
    for topic in DEAD_LETTERED:
        mine = [letter for letter in letters if letter.topic == topic.value]
        assert {letter.payload for letter in mine} == set(MALFORMED), topic
        assert {(letter.error_type, letter.event_id) for letter in mine} == {
            ("ValidationError", None)
        }
        assert all(letter.consumer.startswith(settings.group_prefix) for letter in mine)


async def publish_malformed(settings: CommonSettings) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        for topic in Topic:
            for body in MALFORMED:
                await producer.send_and_wait(settings.topic(topic.value), body, key=b"k")
    finally:
        await producer.stop()


async def read_dead_letters(
    settings: CommonSettings, *, expected: int
) -> dict[str, list[tuple[bytes, dict[str, str]]]]:
    consumer = AIOKafkaConsumer(
        *(settings.topic(t.dlq) for t in Topic),
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,  # no group to join (seconds on this broker): every partition, from the start
        auto_offset_reset="earliest",
    )
    await consumer.start()
    found: dict[str, list[tuple[bytes, dict[str, str]]]] = defaultdict(list)
    seen: set[tuple[str, bytes]] = set()
    try:
        async with asyncio.timeout(60):
            while len(seen) < expected:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for record in records:
                        name = record.topic.removeprefix(settings.topic_prefix)
                        headers = {k: v.decode() for k, v in record.headers}
                        found[name].append((record.value, headers))
                        seen.add((name, record.value))
    finally:
        await consumer.stop()
    return found
