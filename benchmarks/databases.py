"""The databases every bench runs on: the embedded default (an SQLite file, WAL) and
PostgreSQL (a local throwaway cluster with fsync on, as production runs it). Each run gets a
fresh, migrated one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.postgres import ThrowawayPostgres, postgres_missing

from mailmoat.common.db.migrate import upgrade

DATABASES = ("sqlite", "postgresql")
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass(frozen=True)
class BenchDatabase:
    kind: str
    url: str
    postmaster: int | None = None
    """PostgreSQL's postmaster process id (its CPU is counted); ``None`` on SQLite."""


def missing(kind: str) -> str | None:
    """Why ``kind`` cannot run on this machine, or ``None``."""
    return postgres_missing() if kind == "postgresql" else None


@asynccontextmanager
async def migrated(kind: str, work: Path, name: str = "mailmoat") -> AsyncIterator[BenchDatabase]:
    """A fresh database of ``kind`` at the schema's head: SQLite as ``work/<name>.db``, or
    PostgreSQL as a cluster of its own, stopped and removed afterwards."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{work / f'{name}.db'}"
        await asyncio.to_thread(upgrade, url)
        yield BenchDatabase(kind, url)
        return
    cluster = ThrowawayPostgres(durable=True)
    try:
        await asyncio.to_thread(cluster.start)
        url = await cluster.create_database(name)
        await asyncio.to_thread(upgrade, url)
        yield BenchDatabase(kind, url, cluster.postmaster)
    finally:
        await asyncio.to_thread(cluster.stop)
