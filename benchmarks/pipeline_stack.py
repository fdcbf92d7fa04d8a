"""The gateway as production runs it, for the pipeline bench: every inbound service as its own
``mailmoat run <service>`` process, the embedded broker (tansu), and either an SQLite file or a
local PostgreSQL cluster; and the CPU time each of those processes has used, read from
``/proc`` so that the bench can say where the CPU goes.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from tests.support.zones import TestZone

from benchmarks.databases import migrated
from benchmarks.ingest_bench import seed
from mailmoat.cli.dev import EMBEDDED_FETCH_MAX_WAIT_MS, EMBEDDED_PROMPT_FETCH_MAX_WAIT_MS
from mailmoat.common.bus import create_topics
from mailmoat.common.embedded_broker import EmbeddedBroker
from mailmoat.common.processes import die_with_parent, free_port, listening
from mailmoat.common.settings import CommonSettings

SERVICES = (
    "ingest",
    "scanner-primary",
    "scanner-checker",
    "scanner-consensus",
    "policy",
    "reputation",
    "dispatch",
)
"""What inbound mail passes through (the gateway only serves the API, so it is left out)."""
DETECTORS = ("scanner-primary", "scanner-checker")
ONE_PROCESS = "every service, one process"
"""The one process of the embedded mode (``mailmoat run`` with every service, as ``make run``
runs them on one event loop and one engine)."""
BROKER = "broker (tansu)"
POSTGRES = "PostgreSQL (postmaster and backends)"
STARTUP_SECONDS = 240.0
"""How long seven processes importing at once may take to be ready on a busy machine."""
STOP_SECONDS = 20.0
TICKS = os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The live children of ``pid`` (Linux ``/proc``); none once it has gone."""
    found: list[int] = []
    with suppress(FileNotFoundError, ProcessLookupError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with suppress(FileNotFoundError, ProcessLookupError):
                found += [int(child) for child in (task / "children").read_text().split()]
    return found


def cpu_seconds(pid: int) -> float:
    """User and system CPU time used by ``pid``, by the children it has already waited for
    (PostgreSQL's backends that ended, say), and by its live descendants."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    own = sum(int(value) for value in fields[11:15]) / TICKS  # utime stime cutime cstime
    return own + sum(cpu_seconds(child) for child in children(pid))


def broker_pid(broker: EmbeddedBroker) -> int:
    """The broker's process: this process's child whose command line names its listener."""
    listener = f"tcp://{broker.bootstrap}".encode()
    for pid in children(os.getpid()):
        with suppress(FileNotFoundError, ProcessLookupError):
            if listener in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
    raise RuntimeError(f"no child process runs the broker on {broker.bootstrap}")


@dataclass
class ServiceProcesses:
    """``mailmoat run <service>`` for each of ``SERVICES``, each in a session (process group)
    of its own, with its health endpoint on a port of its own."""

    env: dict[str, str]
    log_dir: Path
    together: bool = False
    """Every service in one process (``ONE_PROCESS``) rather than one process each."""
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    health_ports: dict[str, int] = field(default_factory=dict)

    def start(self) -> None:
        groups = {ONE_PROCESS: list(SERVICES)} if self.together else {n: [n] for n in SERVICES}
        for name, services in groups.items():
            port = free_port()
            env = {**self.env, "MAILMOAT_METRICS_PORT": str(port)}
            with open(self.log_dir / f"{name}.log", "ab") as log:  # the child keeps its copy
                self.processes[name] = subprocess.Popen(
                    [sys.executable, "-m", "mailmoat.cli", "run", *services],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    preexec_fn=die_with_parent,
                )
            self.health_ports[name] = port

    async def ready(self) -> None:
        """Wait until every service's ``/healthz/ready`` answers 200: its database and broker
        answer and each of its consumer groups holds an assignment."""
        waiting = dict(self.health_ports)
        deadline = time.monotonic() + STARTUP_SECONDS
        async with httpx.AsyncClient(timeout=5) as client:
            while waiting:
                for name, port in list(waiting.items()):
                    if self.processes[name].poll() is not None:
                        raise RuntimeError(f"{name} exited while starting")
                    try:
                        answer = await client.get(f"http://127.0.0.1:{port}/healthz/ready")
                    except httpx.HTTPError:
                        continue
                    if answer.status_code == 200:
                        del waiting[name]
                if waiting and time.monotonic() > deadline:
                    raise TimeoutError(f"not ready after {STARTUP_SECONDS:.0f} s: {list(waiting)}")
                await asyncio.sleep(0.5)

    def cpu(self) -> dict[str, float]:
        return {name: cpu_seconds(process.pid) for name, process in self.processes.items()}

    async def database_work(self) -> dict[str, dict[str, float]]:
        """Each service's database statements by kind, and its commits (``commits``), so far:
        the ``mailmoat_db_*`` counters its process serves on ``/metrics``."""
        work: dict[str, dict[str, float]] = {}
        async with httpx.AsyncClient(timeout=10) as client:
            for port in self.health_ports.values():
                text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
                for family in text_string_to_metric_families(text):
                    for sample in family.samples:
                        if sample.name == "mailmoat_db_statements_total":
                            kind = sample.labels["kind"]
                        elif sample.name == "mailmoat_db_commits_total":
                            kind = "commits"
                        else:
                            continue
                        service = work.setdefault(sample.labels["service"], {})
                        service[kind] = service.get(kind, 0.0) + sample.value
        return work

    def stop(self) -> None:
        """SIGTERM to each process group, then SIGKILL to any that outstays ``STOP_SECONDS``."""
        for process in self.processes.values():
            if process.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()

    def errors(self) -> int:
        """Lines logged at ERROR or worse, and tracebacks, across the services' logs."""
        marks = ('"level": "ERROR"', '"level": "CRITICAL"', "Traceback")
        return sum(
            any(mark in line for mark in marks)
            for path in self.log_dir.glob("*.log")
            for line in path.read_text(errors="replace").splitlines()
        )

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
            for path in sorted(self.log_dir.glob("*.log"))
        )


@dataclass(frozen=True)
class Stack:
    """A running gateway: where to send mail, and how to read its processes' CPU time."""

    database: str
    settings: CommonSettings
    smtp_port: int
    services: ServiceProcesses
    others: dict[str, int]
    """Processes beside the services (the broker, the PostgreSQL cluster) by name."""

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far by each service and each process of ``others``."""
        return {**self.services.cpu(), **{n: cpu_seconds(p) for n, p in self.others.items()}}


def environment(settings: CommonSettings, smtp_port: int, zone: TestZone) -> dict[str, str]:
    """What every service process reads: the inherited environment without any ``MAILMOAT_*``
    of the caller's, then the stack's own settings. Everything else keeps production's
    defaults (INFO logs, JSON lines, outbox poll, redrive, detectors)."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("MAILMOAT_")}
    return {
        **inherited,
        "MAILMOAT_DATABASE_URL": settings.database_url,
        "MAILMOAT_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "MAILMOAT_KAFKA_IDEMPOTENCE": "false",
        "MAILMOAT_KAFKA_FETCH_MAX_WAIT_MS": str(settings.kafka_fetch_max_wait_ms),
        "MAILMOAT_KAFKA_PROMPT_FETCH_MAX_WAIT_MS": str(settings.fetch_max_wait_ms(prompt=True)),
        "MAILMOAT_WEBHOOK_SECRET_KEY": settings.webhook_secret_key.get_secret_value(),
        "MAILMOAT_SMTP_PORT": str(smtp_port),
        "MAILMOAT_DNS_ZONE_FILE": str(zone.directory),
        "MAILMOAT_MAX_TRANSACTIONS_PER_CONNECTION": "1000000",
        "MAILMOAT_RELAY_PORT": str(free_port()),
        "MAILMOAT_RELAY_STARTTLS": "false",
        "MAILMOAT_EGRESS_ALLOWED_NETWORKS": '["127.0.0.0/8"]',  # the paced phase's webhook
    }


@asynccontextmanager
async def production_stack(
    database: str, work: Path, zone: TestZone, *, together: bool = False
) -> AsyncIterator[Stack]:
    """The broker, the database (``sqlite`` or ``postgresql``) migrated with topics created and
    the bench's inbox, and every service ready (``together``: in one process); all of it
    stopped and removed afterwards."""
    broker = EmbeddedBroker()
    broker.start()
    try:
        async with migrated(database, work) as made:
            others = {BROKER: broker_pid(broker)}
            if made.postmaster is not None:
                others[POSTGRES] = made.postmaster
            settings = CommonSettings(
                database_url=made.url,
                kafka_bootstrap=broker.bootstrap,
                kafka_idempotence=False,
                kafka_fetch_max_wait_ms=EMBEDDED_FETCH_MAX_WAIT_MS,
                kafka_prompt_fetch_max_wait_ms=EMBEDDED_PROMPT_FETCH_MAX_WAIT_MS,
                webhook_secret_key=SecretStr(secrets.token_urlsafe(32)),
            )
            await create_topics(settings)
            await seed(made.url)
            smtp_port = free_port()
            log_dir = work / "logs"
            log_dir.mkdir()
            services = ServiceProcesses(environment(settings, smtp_port, zone), log_dir, together)
            services.start()
            try:
                await services.ready()
                async with asyncio.timeout(STARTUP_SECONDS):
                    await listening("127.0.0.1", smtp_port)
            except (TimeoutError, RuntimeError) as failed:
                services.stop()
                raise RuntimeError(f"{database}: {failed}\n{services.logs()}") from failed
            try:
                yield Stack(database, settings, smtp_port, services, others)
            finally:
                services.stop()
    finally:
        broker.stop()
