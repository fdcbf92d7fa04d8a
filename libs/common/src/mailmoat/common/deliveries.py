"""The identity of a webhook delivery, shared by dispatch (which owes it) and redrive (which
checks that what was owed was recorded)."""

from __future__ import annotations

import uuid


def delivery_id(event_id: uuid.UUID, target: str) -> uuid.UUID:
    """The same event to the same target (``inbox:<id>`` or ``endpoint:<id>``) is the same
    delivery, however often it is consumed."""
    return uuid.uuid5(event_id, target)
