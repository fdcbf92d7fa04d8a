"""Shared fixtures: a real Kafka-protocol broker and real databases (SQLite and PostgreSQL).

``MAILMOAT_KAFKA_BOOTSTRAP`` and ``DATABASE_URL`` point the suite at existing servers; otherwise
a tansu broker and a throwaway PostgreSQL cluster are started once per session.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from mailmoat.common.embedded_broker import EmbeddedBroker
from mailmoat.common.settings import CommonSettings
from tests.support.databases import fresh_database, isolated_settings
from tests.support.external import SUITE_REPORTS
from tests.support.ingest import ingest, ingest_factory  # noqa: F401  (fixtures)
from tests.support.postgres import ThrowawayPostgres

DATABASES = ("sqlite", "postgresql")

# The deployment secret has no usable default: the suite makes one, and every service process it
# starts inherits it.
os.environ.setdefault("MAILMOAT_WEBHOOK_SECRET_KEY", secrets.token_urlsafe(32))


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    if bootstrap := os.environ.get("MAILMOAT_KAFKA_BOOTSTRAP"):
        yield bootstrap
        return
    broker = EmbeddedBroker()
    broker.start()
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    if url := os.environ.get("DATABASE_URL"):
        yield url.replace("postgresql://", "postgresql+psycopg://", 1)
        return
    cluster = ThrowawayPostgres()
    cluster.start()
    try:
        yield cluster.admin_url
    finally:
        cluster.stop()


@pytest.fixture(params=DATABASES)
def database(request: pytest.FixtureRequest) -> str:
    """Which database a test runs against; integration and e2e tests run against both."""
    return str(request.param)


@pytest.fixture
async def database_url(
    database: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[str]:
    """A fresh, migrated database for one test."""
    admin_url = request.getfixturevalue("postgres_admin_url") if database != "sqlite" else ""
    async with fresh_database(database, tmp_path, admin_url) as url:
        yield url


@pytest.fixture
async def settings(database_url: str, kafka_bootstrap: str) -> CommonSettings:
    """Settings for one test: its own database, topics and consumer groups."""
    return await isolated_settings(database_url, kafka_bootstrap)


STACKS = tuple(f"tests/{folder}/" for folder in ("adversarial", "chaos", "e2e"))
"""Test folders whose tests start whole gateways of processes: under ``pytest -n 2`` (``make
test``) they share one worker, one after another, so two stacks never compete for this
machine's two cores; the other worker takes the in-process tests beside them."""


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """xdist's scheduler, with every stack test in one unit of work and every other test a unit
    of its own. (xdist's ``loadgroup`` marks do not reach its scheduler under this pytest.)"""
    from xdist.scheduler import LoadScopeScheduling

    class StacksTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "stacks" if nodeid.startswith(STACKS) else nodeid

    return StacksTogether(config, log)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A worker hands the suites' pass counts it recorded to the controller, which prints them."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["suite_reports"] = list(SUITE_REPORTS)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    SUITE_REPORTS.extend(getattr(node, "workeroutput", {}).get("suite_reports", []))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the external suites' pass counts at the end of every run."""
    if not SUITE_REPORTS:
        return
    terminalreporter.section("external suites")
    for line in SUITE_REPORTS:
        terminalreporter.write_line(line)
