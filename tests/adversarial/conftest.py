"""The adversarial suite's stack: every service as its own process, on SQLite and on PostgreSQL.

One stack per database serves the whole package (each attack gets inboxes of its own), so the
attacks also show that one tenant's poison never stalls the mail of the others. DNS is a real
server on loopback: every name is NXDOMAIN except under ``BLACK_HOLE``, which never answers.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from mailmoat.cli.bootstrap import bootstrap_workspace
from mailmoat.common.processes import free_port
from tests.conftest import DATABASES
from tests.support.adversary import Adversary
from tests.support.databases import fresh_database, isolated_settings
from tests.support.dns_server import dns_server
from tests.support.peers import SmtpSink, WebhookReceiver
from tests.support.stack import ALL_SERVICES, ProcessStack

BLACK_HOLE = "blackhole.example"
ANALYSIS_TIMEOUT_SECONDS = 4


@pytest.fixture(scope="package")
def dns() -> Iterator[tuple[str, int]]:
    with dns_server(black_holes=(BLACK_HOLE,)) as address:
        yield address


@pytest.fixture(scope="package")
def webhooks() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="package", params=DATABASES)
async def adversary(
    request: pytest.FixtureRequest,
    kafka_bootstrap: str,
    tmp_path_factory: pytest.TempPathFactory,
    dns: tuple[str, int],
    webhooks: WebhookReceiver,
) -> AsyncIterator[Adversary]:
    database = str(request.param)
    admin_url = request.getfixturevalue("postgres_admin_url") if database != "sqlite" else ""
    directory = tmp_path_factory.mktemp(f"adversarial-{database}")
    failed_before = request.session.testsfailed
    with SmtpSink() as sink:
        async with fresh_database(database, directory, admin_url) as url:
            settings = await isolated_settings(url, kafka_bootstrap)
            stack = ProcessStack(
                settings=settings,
                log_dir=directory,
                relay_port=sink.port,
                extra_env=_dns_env(dns),
                service_env={s: _service_env(s) for s in ALL_SERVICES},
                separate=ALL_SERVICES,  # each service's metrics on its own port
            )
            stack.start()
            try:
                async with _clients(stack, url) as (person, agent, sender):
                    yield Adversary(
                        stack, person, agent, webhooks, settings.mail_domain, url, sender, sink
                    )
            finally:
                stack.stop()
                if request.session.testsfailed > failed_before:
                    print(stack.logs())


SWEEP_BATCH = 20
"""Policy's approval sweep batch here (200 by default): a flood larger than one batch takes
seconds to make, not a minute."""


def _service_env(service: str) -> dict[str, str]:
    env = {"MAILMOAT_METRICS_PORT": str(free_port())}
    if service == "policy":
        env["MAILMOAT_APPROVAL_SWEEP_BATCH"] = str(SWEEP_BATCH)
    return env


def _dns_env(dns: tuple[str, int]) -> dict[str, str]:
    host, port = dns
    return {
        "MAILMOAT_DNS_NAMESERVERS": f'["{host}"]',
        "MAILMOAT_DNS_PORT": str(port),
        "MAILMOAT_DNS_TIMEOUT_SECONDS": "1",
        "MAILMOAT_ANALYSIS_TIMEOUT_SECONDS": str(ANALYSIS_TIMEOUT_SECONDS),
    }


@contextlib.asynccontextmanager
async def _clients(
    stack: ProcessStack, database_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, httpx.AsyncClient]]:
    """A person's client (the bootstrap key, which cannot send), a reading agent's (a key that
    may only read mail) and a sending agent's (bootstrap's agent key)."""
    created = await bootstrap_workspace(
        database_url, name="adversarial", plan="startup", agent_key=True
    )
    assert created.agent_key is not None
    async with _client(stack, created.api_key) as person:
        minted = await person.post("/keys", json={"name": "agent", "scopes": ["read:mail"]})
        assert minted.status_code == 201, minted.text
        async with (
            _client(stack, minted.json()["token"]) as agent,
            _client(stack, created.agent_key) as sender,
        ):
            yield person, agent, sender


def _client(stack: ProcessStack, key: str) -> httpx.AsyncClient:
    headers = {"authorization": f"Bearer {key}"}
    return httpx.AsyncClient(base_url=stack.api, headers=headers, timeout=30)
