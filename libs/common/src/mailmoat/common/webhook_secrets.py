"""Inbox webhook signing secrets: derived from the deployment's key, the inbox and the secret's
generation, so none is stored and a rotation counts the generation up. The gateway shows a
secret (once), dispatch signs with it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

PREFIX = "whsec_"


def inbox_webhook_secret(key: bytes, inbox_id: uuid.UUID, generation: int = 0) -> bytes:
    """The inbox's signing secret of ``generation`` (0: the one every inbox starts with)."""
    message = inbox_id.bytes if generation == 0 else inbox_id.bytes + generation.to_bytes(8, "big")
    return hmac.new(key, message, hashlib.sha256).digest()


def shown(secret: bytes) -> str:
    """A secret as Standard Webhooks libraries take it: ``whsec_`` and base64."""
    return PREFIX + base64.b64encode(secret).decode()


def parsed(secret: str) -> bytes:
    """The key bytes of a ``whsec_`` secret."""
    return base64.b64decode(secret.removeprefix(PREFIX))
