"""Test time travel for the review window: a held send made older than it is."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import update

from mailmoat.common.db.session import create_engine, create_session_factory
from mailmoat.common.db.tables import OutboundMessage
from mailmoat.common.events.base import utcnow
from mailmoat.common.settings import CommonSettings


async def age_held_send(settings: CommonSettings, outbound_id: str, by: timedelta) -> None:
    """Move the send's request time ``by`` into the past, rather than wait that long."""
    query = (
        update(OutboundMessage)
        .where(OutboundMessage.id == uuid.UUID(outbound_id))
        .values(created_at=utcnow() - by)
    )
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            await session.execute(query)
    finally:
        await engine.dispose()
