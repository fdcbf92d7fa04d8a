"""Policy wiring: inbound storage, the outbound chokepoint and sender status, one group each."""

from __future__ import annotations

from typing import Any

from mailmoat.common.consumer import Subscription
from mailmoat.common.service import Service
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic
from mailmoat.policy.handlers import on_mail_scanned, on_send_requested, on_sender_status


def build_service(settings: CommonSettings) -> Service:
    """The policy service."""
    subscriptions: list[Subscription[Any]] = [
        Subscription(Topic.SCANNED_MAIL, "policy-inbound", on_mail_scanned),
        Subscription(Topic.SEND_REQUESTED, "policy-outbound", on_send_requested),
        Subscription(Topic.SENDER_STATUS, "policy-sender-status", on_sender_status),
    ]
    return Service(name="policy", settings=settings, subscriptions=subscriptions)
