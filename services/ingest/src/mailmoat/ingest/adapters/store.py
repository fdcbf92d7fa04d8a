"""Mail store: inbox lookup at RCPT time and the durable write of a received message."""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.audit import record_audit
from mailmoat.common.db.tables import Inbox, RawMessage
from mailmoat.common.events import RawMailReceived
from mailmoat.common.outbox import stage_event
from mailmoat.common.topics import Topic

PRODUCER = "ingest"


async def find_inbox(session: AsyncSession, address: str) -> Inbox | None:
    """The inbox owning ``address`` (case-insensitive), if any."""
    query = select(Inbox).where(func.lower(Inbox.address) == address.lower())
    return (await session.scalars(query)).first()


async def store_message(
    session: AsyncSession, inbox: Inbox, *, mail_from: str, rcpt_to: str, raw: bytes
) -> uuid.UUID:
    """Write the raw MIME, its ``raw-mail`` event and an audit row; returns the mail id."""
    mail_id = uuid.uuid4()
    digest = hashlib.sha256(raw).hexdigest()
    session.add(
        RawMessage(
            id=mail_id,
            workspace_id=inbox.workspace_id,
            inbox_id=inbox.id,
            mail_from=mail_from,
            rcpt_to=rcpt_to,
            raw=raw,
            sha256=digest,
            size=len(raw),
        )
    )
    event = RawMailReceived(
        mail_id=mail_id,
        workspace_id=inbox.workspace_id,
        inbox_id=inbox.id,
        raw_ref=mail_id,
        sha256=digest,
        size=len(raw),
        mail_from=mail_from,
        rcpt_to=rcpt_to,
        security_level=inbox.security_level,
    )
    stage_event(session, Topic.RAW_MAIL, event, producer=PRODUCER)
    record_audit(
        session,
        workspace_id=inbox.workspace_id,
        mail_id=mail_id,
        action="inbound.received",
        actor=f"smtp:{mail_from or '<>'}",
        source="smtp",
        target=f"inbox:{inbox.id}",
        producer=PRODUCER,
    )
    return mail_id
