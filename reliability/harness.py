"""The system under test: one or two tansu brokers (memory or PostgreSQL storage), PostgreSQL
when asked, the gateway's eight services as processes, the chaos relay, a webhook receiver, and
workspaces ready to take load."""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
from sqlalchemy import select
from tests.support.allowlist import end_cooldowns
from tests.support.databases import fresh_database, isolated_settings
from tests.support.duties import both_keys
from tests.support.peers import WebhookReceiver
from tests.support.postgres import ThrowawayPostgres, _binary
from tests.support.stack import ALL_SERVICES, STARTUP_SECONDS, ProcessStack
from tests.support.waiting import eventually
from tests.support.zones import TestZone

from mailmoat.cli.bootstrap import bootstrap_workspace
from mailmoat.common.db.migrate import upgrade
from mailmoat.common.db.session import create_engine, create_session_factory, reading
from mailmoat.common.db.tables import Message, OutboundMessage
from mailmoat.common.embedded_broker import EmbeddedBroker, storage_engines
from mailmoat.common.processes import free_port
from mailmoat.common.settings import CommonSettings
from reliability.load import Tenant, request_send, smtp_transaction
from reliability.relay import ChaosRelay

STACK_ENV = {
    # Redrive, when the services have it: stuck events go out again after 3 s, looked for each
    # second, so a scenario's recovery is measured in seconds rather than minutes.
    "MAILMOAT_REDRIVE_AFTER_SECONDS": "3",
    "MAILMOAT_REDRIVE_INTERVAL_SECONDS": "1",
    # The shortest allowed: a send left mid-relay by a killed dispatcher is failed after 60 s.
    "MAILMOAT_INTERRUPTED_SEND_SECONDS": "60",
    "MAILMOAT_RELAY_TIMEOUT_SECONDS": "5",
    "MAILMOAT_API_RATE_PER_MINUTE": "100000",
    "MAILMOAT_MAX_CONNECTIONS_PER_IP": "64",
    "MAILMOAT_LOG_LEVEL": "WARNING",
}


BROKER_START_SECONDS = 20.0
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class ChaosPostgres(ThrowawayPostgres):
    """A throwaway cluster that can also crash (``pg_ctl stop -m immediate``) and come back on
    the same port with its data."""

    def halt(self) -> None:
        self._pg(_binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def resume(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.root / "log")
        self._pg(_binary("pg_ctl"), "-D", str(self.data), "-o", options, "-w", "-l", log, "start")


class BrokerUnavailable(RuntimeError):
    """The broker option a scenario needs does not exist (yet)."""


ENGINE_OF_SCHEME = {"postgres": "postgres", "postgresql": "postgres", "s3": "dynostore"}


def _require_engine(url: str) -> None:
    """Refuse, before starting anything, a storage the resolved tansu was not built with."""
    scheme = url.split("://", 1)[0]
    engine = ENGINE_OF_SCHEME.get(scheme, scheme)
    engines = storage_engines()
    if engine not in engines:
        raise BrokerUnavailable(
            f"the bundled tansu is built with storage engines {engines}; "
            f"{scheme}:// storage needs its {engine} engine"
        )


@dataclass(frozen=True)
class BrokerStorage:
    """Where tansu keeps its log: ``url`` None is memory."""

    url: str | None = None


class BrokerProcess:
    """One tansu process on a fixed port, so that a restart comes back where clients look."""

    def __init__(self, log: Path, storage: BrokerStorage) -> None:
        self.port = free_port()
        self.storage = storage
        self._log_path = log
        self._log: IO[bytes] | None = None
        self._broker: EmbeddedBroker | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def process(self) -> subprocess.Popen[bytes]:
        assert self._broker is not None
        assert self._broker._process is not None
        return self._broker._process

    def start(self) -> None:
        options: dict[str, Any] = {"port": self.port}
        if self.storage.url is not None:
            _require_engine(self.storage.url)
            options["storage"] = self.storage.url
        broker = EmbeddedBroker(**options)
        self._log = self._log or self._log_path.open("ab")
        try:
            broker.start(log=self._log, timeout=BROKER_START_SECONDS)
        except TimeoutError as exc:  # its engine is there (checked above): a real failure
            said = ANSI.sub("", self._log_path.read_text(errors="replace")).strip()
            last = (said.splitlines() or ["(it said nothing)"])[-1]
            raise TimeoutError(f"tansu did not start: {last}") from exc
        self._broker = broker

    def forget(self) -> None:
        """After the process was killed from outside: nothing left to stop."""
        if self._broker is not None:
            self._broker._process = None
        self._broker = None

    def stop(self) -> None:
        if self._broker is not None:
            self._broker.stop()
        self._broker = None
        if self._log is not None:
            self._log.close()
            self._log = None


@dataclass
class Infra:
    """Broker(s) and PostgreSQL: owned by a scenario (which may crash them) or borrowed."""

    bootstrap: str
    admin_url: str = ""
    brokers: list[BrokerProcess] = field(default_factory=list)
    postgres: ChaosPostgres | None = None


@contextlib.asynccontextmanager
async def own_infra(
    work_dir: Path, *, postgres: bool, broker_storage: str = "memory", brokers: int = 1
) -> AsyncIterator[Infra]:
    """Start what a scenario may crash: PostgreSQL (when the database or the broker's storage
    needs it) and ``brokers`` tansu processes sharing one storage: ``memory`` (each its own),
    ``postgres`` (a database on the cluster) or a tansu storage URL."""
    cluster = ChaosPostgres() if postgres or broker_storage == "postgres" else None
    started: list[BrokerProcess] = []
    try:
        if cluster is not None:
            await asyncio.to_thread(cluster.start)
        storage = await _storage(broker_storage, cluster)
        for n in range(brokers):
            broker = BrokerProcess(work_dir / f"tansu-{n}.log", storage)
            started.append(broker)
            await asyncio.to_thread(broker.start)
        bootstrap = ",".join(b.bootstrap for b in started)
        admin = cluster.admin_url if cluster is not None and postgres else ""
        yield Infra(bootstrap, admin, started, cluster)
    finally:
        for broker in started:
            broker.stop()
        if cluster is not None:
            await asyncio.to_thread(cluster.stop)


async def _storage(choice: str, cluster: ChaosPostgres | None) -> BrokerStorage:
    """``memory``; ``postgres``: a database of the cluster, as the issue asks of tansu; or a
    storage URL of tansu's own (``s3://...``, reached through the ``AWS_*`` variables)."""
    if choice == "memory":
        return BrokerStorage()
    if choice == "postgres":
        assert cluster is not None
        await cluster.create_database("tansu")
        return BrokerStorage(f"postgres://mailmoat@127.0.0.1:{cluster.port}/tansu")
    return BrokerStorage(choice)


@dataclass
class Gateway:
    """The running gateway and the peers it talks to."""

    infra: Infra
    database: str
    settings: CommonSettings
    processes: ProcessStack
    relay: ChaosRelay
    webhooks: WebhookReceiver
    tenants: list[Tenant] = field(default_factory=list)

    async def tenant(self, recipients: int) -> Tenant:
        """A fresh workspace with an L3 inbox that has a webhook, and ``recipients`` addresses
        on its allowlist, their cooldown over."""
        name = f"chaos-{uuid.uuid4().hex[:8]}"
        made = await bootstrap_workspace(
            self.settings.database_url, name=name, plan="developer", agent_key=True
        )
        auth = both_keys(made.api_key, made.agent_key)
        client = httpx.AsyncClient(base_url=self.processes.api, auth=auth, timeout=30)
        try:
            inbox = {"slug": name, "security_level": "L3", "webhook_url": self.webhooks.url}
            created = (await client.post("/inboxes", json=inbox)).raise_for_status()
            addresses = [f"{name}.r{n}@example.org" for n in range(recipients)]
            for address in addresses:
                (await client.post("/allowlist", json={"address": address})).raise_for_status()
            await end_cooldowns(self.settings)
        except BaseException:
            await client.aclose()
            raise
        tenant = Tenant(made.workspace_id, client, name, created.json()["address"], addresses)
        self.tenants.append(tenant)
        return tenant

    async def warm_up(self, tenant: Tenant) -> None:
        """Until a mail is stored and a send relayed: every consumer group has joined."""
        token = f"w-{uuid.uuid4().hex[:10]}"

        async def answered() -> bool:
            outcome, _ = await smtp_transaction(self.processes.smtp_port, tenant.address, token)
            return outcome == "accepted"

        await eventually(answered, timeout=STARTUP_SECONDS, what="ingest to answer 250")
        body = {"to": [tenant.hot], "subject": "chaos warm-up", "text": "warm-up\n"}
        sent = await request_send(tenant, body)
        assert not isinstance(sent, str), f"the warm-up send was refused: {sent}"
        engine = create_engine(self.settings.database_url)
        sessions = create_session_factory(engine)

        async def flowing() -> bool:
            with reading():  # on SQLite: DEFERRED, never holding the services' write lock
                return await _flowing()

        async def _flowing() -> bool:
            async with sessions() as session:
                stored = await session.scalar(
                    select(Message.id).where(
                        Message.message_id_header == f"<{token}@sender.example>"
                    )
                )
                outbound = await session.get(OutboundMessage, sent[0])
            return stored is not None and outbound is not None and outbound.status == "sent"

        try:
            await eventually(flowing, timeout=STARTUP_SECONDS, what="the pipeline to flow")
        finally:
            await engine.dispose()

    async def close(self) -> None:
        for tenant in self.tenants:
            await tenant.client.aclose()


@contextlib.asynccontextmanager
async def _database(infra: Infra, database: str, directory: Path) -> AsyncIterator[str]:
    """A fresh database migrated to head. On a cluster of the scenario's own (which it may have
    crashed, leaving pooled connections dead) it is never dropped: the cluster goes whole."""
    if database != "postgresql" or infra.postgres is None:
        async with fresh_database(database, directory, infra.admin_url) as url:
            yield url
        return
    name = f"chaos_{uuid.uuid4().hex[:8]}"
    await infra.postgres.create_database(name)
    url = infra.postgres.url_for(name)
    await asyncio.to_thread(upgrade, url)
    yield url


@contextlib.asynccontextmanager
async def open_gateway(
    infra: Infra,
    database: str,
    work_dir: Path,
    *,
    env: dict[str, str] | None = None,
    database_dir: Path | None = None,
) -> AsyncIterator[Gateway]:
    """A fresh database (SQLite in ``database_dir``, by default ``work_dir``) and every service
    started against ``infra``, with ``STACK_ENV`` and ``env`` on top."""
    async with _database(infra, database, database_dir or work_dir) as url:
        settings = await isolated_settings(url, infra.bootstrap)
        zone = TestZone.build(work_dir / "zones")
        logs = work_dir / "logs"
        logs.mkdir(exist_ok=True)
        with ChaosRelay() as relay, WebhookReceiver() as webhooks:
            extra = {**STACK_ENV, "MAILMOAT_DNS_ZONE_FILE": str(zone.directory), **(env or {})}
            # Faults kill and stall services one by one: each runs in its own process.
            stack = ProcessStack(settings, logs, relay.port, extra_env=extra, separate=ALL_SERVICES)
            gateway = Gateway(infra, database, settings, stack, relay, webhooks)
            try:
                await asyncio.to_thread(stack.start)
                yield gateway
            finally:
                await gateway.close()
                await asyncio.to_thread(stack.stop)
