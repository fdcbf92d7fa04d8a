"""Policy wiring: the inbound journey (``inbound``), the outbound chokepoint (``outbound``) and
sender standing (``senders``), one consumer group each; and the periodic work (``sweeps``)."""

from __future__ import annotations

from typing import Any

from mailmoat.common.service import Service
from mailmoat.common.subscription import Subscription
from mailmoat.common.topics import Topic
from mailmoat.policy.inbound import on_mail_scanned
from mailmoat.policy.outbound import (
    export_decision_series,
    on_requested_batch,
    on_send_requested,
)
from mailmoat.policy.senders import on_sender_status
from mailmoat.policy.settings import PolicySettings
from mailmoat.policy.sweeps import (
    approval_sweep,
    audit_sealing,
    fingerprint_backfill,
    measure_held,
)


def build_service(settings: PolicySettings) -> Service:
    """The policy service."""
    subscriptions: list[Subscription[Any]] = [
        Subscription(Topic.SCANNED_MAIL, "policy-inbound", on_mail_scanned),
        # Transactions of its own: the send is prepared before the workspace's lock is taken;
        # a batch's sends are judged in one transaction. A redelivery finds a send decided and
        # does nothing.
        Subscription(
            Topic.SEND_REQUESTED,
            "policy-outbound",
            on_send_requested,
            transactional=False,
            batch_handler=on_requested_batch,
            prompt=True,  # the send call waits on the decision
        ),
        Subscription(Topic.SENDER_STATUS, "policy-sender-status", on_sender_status),
    ]
    export_decision_series()
    return Service(
        name="policy",
        settings=settings,
        subscriptions=subscriptions,
        loops=[approval_sweep(settings), fingerprint_backfill(settings), audit_sealing(settings)],
        measures=[measure_held],
    )
