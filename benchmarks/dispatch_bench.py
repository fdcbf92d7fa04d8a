"""Dispatch: approved sends to the relay's 250, beside Postfix's smtp-source into the same sink;
and webhook delivery from ``inbox-events`` to the receiver's 2xx.

The relay is Postfix's ``smtp-sink`` on loopback, and the baseline is Postfix's
``smtp-source`` sending into it over one reused connection (``-d``), messages of the same size.
The binaries come from the Debian ``postfix`` package: used from ``PATH`` if installed, else
downloaded with ``apt-get download`` and unpacked under the work directory (no daemon is
started, nothing is installed system-wide). Without them the baseline is reported as missing.

Mailmoat's side is the dispatch service as its own process on the embedded broker (tansu), on
a fresh SQLite file and then on a PostgreSQL cluster (fsync on). The bench writes sends as
policy leaves them (approved, each recipient reserved in the cap ledger) and publishes
``send-approved``; dispatch claims each send (re-checking the kill switch, the sender and the
ledger, committed before the relay is called), DKIM-signs it (rsa-sha256, 2048 bits), relays
it and records the outcome. A send's time runs from the bench's
publish to the ``sent`` event dispatch writes on the relay's reply.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import update
from tests.support.feedback_events import delivered
from tests.support.outbound import approved_sends
from tests.support.peers import WebhookReceiver
from tests.support.scenario import Scenario
from tests.support.stack import ProcessStack

from benchmarks.databases import DATABASES, migrated, missing
from mailmoat.cli.dev import EMBEDDED_FETCH_MAX_WAIT_MS
from mailmoat.common.bus import create_topics
from mailmoat.common.db.tables import Inbox, SenderStats
from mailmoat.common.embedded_broker import EmbeddedBroker
from mailmoat.common.events import InboxEvent, InboxEventKind, MailSent, SendApproved
from mailmoat.common.events.base import utcnow
from mailmoat.common.processes import free_port, wait_for_port
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic

BODY_LINES = 40  # ~1.7 KB of text, as the other benches send
SOURCE_LENGTH = 2000  # smtp-source message size in bytes, about what dispatch sends signed
WARM_UP = 5
FLOOD = 1000


@dataclass(frozen=True)
class Postfix:
    source: Path
    sink: Path
    env: dict[str, str]


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds


@dataclass(frozen=True)
class DispatchResult:
    baseline: Rate
    burst: Rate
    latencies_ms: list[float]
    failed: int
    webhook_ms: list[float]
    reputation_lag_s: float
    reputation: Rate


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def postfix_tools(work_dir: Path) -> Postfix | str:
    """smtp-source and smtp-sink, or why they could not be had."""
    source, sink = shutil.which("smtp-source"), shutil.which("smtp-sink")
    if source and sink:
        return Postfix(Path(source), Path(sink), dict(os.environ))
    cache = work_dir / "postfix"
    cache.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(
            ["apt-get", "download", "postfix"],
            cwd=cache,
            check=True,
            capture_output=True,
            timeout=180,
        )
        [package] = cache.glob("postfix_*.deb")
        subprocess.run(["dpkg", "-x", str(package), str(cache / "root")], check=True, timeout=60)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        return f"Postfix's tools unavailable ({type(exc).__name__}: {exc})"
    root = cache / "root"
    env = {**os.environ, "LD_LIBRARY_PATH": str(root / "usr/lib/postfix")}
    return Postfix(root / "usr/sbin/smtp-source", root / "usr/sbin/smtp-sink", env)


def start_sink(postfix: Postfix, port: int) -> subprocess.Popen[bytes]:
    command = [str(postfix.sink)]
    if os.geteuid() == 0:
        command += ["-u", "nobody"]  # smtp-sink will not run as root
    command += [f"127.0.0.1:{port}", "256"]
    sink = subprocess.Popen(command, env=postfix.env, stderr=subprocess.DEVNULL)
    wait_for_port("127.0.0.1", port, timeout=10)
    return sink


def baseline(postfix: Postfix, port: int, count: int) -> Rate:
    started = time.perf_counter()
    subprocess.run(
        [
            str(postfix.source),
            *("-d", "-s", "1", "-m", str(count), "-l", str(SOURCE_LENGTH)),
            *("-f", "bench@agents.example", "-t", "bob@example.org", f"127.0.0.1:{port}"),
        ],
        env=postfix.env,
        check=True,
        timeout=300,
    )
    return Rate(count, time.perf_counter() - started)


def dkim_key(work_dir: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = work_dir / "dkim.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


async def approved(scenario: Scenario, recipients: list[str]) -> list[uuid.UUID]:
    """The bench's sends: ~2 KB of ordinary text each, approved and reserved."""
    text = "A line of an ordinary business message.\n" * BODY_LINES
    return await approved_sends(scenario, recipients, subject="Quarterly numbers", text=text)


class Bus:
    """The bench's producer, and a reader of one topic from its end (no consumer group)."""

    def __init__(self, settings: CommonSettings, topic: Topic) -> None:
        self._settings = settings
        self._topic = settings.topic(topic.value)
        self.producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap,
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=EMBEDDED_FETCH_MAX_WAIT_MS,
        )

    async def __aenter__(self) -> Bus:
        await self.producer.start()
        await self.consumer.start()
        partitions = self.consumer.partitions_for_topic(self._topic) or set()
        assigned = [TopicPartition(self._topic, p) for p in partitions]
        self.consumer.assign(assigned)
        await self.consumer.seek_to_end(*assigned)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.consumer.stop()
        await self.producer.stop()

    async def publish(self, topic: Topic, key: uuid.UUID, value: bytes) -> None:
        await self.producer.send_and_wait(
            self._settings.topic(topic.value), value, key=str(key).encode()
        )

    async def sent(self, wanted: set[uuid.UUID]) -> dict[uuid.UUID, MailSent]:
        """Read ``sent`` until every wanted send has its event."""
        found: dict[uuid.UUID, MailSent] = {}
        deadline = time.monotonic() + 300
        while wanted - found.keys():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(wanted - found.keys())} sends never reported")
            batches = await self.consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for record in records:
                    event = MailSent.model_validate_json(record.value or b"{}")
                    if event.mail_id in wanted:
                        found[event.mail_id] = event
        return found


def _approval(scenario: Scenario, outbound_id: uuid.UUID) -> bytes:
    event = SendApproved(
        mail_id=outbound_id,
        workspace_id=scenario.workspace_id,
        inbox_id=scenario.inbox_id,
        risk_score=0,
    )
    return event.to_bytes()


async def burst(bus: Bus, scenario: Scenario, count: int) -> tuple[Rate, int, float]:
    """``count`` approvals published at once: sends per second until the last is reported,
    and how long after that reputation had counted them all (its lag behind ``sent``)."""
    ids = await approved(scenario, [f"r{n}@example.org" for n in range(count)])
    started = time.perf_counter()
    await asyncio.gather(
        *(bus.publish(Topic.SEND_APPROVED, i, _approval(scenario, i)) for i in ids)
    )
    found = await bus.sent(set(ids))
    finished = time.perf_counter()
    failed = sum(1 for event in found.values() if event.status != "sent")
    deadline = time.monotonic() + 300
    while await _counted(scenario) < count:
        if time.monotonic() > deadline:
            raise RuntimeError("reputation never counted the burst")
        await asyncio.sleep(0.01)
    return Rate(count, finished - started), failed, time.perf_counter() - finished


async def flood(bus: Bus, scenario: Scenario, count: int) -> Rate:
    """Reputation's own ceiling: ``count`` ``sent`` events published at once, timed until it
    has counted them all."""
    events = delivered(
        scenario.workspace_id,
        scenario.inbox_id,
        count,
        start=utcnow() - timedelta(seconds=count),
        step=timedelta(seconds=1),
        prefix="f",
    )
    started = time.perf_counter()
    await asyncio.gather(*(bus.publish(Topic.SENT, e.mail_id, e.to_bytes()) for e in events))
    deadline = time.monotonic() + 600
    while await _counted(scenario) < count:
        if time.monotonic() > deadline:
            raise RuntimeError("reputation never counted the flood")
        await asyncio.sleep(0.05)
    return Rate(count, time.perf_counter() - started)


async def _counted(scenario: Scenario) -> int:
    """Sends reputation has counted for the scenario's inbox."""
    async with scenario.sessions() as db:
        stats = await db.get(SenderStats, scenario.inbox_id)
    return 0 if stats is None else stats.sent_count + stats.failed_count


async def one_at_a_time(bus: Bus, scenario: Scenario, count: int) -> tuple[list[float], int]:
    """Each approval published alone: its time from publish to dispatch's ``sent`` event."""
    ids = await approved(scenario, [f"s{n}@example.org" for n in range(count)])
    latencies, failed = [], 0
    for outbound_id in ids:
        published = time.time()
        await bus.publish(Topic.SEND_APPROVED, outbound_id, _approval(scenario, outbound_id))
        event = (await bus.sent({outbound_id}))[outbound_id]
        latencies.append((event.occurred_at.timestamp() - published) * 1000)
        failed += event.status != "sent"
    return latencies, failed


async def webhooks(bus: Bus, scenario: Scenario, count: int) -> list[float]:
    """``outbound.sent`` inbox events published one at a time, each timed to the receiver's
    2xx (the receiver notes the time as it reads the request and answers 204 at once)."""
    ids = await approved(scenario, [f"w{n}@example.org" for n in range(count)])
    latencies = []
    with WebhookReceiver() as receiver:
        async with scenario.sessions() as db, db.begin():
            await db.execute(
                update(Inbox).where(Inbox.id == scenario.inbox_id).values(webhook_url=receiver.url)
            )
        for outbound_id in ids:
            event = InboxEvent(
                mail_id=outbound_id,
                workspace_id=scenario.workspace_id,
                inbox_id=scenario.inbox_id,
                kind=InboxEventKind.OUTBOUND_SENT,
                message_id=outbound_id,
            )
            before = len(receiver.deliveries)
            published = time.time()
            await bus.publish(Topic.INBOX_EVENTS, outbound_id, event.to_bytes())
            deadline = time.monotonic() + 30
            while len(receiver.deliveries) == before:
                if time.monotonic() > deadline:
                    raise RuntimeError("a webhook never arrived")
                await asyncio.sleep(0.001)
            latencies.append((receiver.deliveries[-1].received_at - published) * 1000)
    return latencies[WARM_UP:]


async def run(
    broker: EmbeddedBroker,
    work_dir: Path,
    count: int,
    paced: int,
    databases: tuple[str, ...] = DATABASES,
) -> dict[str, DispatchResult | str] | str:
    """Dispatch on each of ``databases`` (its result, or why it did not run) beside one
    baseline; or why nothing could run (no Postfix: the relay itself is Postfix's sink)."""
    postfix = await asyncio.to_thread(postfix_tools, work_dir)
    if isinstance(postfix, str):
        return postfix
    sink_port = free_port()
    sink = start_sink(postfix, sink_port)
    results: dict[str, DispatchResult | str] = {}
    try:
        base = await asyncio.to_thread(baseline, postfix, sink_port, count)
        for database in databases:
            if reason := missing(database):
                results[database] = f"not run: {reason}"
                continue
            directory = work_dir / database
            directory.mkdir()
            async with migrated(database, directory, "dispatch") as made:
                results[database] = await _mailmoat(
                    broker, directory, made.url, sink_port, base, count, paced
                )
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    return results


async def _mailmoat(
    broker: EmbeddedBroker,
    work_dir: Path,
    url: str,
    sink_port: int,
    base: Rate,
    count: int,
    paced: int,
) -> DispatchResult:
    settings = CommonSettings(
        database_url=url,
        kafka_bootstrap=broker.bootstrap,
        kafka_idempotence=False,
        kafka_fetch_max_wait_ms=EMBEDDED_FETCH_MAX_WAIT_MS,
        log_level="WARNING",
        topic_prefix=f"dispatch-{work_dir.name}.",
        group_prefix=f"dispatch-{work_dir.name}.",
    )
    await create_topics(settings)
    # One workspace per phase: each stays inside the 500-a-day cap.
    slugs = ("burst", "paced", "hooks", "flood")
    scenarios = [await Scenario.create(settings, slug=s) for s in slugs]
    bursting, pacing, hooking, flooding = scenarios
    keys = {
        settings.mail_domain: {"selector": "bench", "private_key_file": str(dkim_key(work_dir))}
    }
    stack = ProcessStack(
        settings=settings,
        log_dir=work_dir,
        relay_port=sink_port,
        extra_env={
            "MAILMOAT_DKIM_KEYS": json.dumps(keys),
            "MAILMOAT_DKIM_REQUIRED": "true",
            "MAILMOAT_LOG_LEVEL": "WARNING",
        },
    )
    stack.start("dispatch", "reputation")
    try:
        async with Bus(settings, Topic.SENT) as bus:
            await one_at_a_time(bus, pacing, WARM_UP)  # until dispatch's consumers have joined
            rate, burst_failed, lag = await burst(bus, bursting, count)
            latencies, paced_failed = await one_at_a_time(bus, pacing, paced)
            hooks = await webhooks(bus, hooking, paced + WARM_UP)
            ceiling = await flood(bus, flooding, FLOOD)
    finally:
        stack.stop()
        for scenario in scenarios:
            await scenario.close()
    return DispatchResult(base, rate, latencies, burst_failed + paced_failed, hooks, lag, ceiling)


async def main(count: int, paced: int, databases: tuple[str, ...]) -> None:
    from benchmarks import dispatch_report  # it reads this module's results

    broker = EmbeddedBroker()
    broker.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            result = await run(broker, Path(tmp), count, paced, databases)
    finally:
        broker.stop()
    print("\n".join(dispatch_report.section(result, count, paced)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--databases", nargs="+", choices=DATABASES, default=list(DATABASES))
    arguments = parser.parse_args()
    asyncio.run(main(480, 200, tuple(arguments.databases)))
