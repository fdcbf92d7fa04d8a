"""Sends as policy leaves them for dispatch: approved, each recipient reserved in the cap
ledger, with the fingerprint of the draft approved (tests and the dispatch bench publish
``send-approved`` for them by hand)."""

from __future__ import annotations

import uuid

from mailmoat.common.db.tables import OutboundMessage, SendReservation
from mailmoat.common.events.base import utcnow
from mailmoat.common.mail.draft import content_sha256
from tests.support.scenario import Scenario


async def approved_sends(
    scenario: Scenario,
    recipients: list[str],
    *,
    subject: str = "Numbers",
    text: str = "The numbers are below.\n",
    reserve: bool = True,
) -> list[uuid.UUID]:
    """One approved send per recipient, from the scenario's inbox; their ids in order.
    ``reserve=False`` leaves them without their reservations (dispatch must refuse them)."""
    ids = [uuid.uuid4() for _ in recipients]
    async with scenario.sessions() as db, db.begin():
        for outbound_id, to in zip(ids, recipients, strict=True):
            db.add(
                OutboundMessage(
                    id=outbound_id,
                    workspace_id=scenario.workspace_id,
                    inbox_id=scenario.inbox_id,
                    recipients=[to],
                    subject=subject,
                    text=text,
                    source="api",
                    status="approved",
                    approved_sha256=content_sha256([to], subject, text, None),
                )
            )
        await db.flush()
        if reserve:
            for outbound_id, to in zip(ids, recipients, strict=True):
                db.add(
                    SendReservation(
                        workspace_id=scenario.workspace_id,
                        inbox_id=scenario.inbox_id,
                        outbound_id=outbound_id,
                        recipient=to,
                        reserved_at=utcnow(),
                    )
                )
    return ids
