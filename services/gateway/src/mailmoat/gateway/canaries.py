"""Canary tokens at the gateway: an inbox's canary is made when a person turns it on, and a
webhook URL carrying any of the workspace's canaries is refused (``mailmoat.common.canary``).

A URL is how a hijacked automation would carry received mail out without sending any: the
refusal is audited (``canary.tripped``, committed before the 422 goes back) and counted in
``mailmoat_canary_tripped_total{where="webhook_url"}``.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.canary import carried
from mailmoat.common.db.tables import Inbox
from mailmoat.common.observability.committed import on_commit
from mailmoat.common.observability.metrics import CANARY_TRIPS
from mailmoat.gateway.deps import Caller
from mailmoat.gateway.problems import Problem


async def refuse_tripped_url(db: AsyncSession, who: Caller, url: str | None) -> None:
    """Raise 422 ``canary_tripped`` if ``url`` carries a canary of the caller's workspace,
    having recorded the alert. Call it outside the request's own transaction."""
    if not url:
        return
    async with db.begin():
        query = select(Inbox.canary_token, Inbox.slug).where(
            Inbox.workspace_id == who.workspace_id, Inbox.canary_token.is_not(None)
        )
        canaries = {token: slug for token, slug in await db.execute(query) if token}
        token = carried(canaries, url)
        if token is None:
            return
        on_commit(db, CANARY_TRIPS.labels("webhook_url").inc)
        who.audit(
            db,
            action="canary.tripped",
            ref=uuid.uuid4(),
            target=url,
            detail={"where": "webhook_url", "canary_of": canaries[token]},
        )
    raise Problem(
        422,
        "canary_tripped",
        "The URL carries a marker that only received mail holds; it may not be used",
    )


def export_canary_series() -> None:
    CANARY_TRIPS.labels("webhook_url")
