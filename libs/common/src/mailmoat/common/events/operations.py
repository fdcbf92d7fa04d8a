"""Operational events: sender suspension and the real-time audit stream."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from mailmoat.common.events.base import Event


class SenderStatusChanged(Event):
    """A sender's standing changed: reputation warned, throttled or suspended it (or saw its
    rates recover), or a person reinstated it."""

    inbox_id: uuid.UUID | None = Field(
        default=None, description="Sending inbox; None: the workspace as a whole."
    )
    status: Literal["active", "warned", "throttled", "suspended"] = Field(description="New status.")
    reason: str = Field(description="Why, with the figures that triggered it.")
    until: datetime | None = Field(default=None, description="When a throttle ends.")
    actor: str = Field(
        default="system:reputation", description="Who: reputation, or the reinstating key."
    )


class AuditRecorded(Event):
    """A durable audit row was written; this is its real-time copy (hashes, never content)."""

    action: str = Field(description="What happened, e.g. 'outbound.send', 'message.raw_read'.")
    actor: str = Field(description="Who: 'api_key:<prefix>', 'user:<id>', 'system:<service>'.")
    source: str = Field(description="Path: 'api', 'mcp:<tool>', 'cron:<job>', 'smtp'.")
    provider: str | None = Field(
        default=None, description="Outside service called, e.g. 'smtp:relay.example:587'."
    )
    target: str = Field(description="What it acted on (ids, recipient address).")
    subject_sha256: str | None = Field(default=None, description="SHA-256 of a subject, if any.")
    audit_id: uuid.UUID = Field(description="Id of the durable audit row.")
