"""Complaint (ARF) and bounce (DSN) reports parsed by ingest, for reputation."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from mailmoat.common.events.base import Event


class FeedbackReceived(Event):
    """A complaint or bounce about mail one of our inboxes sent."""

    inbox_id: uuid.UUID = Field(description="Sending inbox the feedback is about.")
    kind: Literal["complaint", "hard_bounce", "soft_bounce"] = Field(description="Feedback type.")
    recipient: str = Field(description="Recipient that complained or bounced.")
    outbound_id: uuid.UUID | None = Field(default=None, description="Outbound message, if known.")
