"""The outbound chokepoint's subscriber: every requested send judged by the outbound rules, then
approved for dispatch, held for a person (L4, a tainted context, a data leak) or rejected.

A decision takes two transactions. The first only reads (on SQLite it takes no write lock): the
send's text scrubbed of hidden characters, its HTML sanitised, its fingerprint, the flagged
inbound mails that fingerprint finds in the index (``adapters.flagged``), the inbound mails it
copies at length (``adapters.copies``, a bounded scan) and the workspace's canary tokens. The
second takes the workspace's lock (SQLite's write lock; the workspace row on PostgreSQL), reads
the cap counts and the other facts, decides and records. What runs under the lock grows with the
send and its recipients, never with the mail the workspace has received."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.caps import CapCounts, CapLedger
from mailmoat.common.db.session import reading
from mailmoat.common.db.tables import AllowlistEntry, Inbox, OutboundMessage, Workspace
from mailmoat.common.events import InboxEventKind, SendApproved, SendDecided, SendRequested
from mailmoat.common.events.base import utcnow
from mailmoat.common.mail.draft import content_sha256, html_allowed, prepare
from mailmoat.common.observability.committed import observe_stage_on_commit, on_commit
from mailmoat.common.observability.metrics import (
    CANARY_TRIPS,
    POLICY_DECISIONS,
    POLICY_SHADOW,
)
from mailmoat.common.outbound_status import OutboundStatus
from mailmoat.common.outbox import stage_event, stage_inbox_event
from mailmoat.common.standing import standing_refusal
from mailmoat.common.subscription import Job
from mailmoat.common.topics import Topic
from mailmoat.policy.adapters.copies import copied_inbound
from mailmoat.policy.adapters.flagged import FLAGGED, flagged_repeated
from mailmoat.policy.adapters.repository import PolicyRepository
from mailmoat.policy.audit import audit_canary, audit_decision
from mailmoat.policy.candidate import CandidatePolicy, outcome
from mailmoat.policy.domain.fingerprint import PROBE_SIZE, Fingerprint, fingerprint
from mailmoat.policy.domain.outbound import (
    AllowedRecipient,
    OutboundDecision,
    OutboundFacts,
    evaluate_outbound,
)
from mailmoat.policy.domain.rules import OUTBOUND_RULES
from mailmoat.policy.domain.rules.canary import tripped
from mailmoat.policy.sweeps import review_deadline

PRODUCER = "policy"


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
    copied: tuple[str, ...]
    """Inbound mails it copies at length to recipients outside their thread (what was seen)."""
    canaries: dict[str, str]
    """The canary tokens of the workspace's inboxes, each with its inbox's slug."""


async def on_send_requested(
    event: SendRequested, session: AsyncSession, *, shadow: CandidatePolicy | None = None
) -> None:
    """Prepare the send without a lock, then judge and record it under the workspace's (and
    by the ``shadow`` policy too, if there is one: recorded, never deciding)."""
    with reading():
        async with session.begin():
            draft = await _prepare(session, event)
    if draft is None:
        return
    async with session.begin():
        await _decide(session, event, draft, shadow)


async def on_requested_batch(
    jobs: list[Job[SendRequested]],
    session: AsyncSession,
    *,
    shadow: CandidatePolicy | None = None,
) -> None:
    """A batch of sends: every draft prepared in one reading transaction, then every send
    judged and recorded in one transaction, workspace after workspace (in the order of their
    ids, so replicas lock workspaces in the same order), each workspace's sends in the order
    they were requested."""
    with reading():
        async with session.begin():
            drafts = []
            for job in jobs:
                with job.traced():
                    drafts.append(await _prepare(session, job.event))
    ready = [(job, draft) for job, draft in zip(jobs, drafts, strict=True) if draft is not None]
    ready.sort(key=lambda pair: pair[0].event.workspace_id)
    if not ready:
        return
    async with session.begin():
        for job, draft in ready:
            with job.traced():
                await _decide(session, job.event, draft, shadow)


async def _prepare(session: AsyncSession, event: SendRequested) -> Draft | None:
    outbound = await PolicyRepository(session, event.workspace_id).outbound(event.mail_id)
    if outbound.status != OutboundStatus.REQUESTED:
        return None
    # What leaves carries no hidden characters, whatever the rules decide.
    subject, text, html = prepare(outbound.subject, outbound.text, outbound.html)
    found = fingerprint(f"{subject}\n{text}", PROBE_SIZE)
    now = utcnow()
    flagged = await flagged_repeated(session, outbound.workspace_id, found, now)
    copies = await copied_inbound(session, outbound.workspace_id, found, outbound.recipients, now)
    requested = (outbound.subject, outbound.text, outbound.html)
    copied = tuple(copy.detail for copy in copies)
    canaries = await PolicyRepository(session, outbound.workspace_id).canaries()
    return Draft(requested, subject, text, html, found, flagged, copied, canaries)


async def _decide(
    session: AsyncSession, event: SendRequested, draft: Draft, shadow: CandidatePolicy | None
) -> None:
    repo = PolicyRepository(session, event.workspace_id)
    workspace = await repo.locked_workspace()
    outbound = await repo.outbound(event.mail_id, fresh=True)
    if not _still_requested(outbound, draft):
        return
    inbox = await repo.inbox(outbound.inbox_id)
    facts = await _gather_facts(repo, outbound, workspace, inbox, draft)
    outbound.subject, outbound.text, outbound.html = draft.subject, draft.text, facts.html_sent
    decision = evaluate_outbound(facts, OUTBOUND_RULES)
    shadowed = None if shadow is None else _shadow(session, facts, inbox.slug, decision, shadow)
    _record(session, outbound, decision, facts.now, review_deadline(outbound, inbox), shadowed)
    if decision.violation is not None and decision.violation.code == "canary_tripped":
        audit_canary(session, outbound, tripped(facts))
    _stage_decision(session, outbound)
    _count(session, decision)
    if not event.reviewed:  # a person's approval is judged again: not the agent's wait
        observe_stage_on_commit(session, "send_to_decision", event.occurred_at)


VIOLATION_CODES = (
    "policy_violation",
    "approval_mismatch",
    "cap_exceeded",
    "canary_tripped",
    "capability_disabled",
    "data_leak",
    "recipient_cooldown",
    "reply_outside_thread",
    "suspended",
    "tainted_context",
)
"""The codes a rule refuses a send with, exported at zero (``mailmoat_policy_decisions_total``)."""


def export_decision_series() -> None:
    for code in VIOLATION_CODES:
        POLICY_DECISIONS.labels("rejected", code)
    CANARY_TRIPS.labels("send")


def _count(session: AsyncSession, decision: OutboundDecision) -> None:
    """``mailmoat_policy_decisions_total``, once the decision commits: by decision and its
    first rule (a held send's reason before its colon: ``L4``, ``tainted_context``)."""
    if decision.violation is not None:
        series = POLICY_DECISIONS.labels("rejected", decision.violation.code)
    elif decision.needs_approval:
        held = decision.held_reasons[0].partition(":")[0] if decision.held_reasons else "review"
        series = POLICY_DECISIONS.labels("held", held)
    else:
        series = POLICY_DECISIONS.labels("approved", "none")
    on_commit(session, series.inc)


def _still_requested(outbound: OutboundMessage, draft: Draft) -> bool:
    """Neither decided since the draft was prepared nor edited (an edit's own request judges
    the edited send)."""
    asked = (outbound.subject, outbound.text, outbound.html)
    return outbound.status == OutboundStatus.REQUESTED and asked == draft.requested


def _shadow(
    session: AsyncSession,
    facts: OutboundFacts,
    slug: str,
    decision: OutboundDecision,
    shadow: CandidatePolicy,
) -> dict[str, Any]:
    """The shadow policy's outcome for the send, beside the live one, counted in
    ``mailmoat_policy_shadow_decisions_total``."""
    live = outcome(decision)
    judged = outcome(evaluate_outbound(shadow.apply(facts, slug), OUTBOUND_RULES))
    on_commit(session, POLICY_SHADOW.labels(live.partition(":")[0], judged.partition(":")[0]).inc)
    return {"outcome": judged, "agrees": judged == live}


def _record(
    session: AsyncSession,
    outbound: OutboundMessage,
    decision: OutboundDecision,
    now: datetime,
    deadline: datetime,
    shadowed: dict[str, Any] | None = None,
) -> None:
    """Write the decision on the send, stage what follows from it and audit it."""
    outbound.risk_score = decision.risk_score
    outbound.risk_reasons = list(decision.risk_reasons)
    outbound.policy_checks = list(decision.checks)
    outbound.held_reasons = list(decision.held_reasons)
    if decision.violation is not None:
        outbound.status = OutboundStatus.REJECTED
        outbound.decision_code = decision.violation.code
        outbound.decision_message = decision.violation.message
        stage_inbox_event(session, InboxEventKind.OUTBOUND_REJECTED, outbound, producer=PRODUCER)
    elif decision.needs_approval:
        outbound.status = OutboundStatus.PENDING_APPROVAL
        outbound.expires_at = deadline
        stage_inbox_event(
            session, InboxEventKind.OUTBOUND_PENDING_APPROVAL, outbound, producer=PRODUCER
        )
    else:
        outbound.status = OutboundStatus.APPROVED
        outbound.approved_sha256 = content_sha256(
            outbound.recipients, outbound.subject, outbound.text, outbound.html
        )
        ledger = CapLedger(session, outbound.workspace_id)
        ledger.reserve(outbound.id, outbound.inbox_id, outbound.recipients, now)
        approved = SendApproved(
            mail_id=outbound.id,
            workspace_id=outbound.workspace_id,
            inbox_id=outbound.inbox_id,
            risk_score=decision.risk_score,
        )
        stage_event(session, Topic.SEND_APPROVED, approved, producer=PRODUCER)
    audit_decision(session, outbound, decision, shadowed)


def _stage_decision(session: AsyncSession, outbound: OutboundMessage) -> None:
    """The reply to the API call that may be waiting on this send (correlated by its id)."""
    status = OutboundStatus(outbound.status).shown
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
    repo: PolicyRepository,
    outbound: OutboundMessage,
    workspace: Workspace,
    inbox: Inbox,
    draft: Draft,
) -> OutboundFacts:
    """The send's facts, read under the workspace's lock."""
    rows = await repo.allowlist()
    now = utcnow()
    caps = await CapLedger(repo.session, repo.workspace_id).counts(
        inbox.id, outbound.recipients, now
    )
    facts = await send_context(repo, outbound, workspace, inbox, rows, caps, now)
    html_recipients = {row.address.lower() for row in rows if row.allow_html}
    return replace(
        facts,
        subject=draft.subject,
        text=draft.text,
        html=outbound.html,
        html_sent=draft.html if html_allowed(outbound.recipients, html_recipients) else None,
        draft_fingerprint=draft.fingerprint,
        flagged_inbound=draft.flagged,
        canaries=draft.canaries,
        copied_inbound=draft.copied,
        reviewed=outbound.reviewed_at is not None,
        approved_sha256=outbound.approved_sha256,
    )


async def send_context(
    repo: PolicyRepository,
    outbound: OutboundMessage,
    workspace: Workspace,
    inbox: Inbox,
    allowlist: Sequence[AllowlistEntry],
    caps: CapCounts,
    now: datetime,
) -> OutboundFacts:
    """The facts of a send at ``now`` other than its draft's (the subject, text, HTML and what
    is found in them): recipients, switches, standing, allowlist, caps, thread, taint and the
    inbox's settings."""
    tainted_by = await taint_of(repo, outbound)
    return OutboundFacts(
        recipients=tuple(outbound.recipients),
        outbound_enabled=workspace.outbound_enabled,
        sending_status=inbox.sending_status,
        allowlist=tuple(
            AllowedRecipient(r.address, r.active_from, r.allow_html) for r in allowlist
        ),
        now=now,
        inbox_active=inbox.deleted_at is None,
        standing_refusal=standing_refusal(workspace, inbox, now),
        workspace_sent_24h=caps.workspace,
        recipient_sent_24h=caps.by_recipient,
        inbox_sent_1h=caps.inbox_last_hour,
        inbox_sent_24h=caps.inbox,
        inbox_hourly_limit=inbox.hourly_send_limit,
        inbox_daily_limit=inbox.daily_send_limit,
        reply_participants=(
            None if outbound.in_reply_to is None else await repo.participants(outbound.in_reply_to)
        ),
        data_leak_action=inbox.data_leak_action,
        data_leak_exempt=tuple(inbox.data_leak_exempt),
        security_level=inbox.security_level,
        tainted_by=tainted_by,
        # Only a tainted send asks whether a person could approve it.
        has_approver=bool(tainted_by) and await repo.has_approver(),
        allowed_domains=(
            tuple(inbox.allowed_recipient_domains)
            if inbox.allowed_recipient_domains is not None
            else None
        ),
        blocked_keywords=tuple(inbox.blocked_keywords),
    )


async def taint_of(repo: PolicyRepository, outbound: OutboundMessage) -> tuple[str, ...]:
    """What makes the send's context suspicious: the inbound mail it answers or names as its
    context was held for REVIEW, WITHHELD, or failed DMARC."""
    ids = [outbound.in_reply_to, *map(uuid.UUID, outbound.context_message_ids)]
    reasons = []
    for message_id, status, authentication in await repo.context_of([i for i in ids if i]):
        if status in FLAGGED:
            reasons.append(f"inbound message {message_id}, held as {status}")
        if authentication is not None and authentication.dmarc.result == "fail":
            reasons.append(f"inbound message {message_id}, which failed DMARC")
    return tuple(reasons)
