"""Sender standing: what reputation decides about an inbox's (or a workspace's) sending is kept
where the outbound capability rule and dispatch read it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.events import SenderStatusChanged
from mailmoat.policy.adapters.repository import PolicyRepository


async def on_sender_status(event: SenderStatusChanged, session: AsyncSession) -> None:
    """Remember a sender's standing (an inbox's, or the workspace's) for the capability rule."""
    sender = await PolicyRepository(session, event.workspace_id).sender(event.inbox_id)
    sender.sending_status = event.status
    sender.sending_status_until = event.until
