"""The index of flagged inbound mail for the outbound copy check: each mail held for REVIEW or
WITHHELD is fingerprinted once, when policy stores it, and each hash of its fingerprint is a row
keyed by (workspace, hash). A draft then finds the flagged mails it may repeat by looking up its
own hashes: a decision reads a bounded number of rows, never the mails.

Mails stored before the index existed are fingerprinted afterwards, a few at a time, by
``backfill_fingerprints``: the ones the copy check still looks at (flagged, received in the
lookback) first, newest first. Until its turn comes such a mail is not seen by the check.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.session import SessionFactory, reading
from mailmoat.common.db.tables import FlaggedShingle, Message
from mailmoat.policy.domain.fingerprint import Fingerprint, fingerprint

FLAGGED = ("review", "withheld")
LOOKBACK = timedelta(days=7)
"""How far back the copy check looks for flagged inbound mail."""
CANDIDATES = 64
"""Index rows read for one draft, at most: any one of them already makes the draft a copy."""
SHINGLE_ROWS = 4 * CANDIDATES
"""Index rows of the draft's hashes taken first, at most, before their mails' status is looked
at: the lookup starts from the index whatever the planner knows of the tables. Joined in one
step, PostgreSQL without statistics yet (freshly filled tables) scanned every flagged mail and
looked each one's rows up instead: 43,000 buffers and 140 ms a draft for 200 mails."""


def index_flagged(session: AsyncSession, message: Message, found: Fingerprint) -> None:
    """Keep ``found`` (the fingerprint of the flagged ``message``'s text) with the message, and
    index its hashes. The message must be flushed (it has its id)."""
    message.fingerprint = list(found.hashes)
    message.fingerprint_shingles = found.shingles
    session.add_all(
        FlaggedShingle(
            message_id=message.id,
            shingle_hash=value,
            workspace_id=message.workspace_id,
            received_at=message.received_at,
        )
        for value in found.hashes
    )


async def flagged_repeated(
    session: AsyncSession, workspace_id: uuid.UUID, draft: Fingerprint, now: datetime
) -> tuple[Fingerprint, ...]:
    """The fingerprints of the workspace's flagged mails of the lookback that share a hash with
    ``draft``: an index lookup by the draft's hashes, then at most ``CANDIDATES`` mails."""
    if not draft.hashes:
        return ()
    shared = (
        select(FlaggedShingle.message_id)
        .where(
            FlaggedShingle.workspace_id == workspace_id,
            FlaggedShingle.shingle_hash.in_(draft.hashes),
            FlaggedShingle.received_at >= now - LOOKBACK,
        )
        .limit(SHINGLE_ROWS)  # a subquery with a limit is run as it is, not folded in
        .subquery()
    )
    matched = (
        select(shared.c.message_id)
        .join(Message, Message.id == shared.c.message_id)
        .where(Message.status.in_(FLAGGED))  # a person may have released it since
        .limit(CANDIDATES)
    )
    ids = set(await session.scalars(matched))
    if not ids:
        return ()
    rows = await session.execute(
        select(Message.fingerprint, Message.fingerprint_shingles).where(Message.id.in_(ids))
    )
    return tuple(Fingerprint(tuple(h), n) for h, n in rows.all() if h is not None and n is not None)


async def backfill_fingerprints(sessions: SessionFactory, now: datetime, batch: int) -> int:
    """Fingerprint up to ``batch`` flagged mails of the lookback stored without one; returns
    how many. Each mail's text is read and hashed outside any write transaction (the hashing in
    a thread), then indexed in a short one of its own."""
    with reading():
        async with sessions() as session, session.begin():
            pending = await session.execute(
                select(Message.id, Message.text)
                .where(
                    Message.fingerprint.is_(None),
                    Message.status.in_(FLAGGED),
                    Message.received_at >= now - LOOKBACK,
                )
                .order_by(Message.received_at.desc())
                .limit(batch)
            )
            found = pending.all()
    for message_id, text in found:
        fingerprinted = await asyncio.to_thread(fingerprint, text)
        async with sessions() as session, session.begin():
            await _index_once(session, message_id, fingerprinted)
    return len(found)


async def _index_once(session: AsyncSession, message_id: uuid.UUID, found: Fingerprint) -> None:
    """Index the message unless something did meanwhile (claimed by a conditional update)."""
    claimed = await session.execute(
        update(Message)
        .where(Message.id == message_id, Message.fingerprint.is_(None))
        .values(fingerprint=list(found.hashes), fingerprint_shingles=found.shingles)
        .returning(Message.workspace_id, Message.received_at)
    )
    row = claimed.one_or_none()
    if row is None:
        return
    workspace_id, received_at = row
    session.add_all(
        FlaggedShingle(
            message_id=message_id,
            shingle_hash=value,
            workspace_id=workspace_id,
            received_at=received_at,
        )
        for value in found.hashes
    )
