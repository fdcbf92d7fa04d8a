"""Dispatch wiring: outbound mail (``mail``), inbox webhooks and the audit stream
(``webhooks``), one group each; the webhook delivery worker (``delivery``); and the sweep that
fails sends a stopped dispatcher left mid-exchange."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import httpx

from mailmoat.common.events.base import utcnow
from mailmoat.common.service import Runtime, Service, every
from mailmoat.common.subscription import Subscription
from mailmoat.common.topics import Topic
from mailmoat.dispatch.adapters.deliveries import measure_backlog
from mailmoat.dispatch.adapters.egress import SafeEgress
from mailmoat.dispatch.adapters.relay import SmtpRelay
from mailmoat.dispatch.attempts import WebhookAttempts
from mailmoat.dispatch.delivery import DeliveryWorker
from mailmoat.dispatch.domain.fairness import Limits
from mailmoat.dispatch.mail import MailDispatcher, fail_interrupted_sends
from mailmoat.dispatch.settings import DispatchSettings
from mailmoat.dispatch.webhooks import WebhookDispatcher

log = logging.getLogger(__name__)

INTERRUPTED_SWEEP_SECONDS = 60.0
CONNECT_TIMEOUT_SECONDS = 3.0


def build_service(settings: DispatchSettings) -> Service:
    """The dispatch service."""
    relay = SmtpRelay(settings)
    dispatcher = MailDispatcher(relay, settings)
    client, worker = _delivery_worker(settings)
    webhooks = WebhookDispatcher(worker.offer)
    subscriptions: list[Subscription[Any]] = [
        Subscription(
            Topic.SEND_APPROVED,
            "dispatch-mail",
            dispatcher.on_send_approved,
            transactional=False,
            batch_handler=dispatcher.on_approved_batch,
        ),
        Subscription(
            Topic.INBOX_EVENTS,
            "dispatch-webhooks",
            webhooks.on_inbox_event,
            transactional=False,
            batch_handler=webhooks.on_inbox_events,
        ),
        Subscription(
            Topic.AUDIT,
            "dispatch-audit",
            webhooks.on_audit,
            transactional=False,
            batch_handler=webhooks.on_audits,
        ),
    ]

    async def fail_interrupted(runtime: Runtime) -> None:
        cutoff = utcnow() - timedelta(seconds=settings.interrupted_send_seconds)
        async with runtime.sessions() as session, session.begin():
            failed = await fail_interrupted_sends(session, cutoff, provider=dispatcher.provider)
        if failed:
            log.warning("%d sends interrupted mid-relay were failed", failed)
            runtime.relay.wake()

    return Service(
        name="dispatch",
        settings=settings,
        subscriptions=subscriptions,
        loops=[
            every(INTERRUPTED_SWEEP_SECONDS, "interrupted-send sweep", fail_interrupted),
            worker.run,
        ],
        measures=[measure_backlog],
        on_stop=[client.aclose, relay.close],
    )


def _delivery_worker(settings: DispatchSettings) -> tuple[httpx.AsyncClient, DeliveryWorker]:
    """The webhook delivery worker and the HTTP client it sends through (closed on stop)."""
    timeout = httpx.Timeout(settings.webhook_timeout_seconds, connect=CONNECT_TIMEOUT_SECONDS)
    # Room for every attempt the worker may have in flight: none waits for a pooled connection.
    pool = httpx.Limits(max_connections=settings.webhook_concurrency, max_keepalive_connections=20)
    client = httpx.AsyncClient(
        timeout=timeout, limits=pool, follow_redirects=False, trust_env=False
    )
    egress = SafeEgress(client, allowed=list(settings.egress_allowed_networks))
    key = settings.webhook_secret_key.get_secret_value().encode()
    attempts = WebhookAttempts(egress, key, settings.webhook_timeout_seconds)
    limits = Limits(
        total=settings.webhook_concurrency,
        per_workspace=settings.webhook_per_workspace,
        per_target=settings.webhook_per_target,
    )
    return client, DeliveryWorker(attempts, limits, settings.webhook_poll_seconds)
