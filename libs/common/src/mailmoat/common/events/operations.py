"""Operational events: sender suspension and the real-time audit stream."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from mailmoat.common.events.base import Event


class SenderStatusChanged(Event):
    """Reputation suspended, warned about or reinstated a sending inbox."""

    inbox_id: uuid.UUID = Field(description="Sending inbox.")
    status: Literal["active", "warned", "suspended"] = Field(description="New status.")
    reason: str = Field(description="Why, with the figures that triggered it.")


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
