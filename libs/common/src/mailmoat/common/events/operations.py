"""Operational events: sender suspension, the inbound sender graph and the real-time audit
stream."""

from __future__ import annotations

import hashlib
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


class SenderEdgeUpdated(Event):
    """One edge of the inbound sender graph as it now stands: an external sender (an address,
    or a whole domain) that has written to an inbox. Keyed on the edge, on a compacted topic, so
    the newest record of each edge is its state; ``mail_id`` is the mail that last changed it."""

    inbox_id: uuid.UUID = Field(description="The inbox written to.")
    kind: Literal["address", "domain"] = Field(description="Whether ``sender`` is an address.")
    sender: str = Field(description="The address or domain, lowercased (domains in Unicode).")
    first_seen: datetime = Field(description="When its first mail to this inbox was decided.")
    last_seen: datetime = Field(description="When its latest mail was decided.")
    messages: int = Field(ge=0, description="Mails from it to this inbox.")
    passed: int = Field(default=0, ge=0, description="Of those, consensus PASS.")
    reviewed: int = Field(default=0, ge=0, description="Of those, consensus REVIEW.")
    withheld: int = Field(
        default=0, ge=0, description="Of those, withheld (any reason) and not released since."
    )
    released: int = Field(default=0, ge=0, description="Withheld ones a person released.")
    dmarc_pass: int = Field(default=0, ge=0, description="Of those, DMARC pass.")
    dmarc_fail: int = Field(default=0, ge=0, description="Of those, DMARC fail.")
    last_dmarc: str = Field(default="none", description="DMARC result of the latest mail.")

    @property
    def edge_key(self) -> str:
        """The record key compaction keeps one record of (the sender hashed: keys stay short)."""
        digest = hashlib.sha256(self.sender.encode()).hexdigest()[:40]
        return f"{self.inbox_id}:{self.kind}:{digest}"


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
