"""Shared fixtures: a real Kafka-protocol broker and real databases (SQLite and PostgreSQL).

``MAILMOAT_KAFKA_BOOTSTRAP`` and ``DATABASE_URL`` point the suite at existing servers; otherwise
a tansu broker and a throwaway PostgreSQL cluster are started once per session.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from mailmoat.common.bus import create_topics
from mailmoat.common.db.migrate import upgrade
from mailmoat.common.embedded_broker import EmbeddedBroker
from mailmoat.common.settings import CommonSettings
from tests.support.external import SUITE_REPORTS
from tests.support.ingest import ingest, ingest_factory  # noqa: F401  (fixtures)
from tests.support.postgres import ThrowawayPostgres

DATABASES = ("sqlite", "postgresql")


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
    if database == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'mailmoat.db'}"
        await asyncio.to_thread(upgrade, url)
        yield url
        return
    admin_url = request.getfixturevalue("postgres_admin_url")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    await asyncio.to_thread(upgrade, url)
    try:
        yield url
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture
async def settings(database_url: str, kafka_bootstrap: str) -> CommonSettings:
    """Settings for one test: its own database, topics and consumer groups."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    result = CommonSettings(
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        kafka_idempotence=False,
        topic_prefix=prefix,
        group_prefix=prefix,
        kafka_session_timeout_ms=6000,
        kafka_fetch_max_wait_ms=10,
        outbox_poll_seconds=0.05,
        log_json=False,
    )
    await create_topics(result, partitions=2)
    return result


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the external suites' pass counts at the end of every run."""
    if not SUITE_REPORTS:
        return
    terminalreporter.section("external suites")
    for line in SUITE_REPORTS:
        terminalreporter.write_line(line)
