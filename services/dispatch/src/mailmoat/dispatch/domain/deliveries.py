"""Webhook deliveries: the retry schedule and the payload shapes (raw JSON, Slack, Discord,
Telegram). A payload names the message by id and never carries mail content; the audit stream
carries the subject's SHA-256, never the subject."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

# After the first attempt, wait these in turn: about 75.6 hours in all, over three days.
RETRY_SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
MAX_PAYLOAD_BYTES = 1_000_000


def next_attempt(attempts_made: int, now: datetime) -> datetime | None:
    """When to try again after ``attempts_made`` failed attempts; None: give up."""
    if attempts_made >= MAX_ATTEMPTS:
        return None
    return now + RETRY_SCHEDULE[attempts_made - 1]


def delivery_id(event_id: uuid.UUID, target: str) -> uuid.UUID:
    """The same event to the same target is the same delivery, however often it is consumed."""
    return uuid.uuid5(event_id, target)


def render(fmt: str, event_type: str, occurred_at: datetime, data: dict[str, Any]) -> bytes:
    """The body for an endpoint of format ``fmt``."""
    if fmt == "json":
        payload: dict[str, Any] = {
            "type": event_type,
            "timestamp": occurred_at.isoformat(),
            "data": data,
        }
    else:
        text = summary(event_type, data)
        payload = {"content": text} if fmt == "discord" else {"text": text}
    body = json.dumps(payload, separators=(",", ":")).encode()
    if len(body) > MAX_PAYLOAD_BYTES:  # fetch the rest by id
        body = json.dumps(
            {"type": event_type, "timestamp": occurred_at.isoformat(), "truncated": True}
        ).encode()
    return body


def summary(event_type: str, data: dict[str, Any]) -> str:
    """One line for a chat channel."""
    if "action" in data:
        subject = data.get("subject_sha256")
        hashed = f", subject sha256 {subject[:16]}…" if subject else ""
        return (
            f"Mailmoat audit: {data['action']} by {data['actor']} via {data['source']} "
            f"on {data['target']}{hashed}"
        )
    return f"Mailmoat: {event_type} in {data.get('inbox', '?')}, message {data.get('message_id')}"
