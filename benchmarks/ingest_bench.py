"""Ingest against a bare discard server: peak rate per core and latency at 70% of peak.

Each server under test runs alone in its own process (one core); the load generator runs here.
Mailmoat's ingest parses, checks SPF/DKIM/DMARC/ARC against a zone file, runs the L1 checks and
commits with its outbox event before every 250: to a fresh SQLite file (WAL, synchronous=FULL),
then to a PostgreSQL cluster (fsync on).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from tests.support.zones import TestZone

from benchmarks import smtp_load
from benchmarks.databases import DATABASES, migrated, missing
from benchmarks.smtp_load import LoadResult
from mailmoat.common.bus import create_topics
from mailmoat.common.db.session import create_engine, create_session_factory
from mailmoat.common.db.tables import Inbox, Workspace
from mailmoat.common.embedded_broker import EmbeddedBroker
from mailmoat.common.processes import free_port, terminate_all, wait_for_port
from mailmoat.common.settings import CommonSettings
from mailmoat.ingest.adapters.dns.static import StaticResolver
from mailmoat.ingest.adapters.store import Envelope
from mailmoat.ingest.analysis import analyse
from mailmoat.ingest.domain.mime import MimeLimits

RCPT = "bench@agents.mailmoat.localhost"
SIZES = (5 * 1024, 50 * 1024)


@dataclass(frozen=True)
class SizeResult:
    size: int
    peak: LoadResult
    paced: LoadResult
    analysis_ms: float = 0.0
    """Parse + authenticate + L1 checks of one mail, in process, without SMTP or the database."""


def analysis_cost(zone: TestZone, size: int, rounds: int = 100) -> float:
    """Milliseconds per mail for ingest's analysis alone: the floor under its per-mail cost."""
    resolver = StaticResolver.from_zone_file(zone.directory)
    envelope = Envelope("load@sender.example", "127.0.0.1", "load.sender.example")
    mails = signed_mails(zone, size)
    started = time.perf_counter()
    for n in range(rounds):
        analyse(mails(n), envelope, resolver=resolver, authserv_id="mx", limits=MimeLimits())
    return (time.perf_counter() - started) / rounds * 1000


@contextmanager
def process(args: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[None]:
    with open(log, "ab") as out:
        child = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port("127.0.0.1", port, timeout=60)
        yield
    finally:
        terminate_all([child])


async def seed(database_url: str) -> None:
    engine = create_engine(database_url)
    async with create_session_factory(engine)() as session, session.begin():
        workspace = Workspace(id=uuid.uuid4(), name="bench", plan="enterprise")
        session.add(workspace)
        await session.flush()
        session.add(
            Inbox(workspace_id=workspace.id, slug="bench", address=RCPT, security_level="L2")
        )
    await engine.dispose()


def ingest_env(settings: CommonSettings, port: int, zone: Path) -> dict[str, str]:
    return {
        **os.environ,
        "MAILMOAT_DATABASE_URL": settings.database_url,
        "MAILMOAT_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "MAILMOAT_KAFKA_IDEMPOTENCE": "false",
        "MAILMOAT_LOG_LEVEL": "WARNING",
        "MAILMOAT_SMTP_PORT": str(port),
        "MAILMOAT_DNS_ZONE_FILE": str(zone),
        "MAILMOAT_MAX_CONNECTIONS_PER_IP": "64",
        "MAILMOAT_MAX_TRANSACTIONS_PER_CONNECTION": "100000",
        "MAILMOAT_METRICS_PORT": str(free_port()),
    }


async def measure(port: int, zone: TestZone, count: int) -> list[SizeResult]:
    """Peak (closed loop, 8 connections) then paced at 70% of that peak, per message size."""
    results = []
    for size in SIZES:
        mail = signed_mails(zone, size)
        n = count if size < 10_000 else count // 2
        peak = await smtp_load.peak(port, RCPT, mail, n, connections=8)
        paced = await smtp_load.paced(port, RCPT, mail, rate=0.7 * peak.per_second, seconds=5)
        results.append(SizeResult(size, peak, paced))
    return results


def signed_mails(zone: TestZone, size: int) -> smtp_load.MailFactory:
    """Mails DKIM-signed by sender.example (50 distinct ones), so verification is in the cost."""
    signed = [zone.sign(smtp_load.make_mail(size, n, RCPT), "sender.example") for n in range(50)]
    return lambda n: signed[n % len(signed)]


async def run(
    broker: EmbeddedBroker, work: Path, count: int, databases: tuple[str, ...] = DATABASES
) -> tuple[list[SizeResult], dict[str, list[SizeResult] | str]]:
    """The discard baseline, then ingest on a fresh database of each of ``databases`` (its
    results, or why it did not run)."""
    zone = TestZone.build(work / "zones")
    log = work / "servers.log"
    port = free_port()
    with process(
        [sys.executable, "-m", "benchmarks.discard", str(port)], dict(os.environ), port, log
    ):
        baseline = await measure(port, zone, count)
    ours: dict[str, list[SizeResult] | str] = {}
    for database in databases:
        if reason := missing(database):
            ours[database] = f"not run: {reason}"
            continue
        async with migrated(database, work, f"ingest-{database}") as made:
            settings = CommonSettings(
                database_url=made.url,
                kafka_bootstrap=broker.bootstrap,
                kafka_idempotence=False,
                log_level="WARNING",
            )
            await create_topics(settings)
            await seed(made.url)
            port = free_port()
            command = [sys.executable, "-m", "mailmoat.cli", "run", "ingest"]
            with process(command, ingest_env(settings, port, zone.directory), port, log):
                measured = await measure(port, zone, count)
        ours[database] = [replace(r, analysis_ms=analysis_cost(zone, r.size)) for r in measured]
    return baseline, ours


async def main(count: int, databases: tuple[str, ...]) -> None:
    from benchmarks.run import ingest_rows  # the report's table, as make bench writes it

    broker = EmbeddedBroker()
    broker.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            results = await run(broker, Path(tmp), count, databases)
    finally:
        broker.stop()
    print("\n".join(ingest_rows(results)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--databases", nargs="+", choices=DATABASES, default=list(DATABASES))
    arguments = parser.parse_args()
    asyncio.run(main(arguments.count, tuple(arguments.databases)))
