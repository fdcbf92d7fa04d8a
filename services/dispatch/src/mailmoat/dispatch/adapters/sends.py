"""The rows dispatch reads and writes to send a mail: the claim of an approved send, its sender,
the threading headers of a reply, and the sends a stopped dispatcher left mid-exchange."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.tables import Inbox, Message, OutboundMessage, RawMessage, Workspace
from mailmoat.common.mail.structured import StructuredMessage
from mailmoat.common.outbound_status import OutboundStatus
from mailmoat.common.subscription import PoisonEvent

# A msg-id as it may go into a header we write: no spaces, controls or nested brackets.
_MSG_ID = re.compile(r"^<[\x21-\x3b\x3d\x3f-\x7e]{1,900}>$")
INTERRUPTED_BATCH = 500
"""Sends failed per round of the interrupted-send sweep, at most."""


@dataclass(frozen=True)
class Claimed:
    """An approved send, locked, with its workspace and sending inbox."""

    outbound: OutboundMessage
    workspace: Workspace
    inbox: Inbox


async def claim(
    session: AsyncSession, workspace_id: uuid.UUID, outbound_id: uuid.UUID
) -> Claimed | None:
    """The send, locked (PostgreSQL; SQLite's write transaction is exclusive), while it is still
    approved: of two dispatchers given the same approval, say across a rebalance, the second
    finds it claimed or settled and gets None."""
    outbound = await session.get(
        OutboundMessage, outbound_id, with_for_update=True, populate_existing=True
    )
    if outbound is None or outbound.workspace_id != workspace_id:
        raise PoisonEvent(f"outbound message {outbound_id} not found")
    if outbound.status != OutboundStatus.APPROVED:
        return None
    workspace = await session.get(Workspace, outbound.workspace_id)
    inbox = await session.get(Inbox, outbound.inbox_id)
    if workspace is None or inbox is None:
        raise PoisonEvent(f"sender of outbound message {outbound_id} not found")
    return Claimed(outbound, workspace, inbox)


async def sending(session: AsyncSession, outbound_id: uuid.UUID) -> OutboundMessage:
    """A send this dispatcher claimed (its outcome is recorded on it)."""
    outbound = await session.get(OutboundMessage, outbound_id)
    if outbound is None:
        raise PoisonEvent(f"outbound message {outbound_id} not found")
    return outbound


async def interrupted(session: AsyncSession, older_than: datetime) -> list[OutboundMessage]:
    """Sends left ``sending`` since before ``older_than``, locked, skipping any another sweep
    holds."""
    query = (
        select(OutboundMessage)
        .where(
            OutboundMessage.status == OutboundStatus.SENDING,
            OutboundMessage.updated_at < older_than,
        )
        .limit(INTERRUPTED_BATCH)
        .with_for_update(skip_locked=True)
    )
    return list(await session.scalars(query))


async def thread_headers(
    session: AsyncSession, outbound: OutboundMessage
) -> tuple[str | None, tuple[str, ...]]:
    """In-Reply-To and References for a reply: the answered mail's Message-ID, after the
    references it carried itself."""
    if outbound.in_reply_to is None:
        return None, ()
    answered = await session.get(Message, outbound.in_reply_to)
    if answered is None or answered.workspace_id != outbound.workspace_id:
        return None, ()
    if answered.message_id_header is None or not _MSG_ID.match(answered.message_id_header):
        return None, ()
    raw = await session.get(RawMessage, answered.raw_id)
    earlier: tuple[str, ...] = ()
    if raw is not None and raw.structured is not None:
        parsed = StructuredMessage.model_validate(raw.structured)
        earlier = tuple(r for r in parsed.references if r != answered.message_id_header)
        if not earlier and parsed.in_reply_to:
            earlier = (parsed.in_reply_to,)
        earlier = tuple(r for r in earlier if _MSG_ID.match(r))
    return answered.message_id_header, (*earlier, answered.message_id_header)
