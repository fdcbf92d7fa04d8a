"""Policy wiring: inbound storage, the outbound chokepoint and sender status, one group each;
the sweep that auto-rejects held sends left unreviewed past their deadline; and, once after an
upgrade, the backfill of fingerprints for flagged mail stored before the copy check's index."""

from __future__ import annotations

import logging
from typing import Any

from mailmoat.common.consumer import Subscription
from mailmoat.common.events.base import utcnow
from mailmoat.common.service import Runtime, Service
from mailmoat.common.settings import CommonSettings
from mailmoat.common.topics import Topic
from mailmoat.policy.approvals import measure_held, reject_overdue_approvals
from mailmoat.policy.flagged import backfill_fingerprints
from mailmoat.policy.handlers import on_mail_scanned, on_sender_status
from mailmoat.policy.outbound import export_decision_series, on_send_requested
from mailmoat.policy.settings import PolicySettings

log = logging.getLogger(__name__)


def build_service(settings: CommonSettings) -> Service:
    """The policy service."""
    policy = settings if isinstance(settings, PolicySettings) else PolicySettings()
    subscriptions: list[Subscription[Any]] = [
        Subscription(Topic.SCANNED_MAIL, "policy-inbound", on_mail_scanned),
        # Transactions of its own: the send is prepared before the workspace's lock is taken.
        # A redelivery finds the send decided and does nothing.
        Subscription(
            Topic.SEND_REQUESTED, "policy-outbound", on_send_requested, transactional=False
        ),
        Subscription(Topic.SENDER_STATUS, "policy-sender-status", on_sender_status),
    ]

    async def sweep_approvals(runtime: Runtime) -> None:
        batch = policy.approval_sweep_batch
        while True:
            try:
                while await _sweep_once(runtime, batch) == batch:
                    pass
            except Exception:
                log.exception("approval sweep failed; retrying")
            if not await runtime.pause(policy.approval_sweep_seconds):
                return

    async def backfill(runtime: Runtime) -> None:
        # Once a round finds nothing, nothing will be left (new flagged mail is fingerprinted
        # when stored): the loop then only waits for the stop, as a service's loops must.
        left = True
        while True:
            try:
                if left:
                    batch = policy.fingerprint_backfill_batch
                    left = bool(await backfill_fingerprints(runtime.sessions, utcnow(), batch))
            except Exception:
                log.exception("fingerprint backfill failed; retrying")
            if not await runtime.pause(policy.approval_sweep_seconds):
                return

    export_decision_series()
    return Service(
        name="policy",
        settings=settings,
        subscriptions=subscriptions,
        loops=[sweep_approvals, backfill],
        measures=[measure_held],
    )


async def _sweep_once(runtime: Runtime, batch: int) -> int:
    async with runtime.sessions() as session, session.begin():
        rejected = await reject_overdue_approvals(session, utcnow(), batch)
    if rejected:
        log.info("auto-rejected %d held sends past their review window", rejected)
        runtime.relay.wake()
    return rejected
