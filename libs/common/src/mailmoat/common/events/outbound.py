"""Events of the outbound journey: send requested, approved, sent or failed."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from mailmoat.common.events.base import Event


class SendRequested(Event):
    """An agent asked to send; the content is in outbound_messages under ``mail_id``."""

    inbox_id: uuid.UUID = Field(description="Sending inbox.")
    source: str = Field(description="Send path: 'api', 'mcp:<tool>', 'cron:<job>'.")
    api_key_id: uuid.UUID | None = Field(default=None, description="Key that asked, if any.")
    reviewed: bool = Field(
        default=False, description="A person approved it (perhaps edited): judge it again."
    )


class SendDecided(Event):
    """Policy's decision on a send, the reply to the API call waiting on ``mail_id`` (the
    outbound id is the correlation id)."""

    inbox_id: uuid.UUID = Field(description="Sending inbox.")
    status: Literal["queued", "pending_approval", "rejected"] = Field(
        description="queued: approved for dispatch; pending_approval: held for a person."
    )
    risk_score: int = Field(ge=0, le=100, description="Outbound risk score.")
    code: str | None = Field(default=None, description="The violated rule's code, if rejected.")
    message: str | None = Field(default=None, description="Why it was rejected.")


class SendApproved(Event):
    """Policy approved an outbound message for dispatch."""

    inbox_id: uuid.UUID = Field(description="Sending inbox.")
    risk_score: int = Field(ge=0, le=100, description="Outbound risk score at approval.")


class MailSent(Event):
    """Dispatch's final word on an outbound message: sent or failed, never retried silently."""

    inbox_id: uuid.UUID = Field(description="Sending inbox.")
    status: Literal["sent", "failed"] = Field(description="Outcome at the relay.")
    recipients: tuple[str, ...] = Field(description="Envelope recipients.")
    relay_reply: str = Field(description="The relay's reply, or the error that prevented it.")
    duration_ms: float = Field(ge=0, description="Time spent talking to the relay.")
