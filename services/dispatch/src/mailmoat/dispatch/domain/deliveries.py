"""Webhook deliveries: the retry schedule and the payload shapes (raw JSON, Slack, Discord,
Telegram). A message event carries what the API shows of the message (its sanitised text, never
a withheld one's); a body that would pass 1 MB goes without its text, marked ``truncated``, to be
fetched by ``url``. The audit stream carries the subject's SHA-256, never the subject."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from mailmoat.dispatch.domain.payloads import (
    AuditData,
    MessageData,
    OutboundData,
    Payload,
    SenderData,
)

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


def render(fmt: str, event_type: str, occurred_at: datetime, payload_data: Payload) -> bytes:
    """The body for an endpoint of format ``fmt``."""
    data = payload_data.dumped()
    if fmt == "json":
        payload: dict[str, Any] = {
            "type": event_type,
            "timestamp": occurred_at.isoformat(),
            "data": data,
        }
    else:
        text = summary(event_type, payload_data)
        payload = {"content": text} if fmt == "discord" else {"text": text}
    body = _encoded(payload)
    if len(body) > MAX_PAYLOAD_BYTES and fmt == "json":  # the text is fetched by url
        slim = {k: v for k, v in data.items() if k not in ("text", "subject")}
        body = _encoded({**payload, "data": {**slim, "truncated": True}})
    if len(body) > MAX_PAYLOAD_BYTES:
        body = _encoded(
            {"type": event_type, "timestamp": occurred_at.isoformat(), "truncated": True}
        )
    return body


def _encoded(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def summary(event_type: str, data: Payload) -> str:
    """One line for a chat channel."""
    if isinstance(data, AuditData):
        subject = data.subject_sha256
        hashed = f", subject sha256 {subject[:16]}…" if subject else ""
        provider = f" through {data.provider}" if data.provider else ""
        return (
            f"Mailmoat audit: {data.action} by {data.actor} via {data.source}"
            f"{provider} on {data.target}{hashed}"
        )
    if isinstance(data, SenderData):
        return f"Mailmoat: {event_type} in {data.inbox}"
    peer, risk = "", ""
    if isinstance(data, MessageData):
        peer, risk = f" from {data.from_address}", f", risk {data.risk_score}"
    elif isinstance(data, OutboundData):
        peer, risk = f" to {', '.join(data.to)}", f", risk {data.risk_score}"
    return f"Mailmoat: {event_type} in {data.inbox}{peer}{risk}, message {data.message_id}"
