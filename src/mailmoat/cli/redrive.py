"""``mailmoat redrive``: one redrive pass over every producer's outbox, from the command line."""

from __future__ import annotations

from datetime import datetime, timedelta

from mailmoat.common.bus import create_broker, create_topics
from mailmoat.common.db.session import create_engine, create_session_factory
from mailmoat.common.events.base import utcnow
from mailmoat.common.redrive import Redrive, RedriveReport
from mailmoat.common.settings import CommonSettings


async def redrive_now(
    settings: CommonSettings,
    *,
    cutoff: datetime | None = None,
    producer: str | None = None,
    backoff: bool = True,
    dry_run: bool = False,
) -> RedriveReport:
    """Publish again whatever was published before ``cutoff`` (by default the settings'
    ``redrive_after_seconds`` ago) and not taken by every consumer owed it; ``backoff`` as in
    :meth:`Redrive.run_once`."""
    if cutoff is None:
        cutoff = utcnow() - timedelta(seconds=settings.redrive_after_seconds)
    engine = create_engine(settings.database_url)
    broker = create_broker(settings, client_id="mailmoat-redrive")
    try:
        if not dry_run:
            await broker.start()
        redrive = Redrive(
            create_session_factory(engine),
            broker,
            settings,
            producer=producer,
            ensure_topics=lambda: create_topics(settings),
        )
        return await redrive.run_once(cutoff, backoff=backoff, dry_run=dry_run)
    finally:
        await broker.stop()
        await engine.dispose()
