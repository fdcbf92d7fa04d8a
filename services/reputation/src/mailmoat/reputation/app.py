"""Reputation wiring: consumes ``sent``, ``feedback``, reinstatements on ``sender-status``,
decided inbound mail on ``scanned-mail`` and releases on ``inbox-events``; publishes
``sender-status`` and ``sender-graph``."""

from __future__ import annotations

from typing import Any

from mailmoat.common.service import Service
from mailmoat.common.settings import CommonSettings
from mailmoat.common.subscription import Subscription, later
from mailmoat.common.topics import Topic
from mailmoat.reputation.handlers import count_sends, on_feedback, on_sender_status
from mailmoat.reputation.rates import measure_rates
from mailmoat.reputation.sender_graph import count_scanned, on_inbox_event


def build_service(settings: CommonSettings) -> Service:
    """The reputation service."""
    subscriptions: list[Subscription[Any]] = [
        Subscription(Topic.SENT, "reputation-sent", later, finish=count_sends),
        Subscription(Topic.FEEDBACK, "reputation-feedback", on_feedback),
        Subscription(Topic.SENDER_STATUS, "reputation-sender-status", on_sender_status),
        Subscription(Topic.SCANNED_MAIL, "reputation-scanned", later, finish=count_scanned),
        Subscription(Topic.INBOX_EVENTS, "reputation-releases", on_inbox_event),
    ]
    return Service(
        name="reputation",
        settings=settings,
        subscriptions=subscriptions,
        measures=[measure_rates],
    )
