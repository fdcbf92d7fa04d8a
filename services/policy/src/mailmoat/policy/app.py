"""Policy wiring: the inbound journey (``inbound``), the outbound chokepoint (``outbound``) and
sender standing (``senders``), one consumer group each; and the periodic work (``sweeps``)."""

from __future__ import annotations

from functools import partial
from typing import Any

from mailmoat.common.service import Service
from mailmoat.common.subscription import Subscription
from mailmoat.common.topics import Topic
from mailmoat.policy.candidate import CandidatePolicy
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
    """The policy service (with a shadow policy beside the live one when
    ``MAILMOAT_POLICY_SHADOW_FILE`` names one)."""
    file = settings.policy_shadow_file
    shadow = None if file is None else CandidatePolicy.load(file)
    subscriptions: list[Subscription[Any]] = [
        Subscription(Topic.SCANNED_MAIL, "policy-inbound", on_mail_scanned),
        # Transactions of its own: the send is prepared before the workspace's lock is taken;
        # a batch's sends are judged in one transaction. A redelivery finds a send decided and
        # does nothing.
        Subscription(
            Topic.SEND_REQUESTED,
            "policy-outbound",
            partial(on_send_requested, shadow=shadow),
            transactional=False,
            batch_handler=partial(on_requested_batch, shadow=shadow),
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
