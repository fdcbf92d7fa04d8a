"""One attempt of one owed webhook delivery: claimed, signed at its own time under the delivery's
fixed ``webhook-id``, sent through the SSRF guard within a bounded time, and recorded."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta

from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.audit import record_audit
from mailmoat.common.db.tables import Inbox, WebhookDelivery, WebhookEndpoint
from mailmoat.common.events.base import utcnow
from mailmoat.common.observability.committed import observe_stage_on_commit, on_commit
from mailmoat.common.observability.metrics import (
    WEBHOOK_DELIVERIES,
    WEBHOOK_DURATION,
)
from mailmoat.common.observability.tracing import context_from_headers, tracer
from mailmoat.common.webhook_secrets import inbox_webhook_secret, parsed
from mailmoat.dispatch.adapters.egress import EgressRefused, SafeEgress
from mailmoat.dispatch.adapters.webhooks import WebhookError, post_webhook
from mailmoat.dispatch.domain.deliveries import next_attempt

PRODUCER = "dispatch"
GONE = 410
# How long a claimed delivery is left to its attempt; past it (a crash mid-attempt) it is due
# again. Longer than any attempt may take (the timeout setting is at most 30 s).
ATTEMPT_LEASE = timedelta(seconds=60)
# Deliveries owed for a mail stored for the agent (their delivery ends the stored_to_webhook stage).
STORED_MAIL = frozenset({"message.received", "message.withheld"})


@dataclass(frozen=True)
class Claimed:
    """What one attempt sends."""

    url: str
    secret: bytes
    webhook_id: str
    body: bytes
    trace_context: dict[str, str] | None = None


@dataclass(frozen=True)
class Outcome:
    """How one attempt went: the endpoint's status if it answered, the error unless a 2xx,
    whether the SSRF guard refused the target, and the ``webhook-timestamp`` it was signed at."""

    status: int | None
    error: str | None
    signed_at: int
    refused: bool = False


class WebhookAttempts:
    """Tries owed deliveries. ``410 Gone``, or a schedule run out, disables the target and
    writes an audit event; a destination the SSRF guard refuses is not retried."""

    def __init__(self, egress: SafeEgress, key: bytes, timeout_seconds: float) -> None:
        self._egress = egress
        self._key = key
        self._timeout = timeout_seconds

    async def attempt(self, session: AsyncSession, owed_id: uuid.UUID) -> None:
        """One try of one delivery, recorded; never raises for the endpoint's failures. A crash
        before the record leaves the delivery owed, due again when its claim lapses."""
        async with session.begin():
            claimed = await self._claim(session, owed_id)
        if claimed is None:
            return
        outcome = await self.send(claimed)
        async with session.begin():
            owed = await session.get(WebhookDelivery, owed_id, populate_existing=True)
            assert owed is not None
            await _settle(session, owed, outcome)

    async def send(self, claimed: Claimed) -> Outcome:
        """POST ``claimed`` signed now; the whole exchange (resolving, connecting, sending,
        reading the answer) within the attempt's time."""
        signed_at = int(utcnow().timestamp())
        parent = context_from_headers(claimed.trace_context or {})
        with (
            tracer().start_as_current_span(
                "webhook POST",
                context=parent,
                kind=SpanKind.CLIENT,
                attributes={"http.request.method": "POST", "webhook.id": claimed.webhook_id},
            ) as span,
            WEBHOOK_DURATION.time(),
        ):
            outcome = await self._post(claimed, signed_at)
            if outcome.status is not None:
                span.set_attribute("http.response.status_code", outcome.status)
            if outcome.error is not None:
                span.set_status(StatusCode.ERROR, outcome.error[:200])
            return outcome

    async def _post(self, claimed: Claimed, signed_at: int) -> Outcome:
        try:
            async with asyncio.timeout(self._timeout):
                status = await post_webhook(
                    self._egress,
                    claimed.url,
                    claimed.secret,
                    claimed.webhook_id,
                    signed_at,
                    claimed.body,
                )
        except TimeoutError:
            return Outcome(None, f"no answer within {self._timeout:g} s", signed_at)
        except EgressRefused as exc:
            return Outcome(None, f"refused: {exc}", signed_at, refused=True)
        except WebhookError as exc:
            return Outcome(exc.status, str(exc), signed_at)
        return Outcome(status, None, signed_at)

    async def _claim(self, session: AsyncSession, owed_id: uuid.UUID) -> Claimed | None:
        owed = await session.get(
            WebhookDelivery, owed_id, populate_existing=True, with_for_update=True
        )
        now = utcnow()
        if owed is None or owed.status != "pending":
            return None
        if owed.next_attempt_at is not None and owed.next_attempt_at > now:
            return None  # another attempt holds it, or it is not due
        secret = await self._secret(session, owed)
        if secret is None:  # the target was disabled or removed meanwhile
            owed.status, owed.next_attempt_at = "abandoned", None
            owed.last_error = "the endpoint is disabled or gone"
            return None
        owed.next_attempt_at = now + ATTEMPT_LEASE
        return Claimed(owed.url, secret, owed.webhook_id, owed.payload, owed.trace_context)

    async def _secret(self, session: AsyncSession, owed: WebhookDelivery) -> bytes | None:
        """The target's current secret: a rotated one signs from the next attempt on."""
        if owed.endpoint_id is not None:
            endpoint = await session.get(WebhookEndpoint, owed.endpoint_id)
            if endpoint is None or endpoint.disabled_at is not None:
                return None
            return parsed(endpoint.secret)
        inbox = await session.get(Inbox, owed.inbox_id, populate_existing=True)
        if inbox is None or inbox.webhook_url != owed.url:
            return None
        return inbox_webhook_secret(self._key, inbox.id, inbox.webhook_secret_generation)


async def _settle(session: AsyncSession, owed: WebhookDelivery, outcome: Outcome) -> None:
    now = utcnow()
    owed.attempts += 1
    owed.timestamp = outcome.signed_at
    if outcome.error is None:
        owed.status, owed.delivered_at, owed.next_attempt_at = "delivered", now, None
        on_commit(session, WEBHOOK_DELIVERIES.labels("delivered").inc)
        if owed.event_type in STORED_MAIL:
            observe_stage_on_commit(session, "stored_to_webhook", owed.created_at)
        return
    owed.last_error = outcome.error[:2000]
    if outcome.refused:
        owed.status, owed.next_attempt_at = "abandoned", None
        on_commit(session, WEBHOOK_DELIVERIES.labels("refused").inc)
        return
    on_commit(session, WEBHOOK_DELIVERIES.labels("failed").inc)
    retry_at = None if outcome.status == GONE else next_attempt(owed.attempts, now)
    if retry_at is not None:
        owed.next_attempt_at = retry_at
        return
    owed.status, owed.next_attempt_at = "abandoned", None
    why = "answered 410 Gone" if outcome.status == GONE else f"failed {owed.attempts} attempts"
    await _disable_target(session, owed, why)


async def _disable_target(session: AsyncSession, owed: WebhookDelivery, why: str) -> None:
    """Stop calling a target that is gone or keeps failing, and say so in the audit log."""
    if owed.endpoint_id is not None:
        endpoint = await session.get(WebhookEndpoint, owed.endpoint_id)
        if endpoint is None or endpoint.disabled_at is not None:
            return
        endpoint.disabled_at = utcnow()
        endpoint.disabled_reason = why
        target = f"webhook:{endpoint.id}"
    else:
        inbox = await session.get(Inbox, owed.inbox_id)
        if inbox is None or inbox.webhook_url != owed.url:
            return
        inbox.webhook_url = None
        target = f"inbox:{inbox.slug}"
    record_audit(
        session,
        workspace_id=owed.workspace_id,
        mail_id=owed.id,
        action="webhook.disabled",
        actor="system:dispatch",
        source="webhooks",
        target=f"{target} ({owed.url}): {why}",
        producer=PRODUCER,
    )
