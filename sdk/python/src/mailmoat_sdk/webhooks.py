"""Webhook deliveries: the Standard Webhooks signature checked (``webhook-id``,
``webhook-timestamp``, ``webhook-signature``: ``v1,`` and base64 HMAC-SHA256 of
``id.timestamp.body`` under the ``whsec_`` secret), then the JSON payload read into a typed event.

    event = verify_and_parse(secret, request.body, request.headers)
    if isinstance(event, MessageEvent) and event.type == "message.received": ...
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from mailmoat_sdk.errors import MailmoatError

TOLERANCE_SECONDS = 300
"""How far a delivery's timestamp may be from now, either way (replays of old deliveries fail)."""
SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix, not a secret)


class WebhookVerificationError(MailmoatError):
    """The delivery is not proven to come from the gateway: refuse it (answer 400)."""


class _Payload(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class MessageData(_Payload):
    """An inbound message as the agent may see it; a withheld one has no subject or text."""

    message_id: UUID
    inbox: str
    url: str | None = None
    status: str | None = None
    from_address: str | None = Field(default=None, alias="from")
    subject: str | None = None
    subject_sha256: str | None = None
    consensus: str | None = None
    risk_score: int | None = None
    risk_reasons: list[str] = Field(default_factory=list)
    withheld_reason: str | None = None
    received_at: datetime | None = None
    thread_id: UUID | None = None
    text: str | None = None
    truncated: bool = False
    """Too large for one delivery: ``subject`` and ``text`` left out, fetch ``url``."""


class OutboundData(_Payload):
    """A send's new state."""

    message_id: UUID
    inbox: str
    url: str | None = None
    status: str | None = None
    to: list[str] = Field(default_factory=list)
    subject: str | None = None
    risk_score: int | None = None
    error: dict[str, str] | None = None
    truncated: bool = False


class SenderData(_Payload):
    """Reputation's word on the inbox as a sender."""

    inbox: str
    status: str
    reason: str | None = None
    url: str | None = None


class AuditData(_Payload):
    """An audit row: who did what, by which path (``api``, ``mcp:<tool>``...), through which
    provider, to whom; the subject only as its SHA-256."""

    audit_id: UUID
    action: str
    actor: str | None = None
    source: str | None = None
    provider: str | None = None
    target: Any = None
    subject_sha256: str | None = None


class MessageEvent(BaseModel):
    type: Literal["message.received", "message.withheld", "message.released"]
    timestamp: datetime
    data: MessageData


class OutboundEvent(BaseModel):
    type: Literal[
        "outbound.pending_approval", "outbound.sent", "outbound.failed", "outbound.rejected"
    ]
    timestamp: datetime
    data: OutboundData


class SenderEvent(BaseModel):
    type: Literal["sender.warned", "sender.throttled", "sender.suspended", "sender.active"]
    timestamp: datetime
    data: SenderData


class AuditEvent(BaseModel):
    """From the audit stream: ``type`` is the audited action (``outbound.sent``,
    ``message.released``...), told apart from an inbox's events by ``data.audit_id``."""

    type: str
    timestamp: datetime
    data: AuditData


InboxWebhookEvent = Annotated[
    MessageEvent | OutboundEvent | SenderEvent, Field(discriminator="type")
]
WebhookEvent = MessageEvent | OutboundEvent | SenderEvent | AuditEvent
_INBOX_EVENTS: TypeAdapter[InboxWebhookEvent] = TypeAdapter(InboxWebhookEvent)


def verify(
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> None:
    """Raise ``WebhookVerificationError`` unless one of the delivery's ``v1`` signatures is the
    secret's HMAC of ``id.timestamp.body`` and its timestamp is within ``tolerance`` of now."""
    lower = {name.lower(): value for name, value in headers.items()}
    webhook_id = lower.get("webhook-id")
    stamp = lower.get("webhook-timestamp")
    signatures = lower.get("webhook-signature")
    if not webhook_id or not stamp or not signatures:
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or signature")
    try:
        sent_at = int(stamp)
    except ValueError as bad:
        raise WebhookVerificationError("webhook-timestamp is not a number") from bad
    if abs((time.time() if now is None else now) - sent_at) > tolerance:
        raise WebhookVerificationError("webhook-timestamp is outside the tolerance")
    signed = f"{webhook_id}.{sent_at}.".encode() + body
    expected = base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest())
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            return
    raise WebhookVerificationError("no signature matches")


def parse(body: bytes | str) -> WebhookEvent:
    """A JSON delivery as its typed event (no signature check: use ``verify_and_parse``)."""
    document = json.loads(body)
    data = document.get("data") if isinstance(document, dict) else None
    if isinstance(data, dict) and "audit_id" in data:
        return AuditEvent.model_validate(document)
    return _INBOX_EVENTS.validate_python(document)


def verify_and_parse(
    secret: str, body: bytes, headers: Mapping[str, str], **options: Any
) -> WebhookEvent:
    """``verify`` the delivery, then ``parse`` it."""
    verify(secret, body, headers, **options)
    return parse(body)


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except ValueError as bad:
        raise WebhookVerificationError("the secret is not whsec_ and base64") from bad
