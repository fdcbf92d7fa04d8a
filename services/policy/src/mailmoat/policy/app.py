"""Policy wiring: inbound storage, the outbound chokepoint and sender status, one group each,
and the sweep that auto-rejects held sends left unreviewed past their window."""

from __future__ import annotations

import logging
from typing import Any

from mailmoat.common.consumer import Subscription
from mailmoat.common.events.base import utcnow
from mailmoat.common.service import Runtime, Service
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic
from mailmoat.policy.handlers import (
    SWEEP_BATCH,
    on_mail_scanned,
    on_send_requested,
    on_sender_status,
    reject_overdue_approvals,
)
from mailmoat.policy.settings import PolicySettings

log = logging.getLogger(__name__)


def build_service(settings: CommonSettings) -> Service:
    """The policy service."""
    interval = (
        settings if isinstance(settings, PolicySettings) else PolicySettings()
    ).approval_sweep_seconds
    subscriptions: list[Subscription[Any]] = [
        Subscription(Topic.SCANNED_MAIL, "policy-inbound", on_mail_scanned),
        Subscription(Topic.SEND_REQUESTED, "policy-outbound", on_send_requested),
        Subscription(Topic.SENDER_STATUS, "policy-sender-status", on_sender_status),
    ]

    async def sweep_approvals(runtime: Runtime) -> None:
        while True:
            try:
                while await _sweep_once(runtime) == SWEEP_BATCH:
                    pass
            except Exception:
                log.exception("approval sweep failed; retrying")
            if not await runtime.pause(interval):
                return

    return Service(
        name="policy",
        settings=settings,
        subscriptions=subscriptions,
        loops=[sweep_approvals],
    )


async def _sweep_once(runtime: Runtime) -> int:
    async with runtime.sessions() as session, session.begin():
        rejected = await reject_overdue_approvals(session, utcnow())
    if rejected:
        log.info("auto-rejected %d held sends past their review window", rejected)
        runtime.relay.wake()
    return rejected
