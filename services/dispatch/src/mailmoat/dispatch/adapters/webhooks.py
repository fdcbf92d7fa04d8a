"""Webhook sender, signed the Standard Webhooks way (id, timestamp, HMAC-SHA256 signature)."""

from __future__ import annotations

import base64
import hashlib
import hmac

import httpx

from mailmoat.dispatch.adapters.egress import SafeEgress


def sign(secret: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    """``webhook-signature`` value: ``v1,`` + base64 HMAC-SHA256 over ``id.timestamp.body``."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(secret, signed, hashlib.sha256).digest()).decode()


class WebhookError(Exception):
    """The endpoint did not accept the delivery (``status``: its HTTP status, if it answered)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


async def post_webhook(
    egress: SafeEgress, url: str, secret: bytes, webhook_id: str, timestamp: int, body: bytes
) -> int:
    """POST one signed delivery through the SSRF guard; raises ``WebhookError`` unless the
    endpoint answers 2xx (``EgressRefused`` when it may not be called at all)."""
    headers = {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, webhook_id, timestamp, body),
    }
    try:
        response = await egress.post(url, body, headers)
    except httpx.HTTPError as exc:
        raise WebhookError(f"{type(exc).__name__}: {exc}") from exc
    if not response.is_success:
        raise WebhookError(f"endpoint answered {response.status_code}", response.status_code)
    return response.status_code
