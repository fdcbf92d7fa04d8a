"""Reputation wiring: consumes ``sent``, ``feedback`` and reinstatements on ``sender-status``;
publishes ``sender-status``."""

from __future__ import annotations

from typing import Any

from mailmoat.common.consumer import Subscription
from mailmoat.common.service import Service
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic
from mailmoat.reputation.handlers import on_feedback, on_sender_status, on_sent


def build_service(settings: CommonSettings) -> Service:
    """The reputation service."""
    subscriptions: list[Subscription[Any]] = [
        Subscription(Topic.SENT, "reputation-sent", on_sent),
        Subscription(Topic.FEEDBACK, "reputation-feedback", on_feedback),
        Subscription(Topic.SENDER_STATUS, "reputation-sender-status", on_sender_status),
    ]
    return Service(name="reputation", settings=settings, subscriptions=subscriptions)
