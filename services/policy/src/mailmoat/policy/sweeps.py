"""Policy's periodic work: held sends nobody decided by their deadline are auto-rejected,
flagged mail stored before the copy check's index is fingerprinted, and audit rows are sealed
into their workspace's chain.

Each held send carries its deadline (``expires_at``: its request time plus its inbox's review
window, set when policy holds it), and the sweep takes the most overdue first, across every
workspace, by an index on (status, expires_at): sends still inside a long window are never read,
so no workspace's queue can hide another's overdue sends.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.audit import record_audit
from mailmoat.common.audit_seal import checkpoint_key, has_unsealed, seal
from mailmoat.common.db.session import reading
from mailmoat.common.db.tables import Inbox, OutboundMessage, Workspace
from mailmoat.common.events import InboxEventKind
from mailmoat.common.events.base import utcnow
from mailmoat.common.observability.metrics import (
    APPROVALS_NEXT_DEADLINE,
    APPROVALS_OLDEST_AGE,
    APPROVALS_PENDING,
    KILL_SWITCH_ENGAGED,
)
from mailmoat.common.outbound_status import OutboundStatus
from mailmoat.common.outbox import stage_inbox_event
from mailmoat.common.service import Runtime, Task, every
from mailmoat.policy.adapters.flagged import backfill_fingerprints
from mailmoat.policy.settings import PolicySettings

log = logging.getLogger(__name__)

PRODUCER = "policy"
HELD = OutboundStatus.PENDING_APPROVAL


def approval_sweep(settings: PolicySettings) -> Task:
    """Auto-reject overdue held sends, a batch per transaction, until a batch is not full."""
    batch = settings.approval_sweep_batch

    async def round_(runtime: Runtime) -> None:
        while True:
            async with runtime.sessions() as session, session.begin():
                rejected = await reject_overdue_approvals(session, utcnow(), batch)
            if rejected:
                log.info("auto-rejected %d held sends past their review window", rejected)
                runtime.relay.wake()
            if rejected < batch:
                return

    return every(settings.approval_sweep_seconds, "approval sweep", round_)


def fingerprint_backfill(settings: PolicySettings) -> Task:
    """Fingerprint flagged mail stored before the copy check's index. Once a round finds
    nothing, nothing will be left (new flagged mail is fingerprinted when stored), and later
    rounds do nothing."""
    left = True

    async def round_(runtime: Runtime) -> None:
        nonlocal left
        if left:
            batch = settings.fingerprint_backfill_batch
            left = bool(await backfill_fingerprints(runtime.sessions, utcnow(), batch))

    return every(settings.approval_sweep_seconds, "fingerprint backfill", round_)


def audit_sealing(settings: PolicySettings) -> Task:
    """Link committed audit rows into their workspace's chain, and sign its head now and then
    (``mailmoat.common.audit_seal``)."""
    key = checkpoint_key(settings)
    every_ = timedelta(seconds=settings.audit_checkpoint_seconds)

    async def round_(runtime: Runtime) -> None:
        with reading():  # most rounds find nothing: they take no write lock
            async with runtime.sessions() as session, session.begin():
                if not await has_unsealed(session):
                    return
        while True:  # a backlog (rows from before the chain existed) round after round
            async with runtime.sessions() as session, session.begin():
                sealed = await seal(
                    session,
                    limit=settings.audit_seal_batch,
                    key=key,
                    checkpoint_every=every_,
                    producer=PRODUCER,
                )
            runtime.relay.wake()  # a checkpoint's audit event, if one was signed
            if sealed < settings.audit_seal_batch or runtime.stopping.is_set():
                return

    return every(settings.audit_seal_seconds, "audit sealing", round_)


async def measure_held(session: AsyncSession) -> None:
    """The approval queue and the kill switches, for ``/metrics``: across every workspace, so
    no series names one."""
    held = OutboundMessage.status == HELD
    count, oldest, deadline = (
        await session.execute(
            select(
                func.count(),
                func.min(OutboundMessage.created_at),
                func.min(OutboundMessage.expires_at),
            ).where(held)
        )
    ).one()
    now = utcnow()
    APPROVALS_PENDING.labels(PRODUCER).set(count)
    APPROVALS_OLDEST_AGE.labels(PRODUCER).set(
        0 if oldest is None else (now - oldest).total_seconds()
    )
    until = float("inf") if deadline is None else (deadline - now).total_seconds()
    APPROVALS_NEXT_DEADLINE.labels(PRODUCER).set(until)
    stopped = select(func.count()).where(Workspace.outbound_enabled.is_(False))
    KILL_SWITCH_ENGAGED.labels(PRODUCER).set(await session.scalar(stopped) or 0)


def review_deadline(outbound: OutboundMessage, inbox: Inbox) -> datetime:
    """When a held send is auto-rejected unless a person decides first."""
    return outbound.created_at + timedelta(seconds=inbox.approval_timeout_seconds)


async def reject_overdue_approvals(session: AsyncSession, now: datetime, batch: int) -> int:
    """Auto-reject up to ``batch`` held sends past their deadline, the most overdue first;
    returns how many. Each is audited and announced like a person's rejection; it costs no
    credit."""
    await _stamp_deadlines(session, batch)
    rows = await session.execute(
        select(OutboundMessage.id, OutboundMessage.created_at, OutboundMessage.expires_at)
        .where(OutboundMessage.status == HELD, OutboundMessage.expires_at <= now)
        .order_by(OutboundMessage.expires_at)
        .limit(batch)
    )
    rejected = 0
    for outbound_id, created_at, expires_at in rows.all():
        assert expires_at is not None  # the query asked for a deadline
        window = round((expires_at - created_at).total_seconds())
        rejected += await _reject(session, outbound_id, window, now)
    return rejected


async def _reject(session: AsyncSession, outbound_id: uuid.UUID, window: int, now: datetime) -> int:
    # Conditional, so a person's decision committed meanwhile wins.
    result = await session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == outbound_id, OutboundMessage.status == HELD)
        .values(
            status=OutboundStatus.REJECTED,
            decision_code="approval_timeout",
            decision_message=f"Nobody reviewed the send within {window} seconds",
            reviewed_by="system:approval_timeout",
            reviewed_at=now,
        )
    )
    if cast(CursorResult[Any], result).rowcount != 1:
        return 0
    outbound = await session.get(OutboundMessage, outbound_id, populate_existing=True)
    assert outbound is not None
    stage_inbox_event(session, InboxEventKind.OUTBOUND_REJECTED, outbound, producer=PRODUCER)
    record_audit(
        session,
        workspace_id=outbound.workspace_id,
        mail_id=outbound.id,
        action="outbound.approval_timed_out",
        actor="system:approval_timeout",
        source="cron:approval_sweep",
        target=",".join(outbound.recipients),
        subject=outbound.subject,
        producer=PRODUCER,
    )
    return 1


async def _stamp_deadlines(session: AsyncSession, batch: int) -> None:
    """Give a deadline to held sends that have none (held by a policy process older than the
    column, during an upgrade), up to ``batch`` of them."""
    rows = await session.execute(
        select(OutboundMessage.id, OutboundMessage.created_at, Inbox.approval_timeout_seconds)
        .join(Inbox, Inbox.id == OutboundMessage.inbox_id)
        .where(OutboundMessage.status == HELD, OutboundMessage.expires_at.is_(None))
        .limit(batch)
    )
    for outbound_id, created_at, window in rows.all():
        await session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == outbound_id)
            .values(expires_at=created_at + timedelta(seconds=window))
        )
