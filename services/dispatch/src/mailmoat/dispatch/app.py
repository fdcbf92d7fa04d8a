"""Dispatch wiring: outbound mail, inbox webhooks and the audit stream, one group each."""

from __future__ import annotations

from typing import Any

import httpx

from mailmoat.common.consumer import Subscription
from mailmoat.common.service import Service
from mailmoat.common.topics import Topic
from mailmoat.dispatch.adapters.relay import SmtpRelay
from mailmoat.dispatch.handlers import MailDispatcher, WebhookNotifier, on_audit
from mailmoat.dispatch.settings import DispatchSettings


def build_service(settings: DispatchSettings) -> Service:
    """The dispatch service."""
    client = httpx.AsyncClient(timeout=settings.webhook_timeout_seconds, follow_redirects=False)
    dispatcher = MailDispatcher(SmtpRelay(settings))
    notifier = WebhookNotifier(client, settings)
    subscriptions: list[Subscription[Any]] = [
        Subscription(
            Topic.SEND_APPROVED, "dispatch-mail", dispatcher.on_send_approved, transactional=False
        ),
        Subscription(
            Topic.INBOX_EVENTS, "dispatch-webhooks", notifier.on_inbox_event, transactional=False
        ),
        Subscription(Topic.AUDIT, "dispatch-audit", on_audit),
    ]
    return Service(
        name="dispatch", settings=settings, subscriptions=subscriptions, on_stop=[client.aclose]
    )
