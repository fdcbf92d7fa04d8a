"""The Send API: a request is stored and handed to policy; its status is read back by id."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationInfo, field_validator

from mailmoat.common.credits import OUTBOUND_SENT
from mailmoat.common.db.tables import OutboundMessage
from mailmoat.common.events import SendRequested
from mailmoat.common.outbox import stage_event
from mailmoat.common.topics import Topic
from mailmoat.gateway.deps import Caller, SessionDep, require
from mailmoat.gateway.idempotency import Claim, claim
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

    @field_validator("cc", "bcc", "attachments")
    @classmethod
    def _refused(cls, value: Any, info: ValidationInfo) -> None:
        if value is not None:
            raise ValueError(_NOT_FOR_AGENTS[str(info.field_name)])


class OutboundOut(BaseModel):
    """Where an outbound message stands."""

    id: uuid.UUID
    status: str
    risk_score: int
    credits_consumed: int
    error: dict[str, str] | None = None


def outbound_out(outbound: OutboundMessage) -> OutboundOut:
    status = (
        "queued" if outbound.status in ("requested", "approved", "sending") else outbound.status
    )
    error = None
    if outbound.decision_code is not None:
        error = {"code": outbound.decision_code, "message": outbound.decision_message or ""}
    credits = OUTBOUND_SENT.credits if outbound.status == "sent" else 0
    return OutboundOut(
        id=outbound.id,
        status=status,
        risk_score=outbound.risk_score,
        credits_consumed=credits,
        error=error,
    )


@router.post("/inboxes/{slug}/send", status_code=202, response_model=OutboundOut)
async def send(
    slug: str,
    body: SendRequest,
    request: Request,
    db: SessionDep,
    who: Annotated[Caller, Depends(require(SEND_SCOPE))],
) -> Any:
    async with db.begin():
        held = await claim(request, db, who.workspace_id)
        if not isinstance(held, Claim):
            return held
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
            id=uuid.uuid4(),
            workspace_id=who.workspace_id,
            inbox_id=inbox.id,
            recipients=[str(a).lower() for a in body.to],
            subject=body.subject,
            text=body.text,
            html=body.html,
            in_reply_to=body.in_reply_to,
            context_message_ids=[str(i) for i in body.metadata.context_message_ids],
            reasoning=body.metadata.reasoning,
            source="api",
            status="requested",
        )
        db.add(outbound)
        event = SendRequested(
            mail_id=outbound.id,
            workspace_id=who.workspace_id,
            inbox_id=inbox.id,
            source="api",
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
        await db.flush()  # column defaults (risk score, timestamps) are filled in
        out = outbound_out(outbound)
        held.finish(202, out)
    return out


@router.get("/outbound/{outbound_id}")
async def get_outbound(
    outbound_id: uuid.UUID, db: SessionDep, who: Annotated[Caller, Depends(require("read:mail"))]
) -> OutboundOut:
    async with db.begin():
        return outbound_out(await WorkspaceRepository(db, who.workspace_id).outbound(outbound_id))
