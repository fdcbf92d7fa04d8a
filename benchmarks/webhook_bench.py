"""Webhook isolation: one workspace's webhooks beside another's tarpit.

The dispatch service runs as its own process on the embedded stack (tansu, SQLite). Workspace B
has an inbox whose webhook is a local HTTP server answering 204 at once. Workspace A has an inbox
webhook and as many endpoints as a workspace may hold, each on a tarpit of its own (a server that
accepts the connection, reads the request and never answers). The bench publishes message events
on ``inbox-events`` and times each of B's from its publish to the receiver reading the request.

Baseline: B's events alone. Then A's burst of events (every one owed to eleven tarpits), and B's
events again while A's tarpits hold their connections. Target: B's p95 under 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select, update
from tests.support.peers import WebhookReceiver
from tests.support.scenario import Scenario
from tests.support.stack import ProcessStack
from tests.support.tarpit import Tarpit

from mailmoat.cli.dev import EMBEDDED_FETCH_MAX_WAIT_MS
from mailmoat.common.bus import create_topics
from mailmoat.common.db.migrate import upgrade
from mailmoat.common.db.tables import Inbox, WebhookDelivery, WebhookEndpoint
from mailmoat.common.embedded_broker import EmbeddedBroker
from mailmoat.common.events import InboxEvent, InboxEventKind
from mailmoat.common.processes import free_port
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic
from mailmoat.common.webhook_secrets import shown

EVENTS = 100
TARPIT_EVENTS = 100
ENDPOINTS = 10  # the default cap of a workspace
PACE_SECONDS = 0.05  # B's events, one every 50 ms
WARM_UP = 5
TITLE = "## Webhook isolation (benchmarks/webhook_bench.py)"


@dataclass(frozen=True)
class Latencies:
    name: str
    ms: list[float]

    @property
    def p50(self) -> float:
        return statistics.median(self.ms)

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.ms, n=20)[18]


@dataclass(frozen=True)
class IsolationResult:
    alone: Latencies
    beside_tarpit: Latencies
    owed_seconds: float
    tarpit_connections: int
    held_at_end: int


def event(scenario: Scenario) -> InboxEvent:
    message_id = uuid.uuid4()
    return InboxEvent(
        mail_id=message_id,
        workspace_id=scenario.workspace_id,
        inbox_id=scenario.inbox_id,
        kind=InboxEventKind.MESSAGE_RECEIVED,
        message_id=message_id,
    )


async def publish(producer: AIOKafkaProducer, settings: CommonSettings, e: InboxEvent) -> None:
    topic = settings.topic(Topic.INBOX_EVENTS.value)
    await producer.send_and_wait(topic, e.to_bytes(), key=str(e.mail_id).encode())


async def timed(
    producer: AIOKafkaProducer,
    settings: CommonSettings,
    scenario: Scenario,
    receiver: WebhookReceiver,
    count: int,
) -> list[float]:
    """``count`` of B's events, one every ``PACE_SECONDS`` without waiting for the last; each
    timed from its publish to the receiver reading its delivery."""
    published: dict[str, float] = {}
    for _ in range(count):
        e = event(scenario)
        published[str(e.message_id)] = time.time()
        await publish(producer, settings, e)
        await asyncio.sleep(PACE_SECONDS)
    deadline = time.monotonic() + 120
    arrived: dict[str, float] = {}
    while len(arrived) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{count - len(arrived)} of B's webhooks never arrived")
        for delivery in receiver.deliveries:
            found = re.search(rb'"message_id":"([0-9a-f-]{36})"', delivery.body)
            if found and found.group(1).decode() in published:
                arrived.setdefault(found.group(1).decode(), delivery.received_at)
        await asyncio.sleep(0.05)
    return [(arrived[k] - published[k]) * 1000 for k in published]


async def flood(producer: AIOKafkaProducer, settings: CommonSettings, tarpitted: Scenario) -> float:
    """A's events at once; the seconds until the consumer has owed every delivery (so that what
    B meets next is A's tarpits, not A's events waiting in the same consumer)."""
    started = time.monotonic()
    for _ in range(TARPIT_EVENTS):
        await publish(producer, settings, event(tarpitted))
    mine = WebhookDelivery.workspace_id == tarpitted.workspace_id
    owed = select(func.count()).select_from(WebhookDelivery).where(mine)
    deadline = started + 120
    while True:
        async with tarpitted.sessions() as db:
            if (await db.scalar(owed) or 0) >= TARPIT_EVENTS * (ENDPOINTS + 1):
                return time.monotonic() - started
        if time.monotonic() > deadline:
            raise RuntimeError("A's deliveries were never all owed")
        await asyncio.sleep(0.05)


@contextlib.contextmanager
def tarpits(count: int) -> Iterator[list[Tarpit]]:
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(Tarpit()) for _ in range(count)]


async def point_at(scenario: Scenario, url: str, endpoints: list[str]) -> None:
    """The inbox's webhook to ``url``, and a message endpoint on each of ``endpoints``."""
    async with scenario.sessions() as db, db.begin():
        await db.execute(update(Inbox).where(Inbox.id == scenario.inbox_id).values(webhook_url=url))
        for n, endpoint in enumerate(endpoints):
            db.add(
                WebhookEndpoint(
                    workspace_id=scenario.workspace_id,
                    url=endpoint,
                    kind="message",
                    format="json",
                    events=[kind.value for kind in InboxEventKind],
                    secret=shown(bytes([n]) * 32),
                )
            )


async def run(broker: EmbeddedBroker, work_dir: Path) -> IsolationResult:
    settings = CommonSettings(
        database_url=f"sqlite+aiosqlite:///{work_dir / 'webhooks.db'}",
        kafka_bootstrap=broker.bootstrap,
        kafka_idempotence=False,
        kafka_fetch_max_wait_ms=EMBEDDED_FETCH_MAX_WAIT_MS,
        log_level="WARNING",
        topic_prefix="webhooks.",
        group_prefix="webhooks.",
    )
    await asyncio.to_thread(upgrade, settings.database_url)
    await create_topics(settings)
    bystander = await Scenario.create(settings, slug="bystander")
    tarpitted = await Scenario.create(settings, slug="tarpitted")
    stack = ProcessStack(
        settings=settings,
        log_dir=work_dir,
        relay_port=free_port(),
        extra_env={"MAILMOAT_LOG_LEVEL": "WARNING"},
    )
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    with WebhookReceiver() as receiver, tarpits(ENDPOINTS + 1) as pits:
        await point_at(bystander, receiver.url, [])
        urls = [pit.url_for("/hook") for pit in pits]
        await point_at(tarpitted, urls[0], urls[1:])
        stack.start("dispatch")
        await producer.start()
        try:
            await timed(producer, settings, bystander, receiver, WARM_UP)  # consumers joined
            alone = await timed(producer, settings, bystander, receiver, EVENTS)
            owed_in = await flood(producer, settings, tarpitted)
            while not any(pit.accepted for pit in pits):  # noqa: ASYNC110  (a thread's count)
                await asyncio.sleep(0.05)
            beside = await timed(producer, settings, bystander, receiver, EVENTS)
            held = sum(pit.holding for pit in pits)
        finally:
            await producer.stop()
            stack.stop()
            await bystander.close()
            await tarpitted.close()
        taken = sum(pit.accepted for pit in pits)
    return IsolationResult(
        Latencies("B alone", alone), Latencies("B beside A's tarpits", beside), owed_in, taken, held
    )


def section(result: IsolationResult) -> list[str]:
    alone, beside = result.alone, result.beside_tarpit
    return [
        TITLE,
        "",
        "The dispatch service as its own process (embedded stack: tansu, SQLite). Workspace B's",
        f"inbox webhook answers 204 at once; workspace A has an inbox webhook and {ENDPOINTS}",
        "endpoints, each on a tarpit of its own that accepts the connection and never answers.",
        f"{EVENTS} of B's message events, one every {PACE_SECONDS * 1000:.0f} ms, each timed from",
        "its publish on `inbox-events` to the receiver reading its delivery. Baseline: B alone.",
        f"Then {TARPIT_EVENTS} of A's events at once ({TARPIT_EVENTS * (ENDPOINTS + 1)} tarpit",
        f"deliveries, owed by the consumer in {result.owed_seconds:.1f} s), and once they are owed",
        "B's events again, while the worker tries A's deliveries in the tarpits. Target: B's p95",
        "under 2 s beside the tarpits.",
        "",
        "| measure | baseline (B alone) | B beside A's tarpits |",
        "|---|---|---|",
        f"| B's webhook latency, p50 / p95 (ms) | {alone.p50:.1f} / {alone.p95:.1f} | "
        f"{beside.p50:.1f} / {beside.p95:.1f} |",
        f"| B's slowest webhook (ms) | {max(alone.ms):.1f} | {max(beside.ms):.1f} |",
        "",
        f"A's tarpits took {result.tarpit_connections} connections in all and held "
        f"{result.held_at_end} when B's last webhook arrived: each attempt is cut at the",
        "attempt's timeout (5 s), A holds at most its fair share of the worker's slots, and a",
        "tarpit at most its per-target bound.",
    ]


def write_section(lines: list[str], output: Path) -> None:
    """Put the section into ``output`` in place of an earlier one (or at its end)."""
    text = output.read_text() if output.exists() else ""
    block = "\n".join(lines) + "\n"
    if TITLE in text:
        before, _, rest = text.partition(TITLE)
        after = rest.partition("\n## ")
        text = before + block + (f"\n## {after[2]}" if after[1] else "")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    output.write_text(text)


async def main(output: Path | None) -> None:
    broker = EmbeddedBroker()
    broker.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            result = await run(broker, Path(tmp))
    finally:
        broker.stop()
    lines = section(result)
    print("\n".join(lines))
    if output is not None:
        write_section(lines, output)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--output", type=Path, default=None, help="update this section there")
    asyncio.run(main(parser.parse_args().output))
