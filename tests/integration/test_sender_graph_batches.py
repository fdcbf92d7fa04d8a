"""Reputation counts a batch of decided mail on the sender graph together: each edge the batch
moved is written once and its newest state published once, whatever the number of mails from
that sender in the batch; the counts are those of the mails one by one."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import select

from mailmoat.common.db.tables import SenderEdge
from mailmoat.common.events import Consensus, MailScanned, SenderEdgeUpdated
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic
from mailmoat.reputation.app import build_service as build_reputation
from tests.support.inprocess import running
from tests.support.scenario import Scenario
from tests.support.waiting import eventually

ALICE, BOB = 30, 10


def _scanned(scenario: Scenario, sender: str, *, withheld: bool) -> MailScanned:
    return MailScanned(
        mail_id=uuid.uuid4(),
        workspace_id=scenario.workspace_id,
        inbox_id=scenario.inbox_id,
        raw_ref=uuid.uuid4(),
        consensus=Consensus.WITHHOLD if withheld else Consensus.PASS,
        risk_score=90 if withheld else 5,
        withheld=withheld,
        verdict_ids=(),
        sender=sender,
        dmarc="fail" if withheld else "pass",
    )


async def test_a_batch_moves_each_edge_once_and_counts_every_mail(
    settings: CommonSettings, scenario: Scenario
) -> None:
    events = [_scanned(scenario, "alice@corp.example", withheld=False) for _ in range(ALICE)]
    events += [_scanned(scenario, "bob@corp.example", withheld=True) for _ in range(BOB)]
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        for event in events:  # one partition, as a mailbox's mail is keyed on its inbox
            key = str(scenario.inbox_id).encode()
            await producer.send(settings.topic(Topic.SCANNED_MAIL.value), event.to_bytes(), key=key)
        await producer.flush()
    finally:
        await producer.stop()

    quiet = settings.model_copy(update={"consumer_batch_max": 100})

    async def edges() -> dict[tuple[str, str], SenderEdge]:
        async with scenario.sessions() as session:
            rows = await session.scalars(
                select(SenderEdge).where(SenderEdge.inbox_id == scenario.inbox_id)
            )
            return {(row.kind, row.sender): row for row in rows}

    async def all_counted() -> bool:
        domain = (await edges()).get(("domain", "corp.example"))
        return domain is not None and domain.messages == ALICE + BOB

    async with running(build_reputation(quiet)):
        await eventually(all_counted, what="every mail counted on its domain's edge")
        states = await _graph_records(settings, expected=3)

    found = await edges()
    alice, bob = found["address", "alice@corp.example"], found["address", "bob@corp.example"]
    domain = found["domain", "corp.example"]
    assert (alice.messages, alice.passed, alice.withheld, alice.dmarc_pass) == (
        ALICE,
        ALICE,
        0,
        ALICE,
    )
    assert (bob.messages, bob.passed, bob.withheld, bob.dmarc_fail) == (BOB, 0, BOB, BOB)
    assert (domain.messages, domain.withheld, domain.dmarc_pass) == (ALICE + BOB, BOB, ALICE)
    # Two edges per mail were published one by one (80 records); a batch publishes each edge once.
    assert len({state.event_id for state in states}) <= 12, len(states)
    newest = {state.edge_key: state for state in states}
    assert {(s.kind, s.sender): s.messages for s in newest.values()} == {
        ("address", "alice@corp.example"): ALICE,
        ("address", "bob@corp.example"): BOB,
        ("domain", "corp.example"): ALICE + BOB,
    }


async def _graph_records(settings: CommonSettings, *, expected: int) -> list[SenderEdgeUpdated]:
    """Every record on the sender-graph topic, once the newest state of ``expected`` edges is
    there and nothing more follows for a moment."""
    consumer = AIOKafkaConsumer(
        settings.topic(Topic.SENDER_GRAPH.value),
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    states: list[SenderEdgeUpdated] = []
    try:
        async with asyncio.timeout(30):
            while True:
                batches = await consumer.getmany(timeout_ms=500)
                got = [r for batch in batches.values() for r in batch]
                states += [SenderEdgeUpdated.model_validate_json(r.value) for r in got]
                newest = {s.edge_key: s.messages for s in states}
                if (
                    not got
                    and len(newest) == expected
                    and sum(newest.values()) == 2 * (ALICE + BOB)
                ):
                    return states
    finally:
        await consumer.stop()
