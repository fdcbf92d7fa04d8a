"""The Send API: a request is stored and handed to policy; its status is read back by id."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, EmailStr, Field

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


class SendRequest(BaseModel):
    """Request body of the Send API: recipients, subject and a plain-text body, nothing more."""

    model_config = ConfigDict(extra="forbid")

    to: list[EmailStr] = Field(min_length=1, max_length=50)
    subject: str = Field(max_length=998)
    text: str = Field(max_length=1_000_000)


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
        inbox = await WorkspaceRepository(db, who.workspace_id).inbox(slug)
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
