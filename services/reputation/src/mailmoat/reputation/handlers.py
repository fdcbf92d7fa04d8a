"""Reputation subscribers: what each sender sent and what came back, counted per hour, and its
standing judged again (see ``domain`` for the rules): after every complaint, bounce or
reinstatement, and once for a batch of sends (``judge_senders``), as sends only lower the rates
(a minute's sending is judged before the next minute's is counted, so no burst is missed)."""

from __future__ import annotations

import uuid
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


async def on_sent(event: MailSent, session: AsyncSession) -> None:
    """Count a relay outcome, once per recipient, for the inbox and its workspace."""
    stats = await _stats(session, event.inbox_id, event.workspace_id)
    messages = len(event.recipients) or 1
    delivered = event.status == "sent"
    if delivered:
        stats.sent_count += 1
    else:
        stats.failed_count += 1
    stats.last_event_at = event.occurred_at
    first = await _first_contacts(session, event) if delivered else 0
    counts = {"sent": messages, "first_contacts": first} if delivered else {"failed": messages}
    unjudged = _unjudged(session)
    for scope, scope_id in ((INBOX, event.inbox_id), (WORKSPACE, event.workspace_id)):
        standing = await _standing(session, scope, scope_id, event.workspace_id)
        await _count(session, standing, event.occurred_at, counts)
        if delivered:
            if (
                standing.minute != minute_of(event.occurred_at)
                and (scope, scope_id) in unjudged
                and burst(standing.minute_sent, standing.minute_first_contacts, week_sent=0)
            ):
                await _judge(session, standing)  # a burst ending, before it is forgotten
            _tick_minute(standing, event.occurred_at, messages, first)
        unjudged.add((scope, scope_id))


async def judge_senders(session: AsyncSession) -> None:
    """Judge each sender the sends in this transaction counted for, once."""
    unjudged = _unjudged(session)
    for scope, scope_id in sorted(unjudged, key=str):
        standing = await session.get(SenderStanding, (scope, scope_id), with_for_update=True)
        if standing is not None:
            await _judge(session, standing)
    unjudged.clear()


def _unjudged(session: AsyncSession) -> set[tuple[str, uuid.UUID]]:
    """The senders whose sends were counted in the session's transaction and not judged yet."""
    found: set[tuple[str, uuid.UUID]] = session.info.setdefault("reputation.unjudged", set())
    return found


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
        await _count(session, standing, event.occurred_at, counts)
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
    session: AsyncSession, standing: SenderStanding, at: datetime, counts: dict[str, int]
) -> None:
    """Add to the sender's bucket for that hour, atomically (replicas may share a sender)."""
    key = (
        ReputationBucket.scope == standing.scope,
        ReputationBucket.scope_id == standing.scope_id,
        ReputationBucket.epoch == standing.epoch,
        ReputationBucket.hour == hour_of(at),
    )
    columns = ReputationBucket.__table__.c
    added = await session.execute(
        update(ReputationBucket)
        .where(*key)
        .values({name: columns[name] + n for name, n in counts.items()})
    )
    if added.rowcount == 0:  # type: ignore[attr-defined]
        session.add(
            ReputationBucket(
                scope=standing.scope,
                scope_id=standing.scope_id,
                epoch=standing.epoch,
                hour=hour_of(at),
                workspace_id=standing.workspace_id,
                **{"sent": 0, "failed": 0, "hard_bounces": 0, "soft_bounces": 0}
                | {"complaints": 0, "first_contacts": 0}
                | counts,
            )
        )
        await session.flush()


def _tick_minute(standing: SenderStanding, at: datetime, sent: int, first: int) -> None:
    minute = minute_of(at)
    if standing.minute != minute:
        standing.minute, standing.minute_sent, standing.minute_first_contacts = minute, 0, 0
    standing.minute_sent += sent
    standing.minute_first_contacts += first


async def _first_contacts(session: AsyncSession, event: MailSent) -> int:
    """How many of the send's recipients the inbox had never written to; remembers them."""
    wanted = sorted({r.lower() for r in event.recipients})
    known = set(
        await session.scalars(
            select(SentRecipient.recipient).where(
                SentRecipient.inbox_id == event.inbox_id, SentRecipient.recipient.in_(wanted)
            )
        )
    )
    for recipient in wanted:
        if recipient not in known:
            session.add(
                SentRecipient(
                    inbox_id=event.inbox_id,
                    recipient=recipient,
                    workspace_id=event.workspace_id,
                    first_sent_at=event.occurred_at,
                )
            )
    return len(wanted) - len(known)


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
