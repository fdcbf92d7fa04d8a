"""Tenancy tables: workspaces, their API keys, inboxes, the outbound recipient allowlist,
webhook endpoints, the credit ledger and replayable idempotent responses."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mailmoat.common.db.base import Base
from mailmoat.common.events.base import utcnow


class Workspace(Base):
    """A tenant: plan, kill switch and credits."""

    __tablename__ = "workspaces"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(20))
    outbound_enabled: Mapped[bool] = mapped_column(default=True)
    # Reputation's word on the workspace as a whole (its inboxes' sends together).
    sending_status: Mapped[str] = mapped_column(String(20), default="active")
    sending_status_until: Mapped[datetime | None] = mapped_column(default=None)
    # Credits used in ``credits_period`` (``YYYY-MM``, UTC), the month of the last charge; the
    # balance is the plan's allowance less this (``common.credits``), a new month starts at 0.
    credits_period: Mapped[str | None] = mapped_column(String(7), default=None)
    credits_used: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """An API key: the secret is shown once and stored only as a hash."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class Inbox(Base):
    """An agent's inbox, ``{slug}@{domain}``, with its security level and webhook."""

    __tablename__ = "inboxes"
    __table_args__ = (UniqueConstraint("workspace_id", "slug"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    slug: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(320), unique=True)
    security_level: Mapped[str] = mapped_column(String(2))
    webhook_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    # The webhook's signing secret is derived from the deployment's key, the inbox and this
    # generation (mailmoat.common.webhook_secrets); a rotation counts it up. The API shows each
    # generation's secret once: when, is recorded here.
    webhook_secret_generation: Mapped[int] = mapped_column(default=0)
    webhook_secret_shown_at: Mapped[datetime | None] = mapped_column(default=None)
    # Reputation's word on the inbox as a sender: active, warned, throttled (until
    # sending_status_until) or suspended (until a person reinstates it).
    sending_status: Mapped[str] = mapped_column(String(20), default="active")
    sending_status_until: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # How long an L4 send waits for a person before it is rejected.
    approval_timeout_seconds: Mapped[int] = mapped_column(default=86_400)
    # Per-inbox outbound limits; they may only tighten the server's caps (None: the caps).
    hourly_send_limit: Mapped[int | None] = mapped_column(default=None)
    daily_send_limit: Mapped[int | None] = mapped_column(default=None)
    # Per-inbox outbound restrictions, on top of the workspace allowlist: recipient domains
    # the inbox may mail (None: any allowlisted address) and terms its mail may not contain.
    allowed_recipient_domains: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    blocked_keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What a send carrying a secret or a large copy of inbound mail does: held for a person
    # (hold) or refused (reject); the kinds of leak listed in data_leak_exempt only raise its
    # risk score. Neither touches the caps.
    data_leak_action: Mapped[str] = mapped_column(String(10), default="hold")
    data_leak_exempt: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The canary marker policy appends to the mail it stores for the inbox (None: no canary);
    # a send or webhook URL carrying it is refused (``mailmoat.common.canary``).
    canary_token: Mapped[str | None] = mapped_column(String(40), default=None)
    # A deleted inbox receives nothing; its address stays reserved so that mail meant for
    # the old agent never reaches a new owner.
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class AllowlistEntry(Base):
    """An outbound recipient the workspace allows, sendable from ``active_from`` on."""

    __tablename__ = "allowlist_entries"
    __table_args__ = (UniqueConstraint("workspace_id", "address"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    address: Mapped[str] = mapped_column(String(320))
    allow_html: Mapped[bool] = mapped_column(default=False)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    active_from: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookEndpoint(Base):
    """Where message or audit events are delivered, signed with the endpoint's secret."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    kind: Mapped[str] = mapped_column(String(10))  # "message" or "audit"
    format: Mapped[str] = mapped_column(String(10))  # json, slack, discord, telegram
    events: Mapped[list[str]] = mapped_column(JSON)
    # The signing secret: dispatch needs it in clear to sign; the API shows it once.
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(default=None)
    disabled_reason: Mapped[str | None] = mapped_column(Text, default=None)


class WebhookDelivery(Base):
    """One event owed to one webhook target, with its attempts: delivered, waiting for its next
    try (``next_attempt_at``), or given up (``abandoned``)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    # Derived from the event and the target, so a redelivered event owes nothing twice.
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    endpoint_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    inbox_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    url: Mapped[str] = mapped_column(String(2000))
    webhook_id: Mapped[str] = mapped_column(String(100))
    event_type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    timestamp: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    # The W3C trace context of the event that owed it: each attempt's span joins that trace.
    trace_context: Mapped[dict[str, str] | None] = mapped_column(JSON, default=None)


class CreditEntry(Base):
    """One charge (negative) of credits, with the message or send it was for (charged once per
    reason) and the period's balance and overage after it."""

    __tablename__ = "credit_ledger"
    __table_args__ = (UniqueConstraint("workspace_id", "reason", "ref_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    amount: Mapped[int]
    reason: Mapped[str] = mapped_column(String(50))
    ref_id: Mapped[uuid.UUID | None] = mapped_column(default=None, index=True)
    # What was left of the period's allowance after this entry (never below 0), and what the
    # period had used beyond it.
    balance_after: Mapped[int]
    overage_after: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class IdempotentResponse(Base):
    """The first response to a POST sent with an ``Idempotency-Key``, replayed for repeats."""

    __tablename__ = "idempotent_responses"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id"), index=True)
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))  # method, path and body hash
    status: Mapped[int]
    body: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
