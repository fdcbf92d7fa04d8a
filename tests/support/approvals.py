"""Test time travel for the review window: a held send made older than it is."""

from __future__ import annotations

import uuid
from datetime import timedelta

from mailmoat.common.db.session import create_engine, create_session_factory
from mailmoat.common.db.tables import OutboundMessage
from mailmoat.common.events.base import utcnow
from mailmoat.common.settings import CommonSettings


async def age_held_send(settings: CommonSettings, outbound_id: str, by: timedelta) -> None:
    """Move the send's request time ``by`` into the past, and its deadline with it, rather
    than wait that long."""
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            outbound = await session.get(OutboundMessage, uuid.UUID(outbound_id))
            assert outbound is not None
            requested = utcnow() - by
            if outbound.expires_at is not None:
                outbound.expires_at -= outbound.created_at - requested
            outbound.created_at = requested
    finally:
        await engine.dispose()
