"""Dispatch wiring: outbound mail, inbox webhooks and the audit stream, one group each, and the
sweep that fails sends a stopped dispatcher left mid-exchange."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import httpx

from mailmoat.common.consumer import Subscription
from mailmoat.common.events.base import utcnow
from mailmoat.common.service import Runtime, Service
from mailmoat.common.topics import Topic
from mailmoat.dispatch.adapters.egress import SafeEgress
from mailmoat.dispatch.adapters.relay import SmtpRelay
from mailmoat.dispatch.handlers import MailDispatcher, WebhookDispatcher, fail_interrupted_sends
from mailmoat.dispatch.settings import DispatchSettings

log = logging.getLogger(__name__)

INTERRUPTED_SWEEP_SECONDS = 60.0
CONNECT_TIMEOUT_SECONDS = 3.0
WEBHOOK_RETRY_POLL_SECONDS = 1.0


def build_service(settings: DispatchSettings) -> Service:
    """The dispatch service."""
    timeout = httpx.Timeout(settings.webhook_timeout_seconds, connect=CONNECT_TIMEOUT_SECONDS)
    client = httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False)
    egress = SafeEgress(client, allowed=list(settings.egress_allowed_networks))
    relay = SmtpRelay(settings)
    dispatcher = MailDispatcher(relay, settings)
    webhooks = WebhookDispatcher(egress, settings)
    subscriptions: list[Subscription[Any]] = [
        Subscription(
            Topic.SEND_APPROVED, "dispatch-mail", dispatcher.on_send_approved, transactional=False
        ),
        Subscription(
            Topic.INBOX_EVENTS, "dispatch-webhooks", webhooks.on_inbox_event, transactional=False
        ),
        Subscription(Topic.AUDIT, "dispatch-audit", webhooks.on_audit, transactional=False),
    ]

    async def retry_webhooks(runtime: Runtime) -> None:
        while True:
            try:
                async with runtime.sessions() as session:
                    tried = await webhooks.retry_due(session, utcnow())
                if tried:
                    runtime.relay.wake()
            except Exception:
                log.exception("webhook retry loop failed; retrying")
            if not await runtime.pause(WEBHOOK_RETRY_POLL_SECONDS):
                return

    async def fail_interrupted(runtime: Runtime) -> None:
        while True:
            try:
                cutoff = utcnow() - timedelta(seconds=settings.interrupted_send_seconds)
                async with runtime.sessions() as session, session.begin():
                    failed = await fail_interrupted_sends(
                        session, cutoff, provider=dispatcher.provider
                    )
                if failed:
                    log.warning("%d sends interrupted mid-relay were failed", failed)
                    runtime.relay.wake()
            except Exception:
                log.exception("interrupted-send sweep failed; retrying")
            if not await runtime.pause(INTERRUPTED_SWEEP_SECONDS):
                return

    return Service(
        name="dispatch",
        settings=settings,
        subscriptions=subscriptions,
        loops=[fail_interrupted, retry_webhooks],
        on_stop=[client.aclose, relay.close],
    )
