"""The outbound chokepoint's subscriber: every requested send judged by the outbound rules, then
approved for dispatch, held for a person (L4, or a tainted context) or rejected.

A decision takes two transactions. The first only reads (on SQLite it takes no write lock): the
send's text scrubbed of hidden characters, its HTML sanitised, its fingerprint, and the flagged
inbound mails that fingerprint finds in the index (``policy.flagged``). The second takes the
workspace's lock (SQLite's write lock; the workspace row on PostgreSQL), reads the cap counts and
the other facts, decides and records. What runs under the lock grows with the send and its
recipients, never with the mail the workspace has received.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.caps import WINDOW
from mailmoat.common.consumer import PoisonEvent
from mailmoat.common.db.session import reading
from mailmoat.common.db.tables import (
    AllowlistEntry,
    ApiKey,
    Inbox,
    Message,
    OutboundMessage,
    RawMessage,
    SendReservation,
    Workspace,
)
from mailmoat.common.events import InboxEventKind, SendApproved, SendDecided, SendRequested
from mailmoat.common.events.base import utcnow
from mailmoat.common.observability.metrics import POLICY_DECISIONS, observe_stage
from mailmoat.common.outbox import stage_event, stage_inbox_event
from mailmoat.common.standing import standing_refusal
from mailmoat.common.topics import Topic
from mailmoat.policy.approvals import review_deadline
from mailmoat.policy.audit import audit_decision
from mailmoat.policy.domain.fingerprint import PROBE_SIZE, Fingerprint, fingerprint
from mailmoat.policy.domain.html import sanitise_html
from mailmoat.policy.domain.outbound import (
    AllowedRecipient,
    OutboundDecision,
    OutboundFacts,
    evaluate_outbound,
)
from mailmoat.policy.domain.rules import OUTBOUND_RULES
from mailmoat.policy.domain.scrub import scrub
from mailmoat.policy.flagged import flagged_repeated

PRODUCER = "policy"
APPROVE_SCOPE = "approve:mail"


@dataclass(frozen=True)
class Draft:
    """A requested send as prepared before the lock."""

    requested: tuple[str, str, str | None]
    """Subject, text and HTML as the request stored them (a changed send is not this one)."""
    subject: str
    text: str
    html: str | None
    """Sanitised, for recipients whose allowlist rows allow HTML."""
    fingerprint: Fingerprint
    flagged: tuple[Fingerprint, ...]
    """Fingerprints of the flagged inbound mails the draft shares a hash with."""


async def on_send_requested(event: SendRequested, session: AsyncSession) -> None:
    """Prepare the send without a lock, then judge and record it under the workspace's."""
    with reading():
        async with session.begin():
            draft = await _prepare(session, event)
    if draft is None:
        return
    async with session.begin():
        await _decide(session, event, draft)


async def _prepare(session: AsyncSession, event: SendRequested) -> Draft | None:
    outbound = await session.get(OutboundMessage, event.mail_id)
    if outbound is None or outbound.workspace_id != event.workspace_id:
        raise PoisonEvent(f"outbound message {event.mail_id} not found")
    if outbound.status != "requested":
        return None
    # What leaves carries no hidden characters, whatever the rules decide.
    subject, text = scrub(outbound.subject).text, scrub(outbound.text).text
    html = sanitise_html(scrub(outbound.html).text) if outbound.html else None
    found = fingerprint(f"{subject}\n{text}", PROBE_SIZE)
    flagged = await flagged_repeated(session, outbound.workspace_id, found, utcnow())
    requested = (outbound.subject, outbound.text, outbound.html)
    return Draft(requested, subject, text, html, found, flagged)


async def _decide(session: AsyncSession, event: SendRequested, draft: Draft) -> None:
    workspace = await _locked_workspace(session, event.workspace_id)
    outbound = await session.get(OutboundMessage, event.mail_id, populate_existing=True)
    if outbound is None or not _still_requested(outbound, draft):
        return
    inbox = await session.get(Inbox, outbound.inbox_id)
    if inbox is None:
        raise PoisonEvent(f"inbox of outbound {outbound.id} not found")
    facts = await _gather_facts(session, outbound, workspace, inbox, draft)
    outbound.subject, outbound.text = draft.subject, draft.text
    outbound.html = draft.html if _html_allowed(outbound, facts) else None
    decision = evaluate_outbound(facts, OUTBOUND_RULES)
    _record(session, outbound, decision, facts.now, review_deadline(outbound, inbox))
    _stage_decision(session, outbound)
    _count(decision)
    if not event.reviewed:  # a person's approval is judged again: not the agent's wait
        observe_stage("send_to_decision", event.occurred_at)


VIOLATION_CODES = (
    "policy_violation",
    "cap_exceeded",
    "capability_disabled",
    "recipient_cooldown",
    "reply_outside_thread",
    "suspended",
    "tainted_context",
)
"""The codes a rule refuses a send with, exported at zero (``mailmoat_policy_decisions_total``)."""


def export_decision_series() -> None:
    for code in VIOLATION_CODES:
        POLICY_DECISIONS.labels("rejected", code)


def _count(decision: OutboundDecision) -> None:
    """``mailmoat_policy_decisions_total``: by decision and its first rule (a held send's
    reason before its colon: ``L4``, ``tainted_context``)."""
    if decision.violation is not None:
        POLICY_DECISIONS.labels("rejected", decision.violation.code).inc()
    elif decision.needs_approval:
        held = decision.held_reasons[0].partition(":")[0] if decision.held_reasons else "review"
        POLICY_DECISIONS.labels("held", held).inc()
    else:
        POLICY_DECISIONS.labels("approved", "none").inc()


def _still_requested(outbound: OutboundMessage, draft: Draft) -> bool:
    """Neither decided since the draft was prepared nor edited (an edit's own request judges
    the edited send)."""
    asked = (outbound.subject, outbound.text, outbound.html)
    return outbound.status == "requested" and asked == draft.requested


async def _locked_workspace(session: AsyncSession, workspace_id: uuid.UUID) -> Workspace:
    """The workspace row, locked until the transaction ends (PostgreSQL; SQLite's write
    transaction is already exclusive): the cap counts read under it hold until the
    reservations are written."""
    workspace = await session.scalar(
        select(Workspace)
        .where(Workspace.id == workspace_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if workspace is None:
        raise PoisonEvent(f"workspace {workspace_id} not found")
    return workspace


def _record(
    session: AsyncSession,
    outbound: OutboundMessage,
    decision: OutboundDecision,
    now: datetime,
    deadline: datetime,
) -> None:
    """Write the decision on the send, stage what follows from it and audit it."""
    outbound.risk_score = decision.risk_score
    outbound.risk_reasons = list(decision.risk_reasons)
    outbound.policy_checks = list(decision.checks)
    outbound.held_reasons = list(decision.held_reasons)
    if decision.violation is not None:
        outbound.status = "rejected"
        outbound.decision_code = decision.violation.code
        outbound.decision_message = decision.violation.message
        stage_inbox_event(session, InboxEventKind.OUTBOUND_REJECTED, outbound, producer=PRODUCER)
    elif decision.needs_approval:
        outbound.status = "pending_approval"
        outbound.expires_at = deadline
        stage_inbox_event(
            session, InboxEventKind.OUTBOUND_PENDING_APPROVAL, outbound, producer=PRODUCER
        )
    else:
        outbound.status = "approved"
        _reserve(session, outbound, now)
        approved = SendApproved(
            mail_id=outbound.id,
            workspace_id=outbound.workspace_id,
            inbox_id=outbound.inbox_id,
            risk_score=decision.risk_score,
        )
        stage_event(session, Topic.SEND_APPROVED, approved, producer=PRODUCER)
    audit_decision(session, outbound, decision)


def _stage_decision(session: AsyncSession, outbound: OutboundMessage) -> None:
    """The reply to the API call that may be waiting on this send (correlated by its id)."""
    status = "queued" if outbound.status == "approved" else outbound.status
    decided = SendDecided(
        mail_id=outbound.id,
        workspace_id=outbound.workspace_id,
        inbox_id=outbound.inbox_id,
        status=status,
        risk_score=outbound.risk_score,
        code=outbound.decision_code,
        message=outbound.decision_message,
    )
    stage_event(session, Topic.SEND_DECISIONS, decided, producer=PRODUCER)


async def _gather_facts(
    session: AsyncSession,
    outbound: OutboundMessage,
    workspace: Workspace,
    inbox: Inbox,
    draft: Draft,
) -> OutboundFacts:
    """The send's facts, read under the workspace's lock."""
    rows = await session.scalars(
        select(AllowlistEntry).where(AllowlistEntry.workspace_id == outbound.workspace_id)
    )
    now = utcnow()
    day, hour = now - WINDOW, now - timedelta(hours=1)
    mine = SendReservation.workspace_id == outbound.workspace_id
    by_recipient = await session.execute(
        select(SendReservation.recipient, func.count())
        .where(mine, SendReservation.reserved_at >= day)
        .where(SendReservation.recipient.in_([r.lower() for r in outbound.recipients]))
        .group_by(SendReservation.recipient)
    )
    workspace_24h, inbox_24h, inbox_1h = await _reserved(session, mine, inbox.id, day, hour)
    tainted_by = await _taint(session, outbound)
    return OutboundFacts(
        recipients=tuple(outbound.recipients),
        outbound_enabled=workspace.outbound_enabled,
        sending_status=inbox.sending_status,
        allowlist=tuple(AllowedRecipient(r.address, r.active_from, r.allow_html) for r in rows),
        now=now,
        inbox_active=inbox.deleted_at is None,
        standing_refusal=standing_refusal(workspace, inbox, now),
        workspace_sent_24h=workspace_24h,
        recipient_sent_24h={str(r): int(n) for r, n in by_recipient.all()},
        inbox_sent_1h=inbox_1h,
        inbox_sent_24h=inbox_24h,
        inbox_hourly_limit=inbox.hourly_send_limit,
        inbox_daily_limit=inbox.daily_send_limit,
        reply_participants=await _participants(session, outbound),
        subject=draft.subject,
        text=draft.text,
        html=outbound.html,
        draft_fingerprint=draft.fingerprint,
        flagged_inbound=draft.flagged,
        security_level=inbox.security_level,
        tainted_by=tainted_by,
        # Only a tainted send asks whether a person could approve it.
        has_approver=bool(tainted_by) and await _has_approver(session, outbound.workspace_id),
        reviewed=outbound.reviewed_at is not None,
        allowed_domains=(
            tuple(inbox.allowed_recipient_domains)
            if inbox.allowed_recipient_domains is not None
            else None
        ),
        blocked_keywords=tuple(inbox.blocked_keywords),
    )


async def _taint(session: AsyncSession, outbound: OutboundMessage) -> tuple[str, ...]:
    """What makes the send's context suspicious: the inbound mail it answers or names as its
    context was held for REVIEW, WITHHELD, or failed DMARC."""
    ids = [outbound.in_reply_to, *map(uuid.UUID, outbound.context_message_ids)]
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return ()
    rows = await session.execute(
        select(Message.id, Message.status, RawMessage.authentication)
        .join(RawMessage, RawMessage.id == Message.raw_id)
        .where(Message.workspace_id == outbound.workspace_id, Message.id.in_(wanted))
    )
    reasons = []
    for message_id, status, authentication in rows.all():
        if status in ("review", "withheld"):
            reasons.append(f"inbound message {message_id}, held as {status}")
        dmarc = ((authentication or {}).get("dmarc") or {}).get("result")
        if dmarc == "fail":
            reasons.append(f"inbound message {message_id}, which failed DMARC")
    return tuple(reasons)


async def _has_approver(session: AsyncSession, workspace_id: uuid.UUID) -> bool:
    keys = await session.scalars(
        select(ApiKey).where(ApiKey.workspace_id == workspace_id, ApiKey.revoked_at.is_(None))
    )
    return any(APPROVE_SCOPE in key.scopes for key in keys)


async def _participants(session: AsyncSession, outbound: OutboundMessage) -> frozenset[str] | None:
    """Everyone in the thread a reply answers: the senders of its inbound messages and the
    recipients of the sends that answered them."""
    if outbound.in_reply_to is None:
        return None
    answered = await session.get(Message, outbound.in_reply_to)
    if answered is None or answered.workspace_id != outbound.workspace_id:
        return frozenset()  # nothing to answer: nobody may be mailed as a reply
    thread = select(Message).where(
        Message.workspace_id == outbound.workspace_id,
        Message.thread_id == answered.thread_id
        if answered.thread_id
        else Message.id == answered.id,
    )
    messages = list(await session.scalars(thread))
    people = {m.from_address.lower() for m in messages}
    replies = await session.scalars(
        select(OutboundMessage).where(
            OutboundMessage.workspace_id == outbound.workspace_id,
            OutboundMessage.in_reply_to.in_([m.id for m in messages]),
            OutboundMessage.status.in_(("approved", "sending", "sent")),
        )
    )
    for reply in replies:
        people.update(r.lower() for r in reply.recipients)
    return frozenset(people)


def _html_allowed(outbound: OutboundMessage, facts: OutboundFacts) -> bool:
    """Whether every recipient's allowlist row allows HTML (otherwise the send is text only)."""
    html_ok = {entry.address.lower() for entry in facts.allowlist if entry.allow_html}
    return all(r.lower() in html_ok for r in outbound.recipients)


async def _reserved(
    session: AsyncSession,
    mine: ColumnElement[bool],
    inbox_id: uuid.UUID,
    day: datetime,
    hour: datetime,
) -> tuple[int, int, int]:
    """Reservations in the last 24 h of the workspace and of the inbox, and of the inbox in
    the last hour, in one pass over the ledger."""
    from_inbox = SendReservation.inbox_id == inbox_id
    recent = SendReservation.reserved_at >= hour
    query = select(
        func.count(),
        func.coalesce(func.sum(case((from_inbox, 1), else_=0)), 0),
        func.coalesce(func.sum(case((from_inbox & recent, 1), else_=0)), 0),
    ).where(mine, SendReservation.reserved_at >= day)
    row = (await session.execute(query)).one()
    return int(row[0]), int(row[1]), int(row[2])


def _reserve(session: AsyncSession, outbound: OutboundMessage, at: datetime) -> None:
    """Count an approved send against the caps, in the transaction that approves it."""
    for recipient in sorted({r.lower() for r in outbound.recipients}):
        session.add(
            SendReservation(
                workspace_id=outbound.workspace_id,
                inbox_id=outbound.inbox_id,
                outbound_id=outbound.id,
                recipient=recipient,
                reserved_at=at,
            )
        )
