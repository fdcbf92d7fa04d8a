"""Each service's database statements and commits, counted apart where services share one
process and one engine (``mailmoat dev``), on both databases."""

from __future__ import annotations

import asyncio

from prometheus_client import REGISTRY
from sqlalchemy import func, select

from mailmoat.common.db.session import create_engine, create_session_factory
from mailmoat.common.db.tables import Workspace
from mailmoat.common.observability.logging import set_log_service

KINDS = ("select", "insert", "update", "delete", "other")


def _counts(service: str) -> dict[str, float]:
    counts = {
        kind: REGISTRY.get_sample_value(
            "mailmoat_db_statements_total", {"service": service, "kind": kind}
        )
        or 0.0
        for kind in KINDS
    }
    commits = REGISTRY.get_sample_value("mailmoat_db_commits_total", {"service": service})
    return {**counts, "commits": commits or 0.0}


async def test_statements_and_commits_are_counted_for_the_service_that_sent_them(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    reader, writer = "probe-reader", "probe-writer"
    before = {name: _counts(name) for name in (reader, writer)}

    async def read() -> None:
        set_log_service(reader)
        for _ in range(3):
            async with sessions() as session:
                await session.scalar(select(func.count()).select_from(Workspace))

    async def write() -> None:
        set_log_service(writer)
        async with sessions() as session, session.begin():
            session.add(Workspace(name="counted", plan="developer"))

    try:
        await asyncio.gather(read(), write())
    finally:
        await engine.dispose()
    read_delta = {k: v - before[reader][k] for k, v in _counts(reader).items()}
    write_delta = {k: v - before[writer][k] for k, v in _counts(writer).items()}
    assert (read_delta["select"], read_delta["insert"]) == (3, 0)
    assert (write_delta["select"], write_delta["insert"], write_delta["commits"]) == (0, 1, 1)
