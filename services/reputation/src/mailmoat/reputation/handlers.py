"""Reputation subscribers: what each sender sent and what came back, counted per hour, and its
standing judged again (see ``domain`` for the rules): after every complaint, bounce or
reinstatement, and once for a batch of sends (``count_sends``), as sends only lower the rates
(a minute that may have been a burst is judged before the next minute is counted, so no burst
is missed)."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.tables import (
    CountedFeedback,
    ReputationBucket,
    SenderStanding,
    SenderStats,
    SentRecipient,
)
from mailmoat.common.events import FeedbackReceived, MailSent, SenderStatusChanged
from mailmoat.common.events.base import utcnow
from mailmoat.common.standing import REPUTATION, announce_standing
from mailmoat.reputation.domain import (
    THROTTLE_FOR,
    WINDOWS,
    Window,
    burst,
    feedback_identity,
    hour_of,
    judge,
    minute_of,
)

PRODUCER = "reputation"
INBOX, WORKSPACE = "inbox", "workspace"
_FEEDBACK_COLUMN = {
    "complaint": "complaints",
    "hard_bounce": "hard_bounces",
    "soft_bounce": "soft_bounces",
}


async def count_sends(events: list[MailSent], session: AsyncSession) -> None:
    """Count relay outcomes, once per recipient, for each inbox and its workspace, in order:
    one write per sender and hour, then each sender judged once."""
    keys = sorted(
        {(scope, scope_id, e.workspace_id) for e in events for scope, scope_id in _senders(e)},
        key=str,
    )
    # Locked in one order, so that replicas sharing a workspace never wait on each other in turn.
    standings = {(k[0], k[1]): await _standing(session, *k) for k in keys}
    pending: dict[tuple[str, uuid.UUID], dict[datetime, Counter[str]]] = {
        key: defaultdict(Counter) for key in standings
    }
    firsts = await _first_contacts(session, events)
    for event, first in zip(events, firsts, strict=True):
        stats = await _stats(session, event.inbox_id, event.workspace_id)
        messages = len(event.recipients) or 1
        delivered = event.status == "sent"
        if delivered:
            stats.sent_count += 1
        else:
            stats.failed_count += 1
        stats.last_event_at = event.occurred_at
        counts = {"sent": messages, "first_contacts": first} if delivered else {"failed": messages}
        for key in _senders(event):
            standing = standings[key]
            pending[key][hour_of(event.occurred_at)].update(counts)
            if not delivered:
                continue
            if standing.minute != minute_of(event.occurred_at) and burst(
                standing.minute_sent, standing.minute_first_contacts, week_sent=0
            ):
                # A minute that may have been a burst ends: judge it before it is forgotten.
                await _count(session, standing, pending[key])
                await _judge(session, standing)
            _tick_minute(standing, event.occurred_at, messages, first)
    for key, standing in standings.items():
        await _count(session, standing, pending[key])
        await _judge(session, standing)


def _senders(event: MailSent) -> tuple[tuple[str, uuid.UUID], ...]:
    return (INBOX, event.inbox_id), (WORKSPACE, event.workspace_id)


async def on_feedback(event: FeedbackReceived, session: AsyncSession) -> None:
    """Count a complaint or bounce against the sending inbox and its workspace, once: the same
    report about the same send and recipient, arriving again, changes nothing."""
    if not await _first_time(session, event):
        return
    stats = await _stats(session, event.inbox_id, event.workspace_id)
    if event.kind == "complaint":
        stats.complaint_count += 1
    else:
        stats.bounce_count += 1
    stats.last_event_at = event.occurred_at
    counts = {_FEEDBACK_COLUMN[event.kind]: 1}
    for scope, scope_id in ((INBOX, event.inbox_id), (WORKSPACE, event.workspace_id)):
        standing = await _standing(session, scope, scope_id, event.workspace_id)
        await _count(session, standing, {hour_of(event.occurred_at): Counter(counts)})
        await _judge(session, standing)


async def _first_time(session: AsyncSession, event: FeedbackReceived) -> bool:
    """Remember the report; ``False`` when it was counted before. Two replicas racing on one
    report collide on the key, and the loser's retry finds it counted."""
    key = feedback_identity(event.outbound_id or event.mail_id, event.recipient, event.kind)
    if await session.get(CountedFeedback, key) is not None:
        return False
    outbound_id, recipient, kind = key
    session.add(
        CountedFeedback(
            outbound_id=outbound_id,
            recipient=recipient,
            kind=kind,
            workspace_id=event.workspace_id,
            counted_at=event.occurred_at,
        )
    )
    await session.flush()
    return True


async def on_sender_status(event: SenderStatusChanged, session: AsyncSession) -> None:
    """A person reinstated a sender: start a new epoch, so what led to the suspension is not
    counted again. Reputation's own announcements come back here too and change nothing."""
    if event.actor == REPUTATION or event.status != "active":
        return
    scope, scope_id = (
        (WORKSPACE, event.workspace_id)
        if event.inbox_id is None
        else (
            INBOX,
            event.inbox_id,
        )
    )
    standing = await _standing(session, scope, scope_id, event.workspace_id)
    standing.epoch += 1
    standing.epoch_started_at = utcnow()
    standing.status, standing.reason, standing.until = "active", event.reason, None
    standing.changed_at = utcnow()
    standing.minute, standing.minute_sent, standing.minute_first_contacts = None, 0, 0


async def windows(session: AsyncSession, standing: SenderStanding, now: datetime) -> list[Window]:
    """The sender's counts over each window, in its current epoch (at most 168 hourly rows), in
    one query."""
    bucket = ReputationBucket
    sums = []
    for _label, span in WINDOWS:
        within = bucket.hour >= hour_of(now - span)
        for column in (bucket.sent, bucket.hard_bounces, bucket.soft_bounces, bucket.complaints):
            sums.append(func.coalesce(func.sum(case((within, column), else_=0)), 0))
    longest = max(span for _label, span in WINDOWS)
    row = (
        await session.execute(
            select(*sums).where(
                bucket.scope == standing.scope,
                bucket.scope_id == standing.scope_id,
                bucket.epoch == standing.epoch,
                bucket.hour >= hour_of(now - longest),
            )
        )
    ).one()
    figures = [int(value) for value in row]
    return [Window(label, *figures[4 * i : 4 * i + 4]) for i, (label, _span) in enumerate(WINDOWS)]


async def _judge(session: AsyncSession, standing: SenderStanding) -> None:
    """Judge the sender again; announce a change of standing."""
    if standing.status == "suspended":
        return  # until a person reinstates it
    now = utcnow()
    counted = await windows(session, standing, now)
    verdict = judge(counted)
    status, reason, until = verdict.status, verdict.reason, None
    if status != "suspended":
        bursting = burst(standing.minute_sent, standing.minute_first_contacts, counted[1].sent)
        if bursting is not None:
            status, reason, until = "throttled", f"burst: {bursting}", now + THROTTLE_FOR
        elif standing.status == "throttled" and standing.until and standing.until > now:
            return  # the throttle runs its course
    if status == standing.status:
        return
    standing.status, standing.reason, standing.until, standing.changed_at = (
        status,
        reason,
        until,
        now,
    )
    announce_standing(
        session,
        workspace_id=standing.workspace_id,
        inbox_id=standing.scope_id if standing.scope == INBOX else None,
        status=status,  # type: ignore[arg-type]
        reason=reason,
        until=until,
        producer=PRODUCER,
    )


async def _count(
    session: AsyncSession, standing: SenderStanding, hours: dict[datetime, Counter[str]]
) -> None:
    """Add ``hours``' counts to the sender's hourly buckets, atomically (replicas may share a
    sender), and forget them."""
    columns = ReputationBucket.__table__.c
    for hour, counts in sorted(hours.items()):
        added = await session.execute(
            update(ReputationBucket)
            .where(
                ReputationBucket.scope == standing.scope,
                ReputationBucket.scope_id == standing.scope_id,
                ReputationBucket.epoch == standing.epoch,
                ReputationBucket.hour == hour,
            )
            .values({name: columns[name] + n for name, n in counts.items()})
        )
        if added.rowcount == 0:  # type: ignore[attr-defined]
            session.add(
                ReputationBucket(
                    scope=standing.scope,
                    scope_id=standing.scope_id,
                    epoch=standing.epoch,
                    hour=hour,
                    workspace_id=standing.workspace_id,
                    **{"sent": 0, "failed": 0, "hard_bounces": 0, "soft_bounces": 0}
                    | {"complaints": 0, "first_contacts": 0}
                    | dict(counts),
                )
            )
            await session.flush()
    hours.clear()


def _tick_minute(standing: SenderStanding, at: datetime, sent: int, first: int) -> None:
    minute = minute_of(at)
    if standing.minute != minute:
        standing.minute, standing.minute_sent, standing.minute_first_contacts = minute, 0, 0
    standing.minute_sent += sent
    standing.minute_first_contacts += first


async def _first_contacts(session: AsyncSession, events: list[MailSent]) -> list[int]:
    """For each send, how many of its recipients its inbox had never written to (none for a
    send that failed); remembers them."""
    wanted: dict[uuid.UUID, set[str]] = defaultdict(set)
    for event in events:
        if event.status == "sent":
            wanted[event.inbox_id].update(r.lower() for r in event.recipients)
    known: dict[uuid.UUID, set[str]] = {}
    for inbox_id, recipients in wanted.items():
        known[inbox_id] = set(
            await session.scalars(
                select(SentRecipient.recipient).where(
                    SentRecipient.inbox_id == inbox_id,
                    SentRecipient.recipient.in_(sorted(recipients)),
                )
            )
        )
    firsts = []
    for event in events:
        first = 0
        if event.status == "sent":
            seen = known[event.inbox_id]
            for recipient in sorted({r.lower() for r in event.recipients} - seen):
                seen.add(recipient)
                first += 1
                session.add(
                    SentRecipient(
                        inbox_id=event.inbox_id,
                        recipient=recipient,
                        workspace_id=event.workspace_id,
                        first_sent_at=event.occurred_at,
                    )
                )
        firsts.append(first)
    return firsts


async def _standing(
    session: AsyncSession, scope: str, scope_id: uuid.UUID, workspace_id: uuid.UUID
) -> SenderStanding:
    standing = await session.get(
        SenderStanding, (scope, scope_id), with_for_update=True, populate_existing=True
    )
    if standing is None:
        standing = SenderStanding(
            scope=scope,
            scope_id=scope_id,
            workspace_id=workspace_id,
            epoch=0,
            epoch_started_at=utcnow(),
            status="active",
            changed_at=utcnow(),
            minute_sent=0,
            minute_first_contacts=0,
        )
        session.add(standing)
        await session.flush()
    return standing


async def _stats(
    session: AsyncSession, inbox_id: uuid.UUID, workspace_id: uuid.UUID
) -> SenderStats:
    stats = await session.get(SenderStats, inbox_id)
    if stats is None:
        stats = SenderStats(
            inbox_id=inbox_id,
            workspace_id=workspace_id,
            sent_count=0,
            failed_count=0,
            complaint_count=0,
            bounce_count=0,
        )
        session.add(stats)
    return stats
