"""Policy subscribers: store scanned mail for the agent; judge every requested send."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.audit import record_audit
from mailmoat.common.caps import WINDOW
from mailmoat.common.consumer import PoisonEvent
from mailmoat.common.db.tables import (
    AllowlistEntry,
    ApiKey,
    Inbox,
    Message,
    OutboundMessage,
    RawMessage,
    ScanVerdictRecord,
    SendReservation,
    Workspace,
)
from mailmoat.common.events import (
    Consensus,
    InboxEventKind,
    MailScanned,
    SendApproved,
    SendDecided,
    SenderSignal,
    SenderStatusChanged,
    SendRequested,
)
from mailmoat.common.events.base import utcnow
from mailmoat.common.mail.structured import StructuredMessage
from mailmoat.common.mailtext import html_to_text, read_mail_text
from mailmoat.common.outbox import stage_event, stage_inbox_event
from mailmoat.common.standing import standing_refusal
from mailmoat.common.topics import Topic
from mailmoat.policy.domain.html import sanitise_html
from mailmoat.policy.domain.inbound import agent_fields, located, withheld_reason
from mailmoat.policy.domain.outbound import AllowedRecipient, OutboundFacts, evaluate_outbound
from mailmoat.policy.domain.rules import OUTBOUND_RULES
from mailmoat.policy.domain.scrub import scrub

PRODUCER = "policy"
FLAGGED_LOOKBACK = timedelta(days=7)
APPROVE_SCOPE = "approve:mail"
SWEEP_BATCH = 500


async def on_mail_scanned(event: MailScanned, session: AsyncSession) -> None:
    """Store the message with its status and tell the inbox's listeners."""
    raw = await session.get(RawMessage, event.raw_ref)
    if raw is None or raw.workspace_id != event.workspace_id:
        raise PoisonEvent(f"raw message {event.raw_ref} not found")
    verdicts = list(
        await session.scalars(
            select(ScanVerdictRecord).where(ScanVerdictRecord.id.in_(event.verdict_ids))
        )
    )
    shown = agent_fields(*_agent_view(raw), located(f for v in verdicts for f in v.findings))
    dropped = any(v.findings_dropped for v in verdicts)
    quarantined = raw.quarantine_reason is not None
    header_id, thread_id = await _thread(session, raw, event.inbox_id)
    withheld = event.withheld or quarantined or dropped
    message = Message(
        workspace_id=event.workspace_id,
        inbox_id=event.inbox_id,
        mail_id=event.mail_id,
        raw_id=raw.id,
        from_address=shown.from_address,
        subject=shown.subject,
        text=shown.text,
        status="withheld" if withheld else _inbound_status(event),
        consensus=event.consensus.value,
        risk_score=event.risk_score,
        received_at=raw.received_at,
        withheld_reason=withheld_reason(
            raw.quarantine_reason,
            event.withheld_reason or "detectors",
            withheld=event.withheld,
            dropped=dropped,
        ),
        message_id_header=header_id,
        thread_id=thread_id,
        risk_reasons=[_reason(signal, shown.from_address) for signal in event.sender_signals],
    )
    session.add(message)
    await session.flush()
    kind = InboxEventKind.MESSAGE_WITHHELD if withheld else InboxEventKind.MESSAGE_RECEIVED
    stage_inbox_event(session, kind, message, producer=PRODUCER)


async def _thread(
    session: AsyncSession, raw: RawMessage, inbox_id: uuid.UUID
) -> tuple[str | None, uuid.UUID]:
    """The mail's Message-ID and thread: that of the newest earlier message of the same inbox
    it replies to or references, else a new thread."""
    if raw.structured is None:
        return None, uuid.uuid4()
    parsed = StructuredMessage.model_validate(raw.structured)
    refs = [r for r in (parsed.in_reply_to, *parsed.references) if r and _storable(r)][:50]
    if refs:
        query = (
            select(Message.thread_id)
            .where(
                Message.workspace_id == raw.workspace_id,
                Message.inbox_id == inbox_id,
                Message.message_id_header.in_(refs),
                Message.thread_id.is_not(None),
            )
            .order_by(Message.received_at.desc())
            .limit(1)
        )
        if (found := await session.scalar(query)) is not None:
            return _header(parsed.message_id), found
    return _header(parsed.message_id), uuid.uuid4()


def _storable(msg_id: str) -> bool:
    return len(msg_id) <= 998 and msg_id.isascii()


def _header(msg_id: str | None) -> str | None:
    return msg_id if msg_id and _storable(msg_id) else None


def _agent_view(raw: RawMessage) -> tuple[str, str, str, str]:
    """Sender address, sender text (as the detectors read it), subject and visible text: from
    ingest's parse, or from the raw text when ingest could not analyse the mail."""
    parsed = None if raw.structured is None else StructuredMessage.model_validate(raw.structured)
    if parsed is not None and not parsed.stands_in:
        sender = parsed.from_[0].address if parsed.from_ else ""
        return sender, parsed.sender_text(), parsed.subject, parsed.visible_text
    text = read_mail_text(raw.raw)
    body = text.text or html_to_text(text.html)
    return parseaddr(text.from_address)[1], text.from_address, text.subject, body


def _reason(signal: SenderSignal, shown_address: str) -> str:
    # A signal's detail names the sender: once its address is kept from the agent, so is that.
    return f"{signal.code}: {signal.detail}" if shown_address else signal.code


def _inbound_status(event: MailScanned) -> str:
    return "review" if event.consensus is Consensus.REVIEW else "delivered"


async def on_send_requested(event: SendRequested, session: AsyncSession) -> None:
    """Run the outbound rules: approve to dispatch, hold for a person (L4, or a tainted
    context), or reject with the violation."""
    outbound = await session.get(OutboundMessage, event.mail_id)
    if outbound is None or outbound.workspace_id != event.workspace_id:
        raise PoisonEvent(f"outbound message {event.mail_id} not found")
    if outbound.status != "requested":
        return
    # What leaves carries no hidden characters, whatever the rules decide.
    outbound.subject = scrub(outbound.subject).text
    outbound.text = scrub(outbound.text).text
    facts = await _gather_facts(session, outbound)
    outbound.html = _html_for(outbound, facts)
    decision = evaluate_outbound(facts, OUTBOUND_RULES)
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
        stage_inbox_event(
            session, InboxEventKind.OUTBOUND_PENDING_APPROVAL, outbound, producer=PRODUCER
        )
    else:
        outbound.status = "approved"
        _reserve(session, outbound, facts.now)
        approved = SendApproved(
            mail_id=outbound.id,
            workspace_id=outbound.workspace_id,
            inbox_id=outbound.inbox_id,
            risk_score=decision.risk_score,
        )
        stage_event(session, Topic.SEND_APPROVED, approved, producer=PRODUCER)
    _stage_decision(session, outbound)


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


async def reject_overdue_approvals(session: AsyncSession, now: datetime) -> int:
    """Auto-reject held sends nobody decided within their inbox's review window; returns how
    many. Each is audited and announced like a person's rejection; it costs no credit."""
    rows = await session.execute(
        select(OutboundMessage.id, OutboundMessage.created_at, Inbox.approval_timeout_seconds)
        .join(Inbox, Inbox.id == OutboundMessage.inbox_id)
        .where(OutboundMessage.status == "pending_approval")
        .order_by(OutboundMessage.created_at)
        .limit(SWEEP_BATCH)
    )
    overdue = [
        (outbound_id, timeout)
        for outbound_id, created_at, timeout in rows.all()
        if created_at + timedelta(seconds=timeout) <= now
    ]
    rejected = 0
    for outbound_id, timeout in overdue:
        # Conditional, so a person's decision committed meanwhile wins.
        result = await session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == outbound_id, OutboundMessage.status == "pending_approval")
            .values(
                status="rejected",
                decision_code="approval_timeout",
                decision_message=f"Nobody reviewed the send within {timeout} seconds",
                reviewed_by="system:approval_timeout",
                reviewed_at=now,
            )
        )
        if cast(CursorResult[Any], result).rowcount != 1:
            continue
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
        rejected += 1
    return rejected


async def on_sender_status(event: SenderStatusChanged, session: AsyncSession) -> None:
    """Remember a sender's standing (an inbox's, or the workspace's) for the capability rule."""
    sender: Inbox | Workspace | None
    if event.inbox_id is None:
        sender = await session.get(Workspace, event.workspace_id)
    else:
        sender = await session.get(Inbox, event.inbox_id)
        if sender is not None and sender.workspace_id != event.workspace_id:
            sender = None
    if sender is None:
        raise PoisonEvent(f"sender of {event.event_id} not found")
    sender.sending_status = event.status
    sender.sending_status_until = event.until


async def _gather_facts(session: AsyncSession, outbound: OutboundMessage) -> OutboundFacts:
    """The send's facts, with the cap counts read under a lock on the workspace row (SQLite's
    write transaction is already exclusive), held until the reservations are written."""
    workspace = await session.scalar(
        select(Workspace)
        .where(Workspace.id == outbound.workspace_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    inbox = await session.get(Inbox, outbound.inbox_id)
    if workspace is None or inbox is None:
        raise PoisonEvent(f"workspace or inbox of outbound {outbound.id} not found")
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
        subject=outbound.subject,
        text=outbound.text,
        html=outbound.html,
        flagged_inbound=await _flagged_inbound(session, outbound.workspace_id, now),
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


async def _flagged_inbound(
    session: AsyncSession, workspace_id: uuid.UUID, now: datetime
) -> tuple[str, ...]:
    """The workspace's last week of inbound mail held for REVIEW or WITHHELD (newest 200)."""
    query = (
        select(Message.text)
        .where(
            Message.workspace_id == workspace_id,
            Message.status.in_(("review", "withheld")),
            Message.received_at >= now - FLAGGED_LOOKBACK,
        )
        .order_by(Message.received_at.desc())
        .limit(200)
    )
    return tuple(await session.scalars(query))


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


def _html_for(outbound: OutboundMessage, facts: OutboundFacts) -> str | None:
    """Sanitised HTML when every recipient's allowlist row allows HTML; otherwise text only."""
    if not outbound.html:
        return None
    html_ok = {entry.address.lower() for entry in facts.allowlist if entry.allow_html}
    if not all(r.lower() in html_ok for r in outbound.recipients):
        return None
    return sanitise_html(scrub(outbound.html).text)


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
