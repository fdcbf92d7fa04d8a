"""The whole inbound pipeline as production runs it, SMTP to stored for the agent, on SQLite and on
PostgreSQL, beside a bare aiosmtpd server measured in the same run; and where the CPU goes.

Each service is its own ``mailmoat run <service>`` process (``benchmarks/pipeline_stack.py``).
Per database, after a few warm-up mails have gone all the way through:

* sustained: ``count`` DKIM-signed mails over a few SMTP connections as fast as ingest answers;
  SMTP transactions accepted per second with their latency, and mails stored for the agent
  (rows of ``messages``) per second from the first send to the last row;
* the CPU time every process used over that phase (services, broker, PostgreSQL), per stored
  mail;
* paced: mails started at half the storage rate just reached, each one's time from its 250 to
  its row being visible to a reader polling the database (found by the unique token in its
  subject).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from tests.support.peers import WebhookReceiver
from tests.support.zones import TestZone

from benchmarks import smtp_load
from benchmarks.databases import missing
from benchmarks.ingest_bench import RCPT, process
from benchmarks.pipeline_paced import (
    POLL_SECONDS,
    SENDER,
    Reader,
    paced,
    until,
)
from benchmarks.pipeline_report import (
    TITLES,
    DatabaseRun,
    PipelineResults,
    cpu_rows,
    database_rows,
    summary_rows,
)
from benchmarks.pipeline_stack import (
    SERVICES,
    Stack,
    children,
    cpu_seconds,
    production_stack,
)
from benchmarks.profiles import RATE, Profile, rows, sampling
from benchmarks.smtp_load import LoadResult
from mailmoat.cli.dev import EMBEDDED_FETCH_MAX_WAIT_MS
from mailmoat.common.processes import free_port

DATABASES = ("sqlite", "postgresql", "one-process")
"""Each service in its own process on SQLite, then on PostgreSQL; then every service in one
process on SQLite, as ``make run`` runs them."""
CONNECTIONS = 4
WARM_UP = 3
PACE_SHARE = 0.5
"""The paced phase offers this share of the storage rate the sustained phase reached."""
PACED_PHASES = 3
"""Paced phases, one after another: a phase's percentiles spread widely from run to run on this
machine, so the report gives their median and their range."""
REST_SECONDS = 5.0
"""How long the warmed-up stack is watched with no mail, for each process's CPU at rest."""
PROFILES = Path(".cache/profiles")
"""Where the profiled run leaves py-spy's raw stacks."""
BODY = "A line of an ordinary business message.\r\n" * 40


def mail(subject: str) -> bytes:
    """A plain business-like mail of ~1.8 KB (~2.3 KB once signed)."""
    head = (
        f"From: Load <{SENDER}>\r\nTo: {RCPT}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '.')}@sender.example>\r\n\r\n"
    )
    return (head + BODY).encode()


def signed(zone: TestZone, prefix: str, count: int) -> list[bytes]:
    """``count`` mails with subjects ``prefix 0``... signed by sender.example, whose SPF,
    DKIM and DMARC pass against the bench's zone file."""
    return [zone.sign(mail(f"{prefix} {n}"), "sender.example") for n in range(count)]


def allowance(count: int) -> float:
    """How long a phase of ``count`` mails may take before the bench gives up."""
    return 120 + count * 2.0


async def run_on(stack: Stack, zone: TestZone, count: int) -> DatabaseRun:
    """Warm up, measure the stack at rest, then the sustained phase, then the paced one."""
    reader = Reader(stack.settings.database_url)
    try:
        await warm_up(stack, reader, zone)
        before = stack.cpu()
        await asyncio.sleep(REST_SECONDS)
        rest = difference(before, stack.cpu())
        mails = signed(zone, "bench", count)
        work_before = await stack.services.database_work()
        before = stack.cpu()
        started = time.perf_counter()
        load = await smtp_load.peak(stack.smtp_port, RCPT, mails.__getitem__, count, CONNECTIONS)
        accepted_at = time.perf_counter()
        total = WARM_UP + load.accepted

        async def all_stored() -> bool:
            return await reader.stored() >= total

        async def all_counted() -> bool:
            return await reader.graph_count() >= total

        stored_at = await until(all_stored, allowance(count), f"{stack.database}: storing")
        graph_at = await until(all_counted, allowance(0), f"{stack.database}: sender graph")
        cpu = difference(before, stack.cpu())
        work = await stack.services.database_work()
        rate = PACE_SHARE * load.accepted / (stored_at - started)
        with WebhookReceiver() as receiver:
            await reader.point_webhook(receiver.url)
            phases = [
                await paced(
                    stack.smtp_port,
                    reader,
                    receiver,
                    signed(zone, f"pace{n}", paced_count(count)),
                    rate,
                    connections=CONNECTIONS,
                    allowance=allowance(paced_count(count)),
                    prefix=f"pace{n}",
                )
                for n in range(PACED_PHASES)
            ]
    finally:
        await reader.engine.dispose()
    return DatabaseRun(
        database=stack.database,
        load=load,
        stored_seconds=stored_at - started,
        drain_seconds=stored_at - accepted_at,
        graph_lag_seconds=graph_at - stored_at,
        window_seconds=graph_at - started,
        cpu=cpu,
        database_work={
            service: difference(work_before.get(service, {}), counts)
            for service, counts in work.items()
        },
        rest={name: used / REST_SECONDS for name, used in rest.items()},
        paced_rate=rate,
        paced_sent=paced_count(count),
        paced_latencies=[phase.stored for phase in phases],
        webhook_latencies=[phase.webhooks for phase in phases],
        errors=stack.services.errors(),
    )


async def warm_up(stack: Stack, reader: Reader, zone: TestZone) -> None:
    """A few mails all the way to the sender graph: every consumer has joined and fetched."""
    warm = signed(zone, "warm", WARM_UP)
    await smtp_load.peak(stack.smtp_port, RCPT, warm.__getitem__, WARM_UP, connections=1)

    async def warmed() -> bool:
        return await reader.graph_count() >= WARM_UP

    await until(warmed, allowance(WARM_UP), f"{stack.database}: warm-up")


async def profiled(count: int, folder: Path, database: str = "sqlite") -> list[Profile]:
    """A sustained phase of ``count`` mails on a fresh stack of its own, every service process
    sampled by py-spy into ``folder`` (its own run, as sampling takes CPU the measured runs
    must keep)."""
    with tempfile.TemporaryDirectory(prefix="mailmoat-profile-") as tmp:
        work = Path(tmp)
        zone = TestZone.build(work / "zones")
        async with production_stack(database, work, zone) as stack:
            reader = Reader(stack.settings.database_url)
            try:
                await warm_up(stack, reader, zone)
                mails = signed(zone, "bench", count)
                pids = {name: p.pid for name, p in stack.services.processes.items()}
                with sampling(pids, folder / database) as outputs:
                    load = await smtp_load.peak(
                        stack.smtp_port, RCPT, mails.__getitem__, count, CONNECTIONS
                    )

                    async def all_counted() -> bool:
                        return await reader.graph_count() >= WARM_UP + load.accepted

                    await until(all_counted, allowance(count), f"{database}: profiled phase")
            finally:
                await reader.engine.dispose()
    return [Profile.read(name, path) for name, path in outputs.items()]


def profile_section(profiles: list[Profile], count: int, folder: Path) -> list[str]:
    """The Markdown section for BENCHMARKS.md."""
    return [
        "## Where each service's time goes (benchmarks/profiles.py)",
        "",
        "Command: `python -m benchmarks.run --output BENCHMARKS.md`; this section alone:",
        f"`python -m benchmarks.pipeline_bench --profile --count {count}`.",
        "",
        f"A run of its own of the pipeline above on SQLite: {count} mails sustained, every",
        f"service process sampled by py-spy ({RATE} a second) from the first",
        "send until the sender graph counted the last mail. Only samples of a thread at work",
        "count. The first table says where each sample's innermost frame ran, by module; the",
        "second, which of Mailmoat's functions the samples ran under (the function or what it",
        f"called). The raw stacks are in `{folder}` (py-spy's collapsed format, for a flame",
        "graph).",
        "",
        *rows(profiles),
    ]


def difference(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before.get(name, 0.0) for name in after}


def paced_count(count: int) -> int:
    return max(20, count // 8)


async def baseline(zone: TestZone, count: int, work: Path) -> tuple[LoadResult, float]:
    """The same mails and load into a bare aiosmtpd server (its own process) that discards
    them; with the CPU seconds that server used."""
    mails = signed(zone, "bench", count)
    port = free_port()
    command = [sys.executable, "-m", "benchmarks.discard", str(port)]
    with process(command, dict(os.environ), port, work / "discard.log"):
        server = child_running(f"benchmarks.discard\0{port}")
        before = cpu_seconds(server)
        load = await smtp_load.peak(port, RCPT, mails.__getitem__, count, CONNECTIONS)
        return load, cpu_seconds(server) - before


def child_running(arguments: str) -> int:
    """This process's child whose command line holds ``arguments`` (NUL between words)."""
    for pid in children(os.getpid()):
        if arguments.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
            return pid
    raise RuntimeError(f"no child runs {arguments!r}")


async def run(count: int, databases: tuple[str, ...] = DATABASES) -> PipelineResults:
    """The baseline, then the pipeline on each of ``databases``, one after the other."""
    runs: dict[str, DatabaseRun | str] = {}
    with tempfile.TemporaryDirectory(prefix="mailmoat-pipeline-") as tmp:
        work = Path(tmp)
        zone = TestZone.build(work / "zones")
        base, base_cpu = await baseline(zone, count, work)
        for database in databases:
            if reason := missing(database):
                runs[database] = f"not run: {reason}"
                continue
            directory = work / database
            directory.mkdir()
            together = database == "one-process"
            kind = "sqlite" if together else database
            async with production_stack(kind, directory, zone, together=together) as stack:
                runs[database] = await run_on(stack, zone, count)
    return PipelineResults(count, base, base_cpu, runs)


def section(results: PipelineResults) -> list[str]:
    """The Markdown section for BENCHMARKS.md."""
    skipped = [f"{TITLES[d]}: {r}" for d, r in results.runs.items() if isinstance(r, str)]
    count = results.count
    return [
        "## Whole pipeline, as production runs it (benchmarks/pipeline_bench.py)",
        "",
        "Command: `python -m benchmarks.run --output BENCHMARKS.md`; this section alone:",
        f"`python -m benchmarks.pipeline_bench --count {count}`.",
        "",
        f"Each service ({', '.join(SERVICES)})",
        "runs as its own `mailmoat run <service>` process with production's defaults (INFO logs",
        "as JSON lines, metrics and health endpoints on, the learned primary and the rules",
        "checker), beside the embedded broker (tansu; fetch wait "
        f"{EMBEDDED_FETCH_MAX_WAIT_MS} ms, as `mailmoat dev` uses",
        "while mail moves) and either an SQLite file (WAL) or a local PostgreSQL cluster (fsync",
        "on); a fresh broker and database for each. The last column runs every service in one",
        "`mailmoat run <every service>` process on SQLite, as `make run` does: one event loop,",
        "one engine, write transactions taking turns on the process's gate (README, Delivery",
        "guarantees). Readiness: every service's `/healthz/ready`,",
        f"then {WARM_UP} warm-up mails all the way to the sender graph. Sustained: {count} mails",
        "of ~2.3 KB, DKIM-signed and passing SPF, DKIM and DMARC against a zone file, over",
        f"{CONNECTIONS} SMTP connections as fast as ingest answers; stored means a row of",
        "`messages` (what the API reads), timed from the first send to the last row. Paced:",
        f"{PACED_PHASES} phases one after another, each of {paced_count(count)} mails started at",
        f"{PACE_SHARE:.0%} of the storage rate just reached, each mail timed from its 250 to its",
        f"row being seen by a reader polling the database every {POLL_SECONDS * 1000:.0f} ms,",
        "and to its `message.received` webhook reaching a local HTTP receiver (the inbox's",
        "`webhook_url`, set for these phases only: the sustained phase delivers no webhooks);",
        "the median of the phases' p50s and of their p95s, with the p95s' range.",
        "Baseline: bare aiosmtpd accepting and discarding the same mails in its own process,",
        "driven by the same load generator in the same run.",
        "",
        *summary_rows(results),
        "",
        "Where the CPU goes: milliseconds of CPU (user + system, from `/proc`) per stored mail",
        "over the sustained phase, from the first send until the sender graph counted the last",
        "mail; each process with its children, PostgreSQL as its postmaster and every backend",
        "(ended ones too). On SQLite the database work is inside each service's figure. The",
        "bench's own process (load generator, the reader counting rows) is not counted, though",
        "the reader's queries are in PostgreSQL's. At rest: the same processes over",
        f"{REST_SECONDS:.0f} s with no mail after the warm-up, in % of one core: mostly consumers",
        "polling the broker, a cost paid per second whatever the traffic. Beyond its rest rate:",
        "the per-mail figure less that rest rate over the phase, roughly what each further mail",
        "costs: an estimate, since a busy consumer's polls return mail instead of waiting (the",
        "broker's can come out below zero).",
        "",
        *cpu_rows(results),
        "",
        "What each service asks of its database per stored mail over the same window: SQL",
        "statements by kind (other: BEGIN, SAVEPOINT and RELEASE, locks) and transactions",
        "committed, from the `mailmoat_db_statements_total` and `mailmoat_db_commits_total`",
        "counters each process serves. Each statement is a round trip (PostgreSQL) or a hop to",
        "SQLite's thread. Commits count read-only transactions too (dispatch's are all reads",
        "when no webhook listens), which cost no fsync; a commit that wrote costs one.",
        "",
        *database_rows(results),
        *(["", *skipped] if skipped else []),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--databases", nargs="+", choices=DATABASES, default=list(DATABASES))
    parser.add_argument(
        "--profile", action="store_true", help="sample every service with py-spy instead"
    )
    parser.add_argument("--profiles", type=Path, default=PROFILES)
    args = parser.parse_args()
    if args.profile:
        found = asyncio.run(profiled(args.count, args.profiles))
        print("\n".join(profile_section(found, args.count, args.profiles)))
    else:
        print("\n".join(section(asyncio.run(run(args.count, tuple(args.databases))))))
