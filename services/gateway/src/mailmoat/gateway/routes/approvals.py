"""The approval queue: sends held for a person (every L4 send, and sends drawing on suspicious
inbound mail). A reviewer approves (optionally editing the draft, which policy then judges again
by the same rules) or rejects with a reason; each decision is audited with who, when and the
diff of any edit, and costs one review credit. Only a person decides: a key that can send (and
above all the key that asked) is refused with ``self_approval``; an approval also re-checks that
the inbox still sends and that the send has not expired.

An approval is for the exact draft the person saw: the held send's ``fingerprint`` may be sent
back to approve that draft and no other, and the approved draft's fingerprint is stored with
the decision, so policy and dispatch send nothing else."""

from __future__ import annotations

import difflib
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.credits import REVIEW_EVENT, charge
from mailmoat.common.db.tables import Inbox, OutboundMessage
from mailmoat.common.events import InboxEventKind, SendRequested
from mailmoat.common.events.base import utcnow
from mailmoat.common.mail.draft import content_sha256, html_allowed, prepare
from mailmoat.common.outbound_status import OutboundStatus
from mailmoat.common.outbox import stage_event, stage_inbox_event
from mailmoat.common.topics import Topic
from mailmoat.gateway.cursors import decode_cursor, page_of
from mailmoat.gateway.decisions import DecisionWaiter
from mailmoat.gateway.deps import Caller, ReviewerDep, SessionDep
from mailmoat.gateway.problems import Problem
from mailmoat.gateway.repository import WorkspaceRepository
from mailmoat.gateway.routes.outbound import (
    SENDING_LEVELS,
    OutboundOut,
    answer,
    await_decision,
    decided_out,
    outbound_out,
    single_line,
)

router = APIRouter(prefix="/api/v1/approvals", tags=["approvals"])

Reviewer = ReviewerDep


class ApprovalOut(BaseModel):
    """A held send as the reviewer sees it: the draft, policy's risk analysis and checks, why
    it is held, the agent's reasoning and when it will be auto-rejected."""

    id: uuid.UUID
    inbox: str
    to: list[str]
    subject: str
    text: str
    html: str | None
    in_reply_to: uuid.UUID | None
    context_message_ids: list[str]
    reasoning: str | None
    source: str
    risk_score: int
    risk_reasons: list[str]
    policy_checks: list[str]
    held_reasons: list[str]
    requested_at: datetime
    expires_at: datetime
    fingerprint: str = Field(
        description="SHA-256 of the draft as shown (recipients, subject, text, HTML): send it "
        "with the approval to approve this draft and no other."
    )


class ApprovalSummary(BaseModel):
    """A held send in the queue: enough to choose which to open (``GET /approvals/{id}`` has
    the draft, the agent's reasoning and policy's checks)."""

    id: uuid.UUID
    outbound_id: uuid.UUID = Field(description="The send's id (``GET /outbound/{id}``).")
    inbox: str
    security_level: str = Field(description="The inbox's level (L4 holds every send).")
    to: list[str]
    subject: str
    risk_score: int
    risk_reasons: list[str]
    held_reasons: list[str]
    requested_at: datetime
    expires_at: datetime
    size_bytes: int = Field(description="UTF-8 size of the draft: subject, text and HTML.")


class ApprovalPage(BaseModel):
    """Held sends, oldest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    items: list[ApprovalSummary]
    next_cursor: str | None


class ApproveRequest(BaseModel):
    """Approve as drafted, or with edits (each field replaces the draft's); ``note`` is kept
    with the decision."""

    model_config = ConfigDict(extra="forbid")

    to: list[EmailStr] | None = Field(default=None, min_length=1, max_length=50)
    subject: str | None = Field(default=None, max_length=998)
    text: str | None = Field(default=None, max_length=1_000_000)
    html: str | None = Field(default=None, max_length=1_000_000)
    note: str | None = Field(default=None, max_length=2000)
    fingerprint: str | None = Field(
        default=None,
        pattern="^[0-9a-f]{64}$",
        description="The held send's ``fingerprint`` as the reviewer saw it: if the draft has "
        "changed since, the approval is refused (409 ``draft_changed``).",
    )

    _one_line = field_validator("subject")(single_line)


class RejectRequest(BaseModel):
    """Why the send may not leave; the agent is told."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


def approval_out(outbound: OutboundMessage, inbox: Inbox) -> ApprovalOut:
    return ApprovalOut(
        id=outbound.id,
        inbox=inbox.slug,
        to=list(outbound.recipients),
        subject=outbound.subject,
        text=outbound.text,
        html=outbound.html,
        in_reply_to=outbound.in_reply_to,
        context_message_ids=list(outbound.context_message_ids),
        reasoning=outbound.reasoning,
        source=outbound.source,
        risk_score=outbound.risk_score,
        risk_reasons=list(outbound.risk_reasons),
        policy_checks=list(outbound.policy_checks),
        held_reasons=list(outbound.held_reasons),
        requested_at=outbound.created_at,
        expires_at=expires_at(outbound, inbox),
        fingerprint=draft_sha256(outbound),
    )


def draft_sha256(outbound: OutboundMessage) -> str:
    return content_sha256(outbound.recipients, outbound.subject, outbound.text, outbound.html)


def approval_summary(outbound: OutboundMessage, inbox: Inbox) -> ApprovalSummary:
    parts = (outbound.subject, outbound.text, outbound.html or "")
    return ApprovalSummary(
        id=outbound.id,
        outbound_id=outbound.id,
        inbox=inbox.slug,
        security_level=inbox.security_level,
        to=list(outbound.recipients),
        subject=outbound.subject,
        risk_score=outbound.risk_score,
        risk_reasons=list(outbound.risk_reasons),
        held_reasons=list(outbound.held_reasons),
        requested_at=outbound.created_at,
        expires_at=expires_at(outbound, inbox),
        size_bytes=sum(len(part.encode()) for part in parts),
    )


def expires_at(outbound: OutboundMessage, inbox: Inbox) -> datetime:
    """When the sweep rejects the held send unless a person decides first: the deadline policy
    stored when it held the send (computed from the inbox's window for a send held before
    deadlines were stored)."""
    if outbound.expires_at is not None:
        return outbound.expires_at
    return outbound.created_at + timedelta(seconds=inbox.approval_timeout_seconds)


@router.get("")
async def list_approvals(
    db: SessionDep,
    who: Reviewer,
    inbox: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ApprovalPage:
    """The queue of sends waiting for a person, optionally of one inbox, as summaries."""
    after = decode_cursor(cursor) if cursor else None
    async with db.begin():
        repo = WorkspaceRepository(db, who.workspace_id)
        only = await repo.inbox(inbox) if inbox is not None else None
        rows = await repo.held_sends(inbox=only, after=after, limit=limit + 1)
        inboxes = await repo.inboxes_by_id({row.inbox_id for row in rows})
    page, next_cursor = page_of(rows, limit, lambda row: (row.created_at, row.id))
    return ApprovalPage(
        items=[approval_summary(row, inboxes[row.inbox_id]) for row in page],
        next_cursor=next_cursor,
    )


@router.get("/{approval_id}")
async def get_approval(approval_id: uuid.UUID, db: SessionDep, who: Reviewer) -> ApprovalOut:
    """One held send (404 once it is decided)."""
    async with db.begin():
        repo = WorkspaceRepository(db, who.workspace_id)
        outbound = await repo.outbound(approval_id)
        if outbound.status != OutboundStatus.PENDING_APPROVAL:
            raise Problem(404, "not_found", "Approval not found")
        inbox = (await repo.inboxes_by_id({outbound.inbox_id}))[outbound.inbox_id]
        return approval_out(outbound, inbox)


@router.post(
    "/{approval_id}/approve",
    status_code=202,
    response_model=OutboundOut,
    responses={200: {"model": OutboundOut, "description": "Rejected when judged again."}},
)
async def approve(
    approval_id: uuid.UUID,
    body: ApproveRequest,
    request: Request,
    db: SessionDep,
    who: Reviewer,
) -> JSONResponse:
    """Approve a held send, as drafted or edited. Policy judges it again by the same rules
    (an edit can add a recipient only if the allowlist allows it) and it is queued for
    dispatch or rejected; the call waits briefly for that decision."""
    waiter: DecisionWaiter = request.app.state.decisions
    future = waiter.expect(approval_id)
    try:
        async with db.begin():
            outbound = await _held(db, who, approval_id)
            await _still_approvable(db, who, outbound)
            if body.fingerprint is not None and body.fingerprint != draft_sha256(outbound):
                raise Problem(
                    409,
                    "draft_changed",
                    "The draft is not the one the fingerprint names; open it again and decide",
                )
            diff = await _apply_edits(db, who, outbound, body)
            outbound.approved_sha256 = draft_sha256(outbound)
            outbound.status = OutboundStatus.REQUESTED
            _review(outbound, who, body.note)
            event = SendRequested(
                mail_id=outbound.id,
                workspace_id=outbound.workspace_id,
                inbox_id=outbound.inbox_id,
                source=outbound.source,
                api_key_id=who.key_id,
                reviewed=True,
            )
            stage_event(db, Topic.SEND_REQUESTED, event, producer="gateway")
            who.audit(
                db,
                action="outbound.edited_and_approved" if diff else "outbound.approved",
                ref=outbound.id,
                target=",".join(outbound.recipients),
                subject=outbound.subject,
                detail={"edits": diff, "note": body.note, "sha256": outbound.approved_sha256},
            )
            await charge(db, outbound.workspace_id, REVIEW_EVENT, outbound.id)
            queued = outbound_out(outbound, credits=REVIEW_EVENT.credits)
    except BaseException:
        waiter.forget(approval_id)
        raise
    decided = await await_decision(request, db, approval_id, future)
    if decided is None:
        return answer(queued)
    return answer(decided_out(decided, credits=REVIEW_EVENT.credits))


@router.post("/{approval_id}/reject", response_model=OutboundOut)
async def reject(
    approval_id: uuid.UUID, body: RejectRequest, db: SessionDep, who: Reviewer
) -> JSONResponse:
    """Reject a held send: it never leaves, and the agent learns the reason."""
    async with db.begin():
        outbound = await _held(db, who, approval_id)
        outbound.status = OutboundStatus.REJECTED
        outbound.decision_code = "approval_rejected"
        outbound.decision_message = body.reason
        _review(outbound, who, body.reason)
        who.audit(
            db,
            action="outbound.rejected_by_reviewer",
            ref=outbound.id,
            target=",".join(outbound.recipients),
            subject=outbound.subject,
            detail={"reason": body.reason},
        )
        await charge(db, outbound.workspace_id, REVIEW_EVENT, outbound.id)
        stage_inbox_event(db, InboxEventKind.OUTBOUND_REJECTED, outbound, producer="gateway")
        return answer(outbound_out(outbound, credits=REVIEW_EVENT.credits))


async def _held(db: AsyncSession, who: Caller, approval_id: uuid.UUID) -> OutboundMessage:
    outbound = await WorkspaceRepository(db, who.workspace_id).outbound_for_update(approval_id)
    if outbound.status != OutboundStatus.PENDING_APPROVAL:
        raise Problem(
            409,
            "not_pending_approval",
            f"The send is no longer waiting for approval (it is {outbound.status})",
        )
    if outbound.requested_by_key_id == who.key_id:
        raise Problem(403, "self_approval", "The key that asked to send may not decide on it")
    return outbound


async def _still_approvable(db: AsyncSession, who: Caller, outbound: OutboundMessage) -> None:
    """The inbox may have been lowered below sending, or the window run out, since the send
    was held: approving it then would send what the rules no longer allow."""
    inbox = (await WorkspaceRepository(db, who.workspace_id).inboxes_by_id({outbound.inbox_id}))[
        outbound.inbox_id
    ]
    if inbox.security_level not in SENDING_LEVELS:
        raise Problem(
            409,
            "sending_not_allowed",
            f"Inbox '{inbox.slug}' is now {inbox.security_level}; sending needs L3 or L4",
        )
    if utcnow() >= expires_at(outbound, inbox):
        raise Problem(
            409, "approval_expired", "The approval window has closed; the send will be rejected"
        )


def _review(outbound: OutboundMessage, who: Caller, note: str | None) -> None:
    outbound.reviewed_by = who.actor
    outbound.reviewed_at = utcnow()
    outbound.review_note = note


async def _apply_edits(
    db: AsyncSession, who: Caller, outbound: OutboundMessage, body: ApproveRequest
) -> dict[str, Any]:
    """Apply the reviewer's edits, prepared as policy prepares what leaves (no hidden
    characters, HTML sanitised and kept only if every recipient may receive it), so the draft
    approved is the draft sent; returns a unified diff per changed field."""
    changes: dict[str, Any] = {}
    if body.to is not None:
        to = [str(a).lower() for a in body.to]
        if to != outbound.recipients:
            changes["to"] = {"before": list(outbound.recipients), "after": to}
            outbound.recipients = to
    edited = [
        value if value is not None else getattr(outbound, field)
        for field, value in (("subject", body.subject), ("text", body.text), ("html", body.html))
    ]
    subject, text, html = prepare(*edited)
    if html and not html_allowed(
        outbound.recipients, await WorkspaceRepository(db, who.workspace_id).html_recipients()
    ):
        html = None
    for field, new in (("subject", subject), ("text", text), ("html", html)):
        old = getattr(outbound, field)
        if new != old:
            changes[field] = "".join(
                difflib.unified_diff(
                    (old or "").splitlines(keepends=True),
                    (new or "").splitlines(keepends=True),
                    fromfile=f"{field} (agent)",
                    tofile=f"{field} (reviewer)",
                )
            )
            setattr(outbound, field, new)
    return changes
