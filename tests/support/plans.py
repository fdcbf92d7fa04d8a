"""What a statement costs PostgreSQL: the statements a block runs, caught as sent, and the buffers
one of them reads when run again under ``EXPLAIN (ANALYZE, BUFFERS)``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@contextmanager
def statements_sent(engine: AsyncEngine, containing: str) -> Iterator[list[tuple[str, Any]]]:
    """Each statement holding ``containing`` that ``engine`` sends while the block runs, with
    its parameters."""
    ran: list[tuple[str, Any]] = []

    def seen(_conn: object, _cursor: object, statement: str, parameters: Any, *_: object) -> None:
        if containing in statement:
            ran.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        yield ran
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)


async def analysed_plan(engine: AsyncEngine, statement: str, parameters: Any) -> dict[str, Any]:
    """The top node of the statement's plan as run again, with its shared buffer counts."""
    async with engine.connect() as connection:
        plan = await connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement}", parameters
        )
        return dict(plan.scalar_one()[0]["Plan"])
