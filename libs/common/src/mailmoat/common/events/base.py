"""The envelope every event shares: identity, correlation, tenancy, time and schema version."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    """Aware UTC now; the single place the event layer reads the clock."""
    return datetime.now(UTC)


class Event(BaseModel):
    """Base of every event on the bus.

    Adding an optional field keeps ``schema_version``; a breaking change is a new class with a new
    version that consumers accept side by side for a while.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: uuid.UUID = Field(
        default_factory=uuid.uuid4, description="Unique id; consumers deduplicate on it."
    )
    mail_id: uuid.UUID = Field(
        description="Correlation id of the inbound mail or outbound message, whole journey."
    )
    workspace_id: uuid.UUID = Field(description="Tenant the event belongs to.")
    occurred_at: AwareDatetime = Field(
        default_factory=utcnow, description="When the fact happened (aware UTC)."
    )
    schema_version: Literal[1] = Field(default=1, description="Version of this event's schema.")

    def slimmed(self) -> Self:
        """The event cut down to fit its topic's size budget: variable-length lists dropped and
        counted in the event itself. An event with nothing to drop returns itself; it must then
        be small by construction."""
        return self

    def to_bytes(self) -> bytes:
        """Serialise as UTF-8 JSON for the bus."""
        return self.model_dump_json().encode()
