"""Locks that make transactions about the same thing take turns.

Two consumers that join two streams (a mail and its verdicts) each write their half and look for
the other's. Under PostgreSQL's READ COMMITTED neither sees the other's uncommitted row, so if
they run together both find the other half missing and neither finishes the join. Taking
``turn_for`` on the shared key first makes the second wait for the first to commit, and its
reads then see what the first wrote.

A batch of such records takes all its turns first, with ``turns_for``: in one statement, and in
the keys' order. Taken one record at a time, in each batch's own order, two batches over the same
mails could each hold a turn the other waits for; PostgreSQL breaks such a cycle after a second by
failing one of the transactions.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from typing import cast

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_HELD = "mailmoat.turns"
"""``session.info`` key: the transaction the turns below were taken in, and their lock keys."""


async def turn_for(session: AsyncSession, scope: str, key: uuid.UUID) -> None:
    """Wait until no other transaction holds ``key`` in ``scope``, then hold it until this
    transaction ends. On SQLite a writing transaction already holds the whole database's write
    lock (every write transaction begins IMMEDIATE), so there is nothing more to take."""
    await turns_for(session, scope, [key])


async def turns_for(session: AsyncSession, scope: str, keys: Iterable[uuid.UUID]) -> None:
    """``turn_for`` each of ``keys``, in one statement and in the order of their lock keys, so
    that transactions taking overlapping sets this way never wait on each other in a cycle.
    Turns this transaction already holds are not asked for again."""
    if session.get_bind().dialect.name != "postgresql":
        return
    held = _held(session)
    wanted = sorted({lock_key(scope, key) for key in keys} - held)
    if not wanted:
        return
    # unnest yields the array's elements in order, and each row's lock is taken as it comes.
    await session.execute(
        text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"),
        {"keys": wanted},
    )
    if not session.in_nested_transaction():  # a savepoint rolled back gives up its locks
        held.update(wanted)


def lock_key(scope: str, key: uuid.UUID) -> int:
    """The signed 64-bit advisory-lock key for ``key`` in ``scope``."""
    digest = hashlib.blake2b(f"{scope}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _held(session: AsyncSession) -> set[int]:
    """The lock keys the session's transaction took outside any savepoint (a new transaction
    holds none)."""
    transaction = session.sync_session.get_transaction()
    taken_in, keys = session.info.get(_HELD, (None, None))
    if taken_in is not transaction or keys is None:
        keys = set()
        session.info[_HELD] = (transaction, keys)
    return cast(set[int], keys)
