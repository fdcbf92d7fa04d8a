"""The soak's instruments: the pipeline's capacity measured in a short burst, and every 10 s each
process's memory and open files, each consumer group's lag and the outbox's unpublished rows;
at the end, whether any of them grew from the first third of the run to the last."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import Select, func, select

from mailmoat.common.db.session import create_engine, create_session_factory, reading
from mailmoat.common.db.tables import Message, OutboxRecord
from mailmoat.common.topics import Topic
from reliability.harness import Gateway
from reliability.load import Tenant, smtp_transaction

CONSUMERS = {
    "scanner-primary": Topic.RAW_MAIL,
    "scanner-checker": Topic.RAW_MAIL,
    "scanner-consensus-intake": Topic.RAW_MAIL,
    "scanner-consensus": Topic.SCAN_VERDICTS,
    "scanner-consensus-graph": Topic.SENDER_GRAPH,
    "policy-inbound": Topic.SCANNED_MAIL,
    "policy-outbound": Topic.SEND_REQUESTED,
    "policy-sender-status": Topic.SENDER_STATUS,
    "dispatch-mail": Topic.SEND_APPROVED,
    "dispatch-webhooks": Topic.INBOX_EVENTS,
    "dispatch-audit": Topic.AUDIT,
    "reputation-sent": Topic.SENT,
    "reputation-feedback": Topic.FEEDBACK,
    "reputation-sender-status": Topic.SENDER_STATUS,
    "reputation-scanned": Topic.SCANNED_MAIL,
    "reputation-releases": Topic.INBOX_EVENTS,
}
"""Consumer groups and their topics, as in the table of ``mailmoat.common.topics``."""
GROWTH_FLOOR = {
    "rss_mb": 40.0,
    "open_files": 20.0,
    "consumer_lag": 200.0,
    "outbox_unpublished": 200.0,
}
"""Growth below these absolute amounts is noise, whatever its ratio."""
GROWTH_RATIO = 1.5


@dataclass
class Series:
    """One measure over time."""

    measure: str
    owner: str
    values: list[float] = field(default_factory=list)

    def thirds(self) -> tuple[float, float]:
        third = max(1, len(self.values) // 3)
        return statistics.fmean(self.values[:third]), statistics.fmean(self.values[-third:])

    @property
    def grows(self) -> bool:
        first, last = self.thirds()
        return last - first > GROWTH_FLOOR[self.measure] and last > first * GROWTH_RATIO


async def measure_capacity(gateway: Gateway, tenant: Tenant, mails: int) -> float:
    """Mails per second from SMTP to stored, sending ``mails`` over 8 connections at once."""
    run = uuid.uuid4().hex[:10]
    tokens = [f"m-{run}-{n}" for n in range(mails)]
    queue = iter(tokens)
    accepted: list[str] = []

    async def sender() -> None:
        for token in queue:
            outcome, _ = await smtp_transaction(gateway.processes.smtp_port, tenant.address, token)
            if outcome == "accepted":
                accepted.append(token)

    started = time.monotonic()
    await asyncio.gather(*(sender() for _ in range(8)))
    headers = [f"<{token}@sender.example>" for token in accepted]
    query = select(func.count()).where(Message.message_id_header.in_(headers))
    while await count(gateway, query) < len(headers) and time.monotonic() - started < 600:  # noqa: ASYNC110  (polling the database)
        await asyncio.sleep(0.5)
    return len(headers) / (time.monotonic() - started)


async def count(gateway: Gateway, query: Select[int]) -> int:
    """The number ``query`` counts, read in a transaction of its own that takes no lock."""
    engine = create_engine(gateway.settings.database_url)
    try:
        with reading():  # on SQLite: DEFERRED, never holding the services' write lock
            async with create_session_factory(engine)() as session:
                return int(await session.scalar(query) or 0)
    finally:
        await engine.dispose()


class Sampler:
    """Samples every ``interval`` seconds until stopped."""

    def __init__(self, gateway: Gateway, interval: float = 10.0) -> None:
        self.gateway = gateway
        self.interval = interval
        self.series: dict[tuple[str, str], Series] = {}
        self._groups: dict[str, AIOKafkaConsumer] = {}
        self._ends: AIOKafkaConsumer | None = None

    def add(self, measure: str, owner: str, value: float) -> None:
        self.series.setdefault((measure, owner), Series(measure, owner)).values.append(value)

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                await self.sample()
                await asyncio.sleep(self.interval)
        finally:
            for consumer in [*self._groups.values(), *([self._ends] if self._ends else [])]:
                await consumer.stop()

    async def sample(self) -> None:
        processes = {name: p.pid for name, p in self.gateway.processes.processes.items()}
        for n, broker in enumerate(self.gateway.infra.brokers):
            processes[f"tansu-{n}"] = broker.process.pid
        for name, pid in processes.items():
            rss, files = _process_figures(pid)
            self.add("rss_mb", name, rss)
            self.add("open_files", name, files)
        try:
            for group, lag in (await self._lags()).items():
                self.add("consumer_lag", group, lag)
        except Exception:  # noqa: S110  (a sample missed is not a failure of the gateway)
            pass
        self.add("outbox_unpublished", "outbox", await self._outbox())

    async def _outbox(self) -> int:
        return await count(
            self.gateway, select(func.count()).where(OutboxRecord.published_at.is_(None))
        )

    async def _lags(self) -> dict[str, int]:
        settings = self.gateway.settings
        if self._ends is None:
            self._ends = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
            await self._ends.start()
        lags = {}
        for group, topic in CONSUMERS.items():
            name = settings.topic(topic.value)
            await self._ends.topics()  # refreshes the metadata that names the partitions
            partitions = [
                TopicPartition(name, p) for p in self._ends.partitions_for_topic(name) or ()
            ]
            ends = await self._ends.end_offsets(partitions)
            consumer = await self._group(group)
            committed = [await consumer.committed(tp) for tp in partitions]
            lags[group] = sum(
                ends[tp] - (c or 0) for tp, c in zip(partitions, committed, strict=True)
            )
        return lags

    async def _group(self, group: str) -> AIOKafkaConsumer:
        """A consumer that only reads the group's committed offsets (it never joins)."""
        if group not in self._groups:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self.gateway.settings.kafka_bootstrap,
                group_id=self.gateway.settings.group(group),
                enable_auto_commit=False,
            )
            await consumer.start()
            self._groups[group] = consumer
        return self._groups[group]


def _process_figures(pid: int) -> tuple[float, int]:
    """Resident memory (MB) and open file descriptors of a live process (0, 0 once gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        files = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0.0, 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024, files
    return 0.0, files
