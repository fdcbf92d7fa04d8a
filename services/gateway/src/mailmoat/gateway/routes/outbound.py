"""The Send API: a request is stored and handed to policy; its status is read back by id."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationInfo, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.tables import OutboundMessage
from mailmoat.common.events import SendDecided, SendRequested
from mailmoat.common.outbound_status import OutboundStatus
from mailmoat.common.outbox import stage_event, take_staged
from mailmoat.common.service import Runtime
from mailmoat.common.topics import Topic
from mailmoat.gateway.decisions import DecisionWaiter
from mailmoat.gateway.deps import Caller, SessionDep, require
from mailmoat.gateway.idempotency import Claim, claim, restate
from mailmoat.gateway.keys import SEND_SCOPE
from mailmoat.gateway.problems import Problem
from mailmoat.gateway.repository import WorkspaceRepository

router = APIRouter(prefix="/api/v1", tags=["outbound"])

SENDING_LEVELS = ("L3", "L4")


_NOT_FOR_AGENTS = {
    "cc": "cc is not supported for agents: name every recipient in 'to', each on the allowlist",
    "bcc": "bcc is not supported for agents: hidden recipients are never allowed",
    "attachments": "attachments are not supported for agents: put the content in the text",
}


def single_line(value: str | None) -> str | None:
    """A header field's value: CR, LF and NUL would end or split the header (refused, never
    silently folded, so what the agent asked for is what a person and the recipient see)."""
    if value is not None and any(c in value for c in "\r\n\x00"):
        raise ValueError("must be one line: CR, LF and NUL are not allowed in a header field")
    return value


class SendMetadata(BaseModel):
    """What the agent tells the reviewer about a send."""

    model_config = ConfigDict(extra="forbid")

    reasoning: str | None = Field(default=None, max_length=10_000)
    context_message_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)


class SendRequest(BaseModel):
    """Request body of the Send API: recipients, subject, a plain-text body, and optionally HTML
    (sent only to recipients allowed HTML), the inbound message it answers and metadata."""

    model_config = ConfigDict(extra="forbid")

    to: list[EmailStr] = Field(min_length=1, max_length=50)
    subject: str = Field(max_length=998)
    text: str = Field(max_length=1_000_000)
    html: str | None = Field(default=None, max_length=1_000_000)
    in_reply_to: uuid.UUID | None = Field(default=None, description="An inbound message id.")
    metadata: SendMetadata = Field(default_factory=SendMetadata)
    cc: Any = Field(default=None, description="Not supported: always refused.")
    bcc: Any = Field(default=None, description="Not supported: always refused.")
    attachments: Any = Field(default=None, description="Not supported: always refused.")

    _one_line = field_validator("subject")(single_line)

    @field_validator("cc", "bcc", "attachments")
    @classmethod
    def _refused(cls, value: Any, info: ValidationInfo) -> None:
        if value is not None:
            raise ValueError(_NOT_FOR_AGENTS[str(info.field_name)])


class OutboundOut(BaseModel):
    """Where an outbound message stands: ``queued`` (approved, on its way), ``pending_approval``
    (held for a person), ``rejected`` (with the violated rule in ``error``), ``sent`` or
    ``failed`` (with the relay's reply)."""

    id: uuid.UUID
    status: str
    risk_score: int
    credits_consumed: int
    error: dict[str, str] | None = None


# A decided send answers 200; one still on its way (or held for a person) 202.
UNFINISHED = ("queued", "pending_approval")


def outbound_out(outbound: OutboundMessage, *, credits: int) -> OutboundOut:
    return OutboundOut(
        id=outbound.id,
        status=OutboundStatus(outbound.status).shown,
        risk_score=outbound.risk_score,
        credits_consumed=credits,
        error=outbound.error(),
    )


def decided_out(decided: SendDecided, *, credits: int) -> OutboundOut:
    """The answer from policy's reply; no delivery has been charged yet."""
    error = None
    if decided.code is not None:
        error = {"code": decided.code, "message": decided.message or ""}
    return OutboundOut(
        id=decided.mail_id,
        status=decided.status,
        risk_score=decided.risk_score,
        credits_consumed=credits,
        error=error,
    )


def answer(out: OutboundOut, *, replayed: bool = False) -> JSONResponse:
    headers = {"Location": f"/api/v1/outbound/{out.id}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    code = 202 if out.status in UNFINISHED else 200
    return JSONResponse(out.model_dump(mode="json"), status_code=code, headers=headers)


async def await_decision(
    request: Request,
    db: AsyncSession,
    outbound_id: uuid.UUID,
    future: asyncio.Future[SendDecided],
) -> SendDecided | None:
    """Policy's decision on a committed request, or None if it did not come in time."""
    runtime: Runtime = request.app.state.runtime
    runtime.relay.hand_over(take_staged(db))  # publish the request now, not at the next poll
    waiter: DecisionWaiter = request.app.state.decisions
    return await waiter.wait(outbound_id, future, request.app.state.send_wait_seconds)


@router.post(
    "/inboxes/{slug}/send",
    status_code=202,
    response_model=OutboundOut,
    responses={200: {"model": OutboundOut, "description": "Decided: rejected."}},
)
async def send(
    slug: str,
    body: SendRequest,
    request: Request,
    db: SessionDep,
    who: Annotated[Caller, Depends(require(SEND_SCOPE))],
) -> Any:
    """Ask to send: policy judges it at once and the call waits briefly for the decision
    (``rejected`` 200; ``pending_approval`` or ``queued`` 202). Poll the ``Location`` for the
    rest of its journey."""
    waiter: DecisionWaiter = request.app.state.decisions
    outbound_id = uuid.uuid4()
    future = waiter.expect(outbound_id)
    try:
        async with db.begin():
            held = await claim(request, db, who.workspace_id)
            if not isinstance(held, Claim):
                waiter.forget(outbound_id)
                return held
            await _request_send(db, who, slug, body, outbound_id)
            queued = OutboundOut(id=outbound_id, status="queued", risk_score=0, credits_consumed=0)
            held.finish(202, queued)
    except BaseException:
        waiter.forget(outbound_id)
        raise
    decided = await await_decision(request, db, outbound_id, future)
    if decided is None:
        return answer(queued)
    out = decided_out(decided, credits=0)
    if held.row is not None:  # a repeat of this request replays what it was told
        await restate(db, held, 202 if out.status in UNFINISHED else 200, out)
    return answer(out)


async def _request_send(
    db: AsyncSession, who: Caller, slug: str, body: SendRequest, outbound_id: uuid.UUID
) -> None:
    repo = WorkspaceRepository(db, who.workspace_id)
    inbox = await repo.inbox(slug)
    if body.in_reply_to is not None:
        await repo.message(body.in_reply_to)  # another workspace's message is a 404
    if inbox.security_level not in SENDING_LEVELS:
        raise Problem(
            403,
            "sending_not_allowed",
            f"Inbox '{slug}' is {inbox.security_level}; sending needs L3 or L4",
        )
    outbound = OutboundMessage(
        id=outbound_id,
        workspace_id=who.workspace_id,
        inbox_id=inbox.id,
        recipients=[str(a).lower() for a in body.to],
        subject=body.subject,
        text=body.text,
        html=body.html,
        in_reply_to=body.in_reply_to,
        context_message_ids=[str(i) for i in body.metadata.context_message_ids],
        reasoning=body.metadata.reasoning,
        source=who.source,
        status=OutboundStatus.REQUESTED,
        requested_by_key_id=who.key_id,
    )
    db.add(outbound)
    event = SendRequested(
        mail_id=outbound.id,
        workspace_id=who.workspace_id,
        inbox_id=inbox.id,
        source=who.source,
        api_key_id=who.key_id,
    )
    stage_event(db, Topic.SEND_REQUESTED, event, producer="gateway")
    who.audit(
        db,
        action="outbound.requested",
        ref=outbound.id,
        target=",".join(outbound.recipients),
        subject=body.subject,
    )


@router.get("/outbound/{outbound_id}")
async def get_outbound(
    outbound_id: uuid.UUID, db: SessionDep, who: Annotated[Caller, Depends(require("read:mail"))]
) -> OutboundOut:
    async with db.begin():
        repo = WorkspaceRepository(db, who.workspace_id)
        outbound = await repo.outbound(outbound_id)
        return outbound_out(outbound, credits=await repo.credits_spent(outbound.id))
