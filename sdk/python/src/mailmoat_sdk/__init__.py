"""Python client for the Mailmoat API."""

from mailmoat_sdk import models
from mailmoat_sdk._core import Retries
from mailmoat_sdk.client import AsyncMailmoat, Mailmoat
from mailmoat_sdk.errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    MailmoatError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from mailmoat_sdk.webhooks import (
    AuditEvent,
    MessageEvent,
    OutboundEvent,
    SenderEvent,
    WebhookEvent,
    WebhookVerificationError,
    parse,
    verify,
    verify_and_parse,
)

__all__ = [
    "APIConnectionError",
    "APIError",
    "AsyncMailmoat",
    "AuditEvent",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "Mailmoat",
    "MailmoatError",
    "MessageEvent",
    "NotFoundError",
    "OutboundEvent",
    "PermissionDeniedError",
    "RateLimitError",
    "Retries",
    "SenderEvent",
    "UnprocessableEntityError",
    "WebhookEvent",
    "WebhookVerificationError",
    "models",
    "parse",
    "verify",
    "verify_and_parse",
]
