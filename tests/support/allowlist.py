"""Test time travel for the 60 s allowlist cooldown: rows made active a second ago."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from mailmoat.common.db.session import create_engine, create_session_factory
from mailmoat.common.db.tables import AllowlistEntry
from mailmoat.common.events.base import utcnow
from mailmoat.common.settings import CommonSettings


async def end_cooldowns(settings: CommonSettings, address: str | None = None) -> None:
    """Start ``address``'s allowlist row (every row, without one) a second ago, rather than
    wait the 60 s."""
    query = update(AllowlistEntry).values(active_from=utcnow() - timedelta(seconds=1))
    if address is not None:
        query = query.where(AllowlistEntry.address == address)
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            await session.execute(query)
    finally:
        await engine.dispose()
