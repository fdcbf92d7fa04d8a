"""Locks that make transactions about the same thing take turns.

Two consumers that join two streams (a mail and its verdicts) each write their half and look for
the other's. Under PostgreSQL's READ COMMITTED neither sees the other's uncommitted row, so if
they run together both find the other half missing and neither finishes the join. Taking
``turn_for`` on the shared key first makes the second wait for the first to commit, and its
reads then see what the first wrote.
"""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def turn_for(session: AsyncSession, scope: str, key: uuid.UUID) -> None:
    """Wait until no other transaction holds ``key`` in ``scope``, then hold it until this
    transaction ends. On SQLite a writing transaction already holds the whole database's write
    lock (every write transaction begins IMMEDIATE), so there is nothing more to take."""
    if session.get_bind().dialect.name != "postgresql":
        return
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(scope, key)})


def lock_key(scope: str, key: uuid.UUID) -> int:
    """The signed 64-bit advisory-lock key for ``key`` in ``scope``."""
    digest = hashlib.blake2b(f"{scope}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
