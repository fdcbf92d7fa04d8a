"""Inbound messages: list an inbox's mail and read one with its verdicts and consensus."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from mailmoat.common.audit import subject_hash
from mailmoat.common.db.tables import Message, ScanVerdictRecord
from mailmoat.gateway.deps import Caller, SessionDep, require
from mailmoat.gateway.repository import WorkspaceRepository
from mailmoat.gateway.spotlight import INSTRUCTIONS, MARKER, datamark

router = APIRouter(prefix="/api/v1", tags=["messages"])

Status = Literal["delivered", "review", "withheld"]
VISIBLE_BY_DEFAULT = ("delivered", "review")
Reader = Annotated[Caller, Depends(require("read:mail"))]


class VerdictOut(BaseModel):
    """One detector's verdict."""

    detector: str
    detector_name: str
    detector_version: str
    score: int
    flagged: bool
    findings: list[dict[str, Any]]
    error: str | None
    latency_ms: float
    coverage: list[str]
    shadow: bool


class SpotlightOut(BaseModel):
    """The body datamarked, with the sentence to put in the agent's system prompt."""

    text: str
    marker: str
    instructions: str


class MessageOut(BaseModel):
    """A message; a withheld one shows who sent it and why, never its content."""

    id: uuid.UUID
    inbox_id: uuid.UUID
    status: str
    from_address: str
    subject: str | None
    subject_sha256: str
    text: str | None
    consensus: str
    risk_score: int
    received_at: datetime
    verdicts: list[VerdictOut] | None = None
    spotlight: SpotlightOut | None = None


class MessagePage(BaseModel):
    """A page of messages, newest first; pass ``next_cursor`` as ``before`` for the next."""

    items: list[MessageOut]
    next_cursor: datetime | None


def message_out(message: Message, verdicts: list[ScanVerdictRecord] | None = None) -> MessageOut:
    hidden = message.status == "withheld"
    return MessageOut(
        id=message.id,
        inbox_id=message.inbox_id,
        status=message.status,
        from_address=message.from_address,
        subject=None if hidden else message.subject,
        subject_sha256=subject_hash(message.subject),
        text=None if hidden else message.text,
        consensus=message.consensus,
        risk_score=message.risk_score,
        received_at=message.received_at,
        verdicts=None
        if verdicts is None
        else [VerdictOut.model_validate(v, from_attributes=True) for v in verdicts],
    )


@router.get("/inboxes/{slug}/messages")
async def list_messages(
    slug: str,
    db: SessionDep,
    who: Reader,
    status: Annotated[Status | None, Query()] = None,
    before: Annotated[datetime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MessagePage:
    async with db.begin():
        repo = WorkspaceRepository(db, who.workspace_id)
        inbox = await repo.inbox(slug)
        statuses = (status,) if status else VISIBLE_BY_DEFAULT
        rows = await repo.messages(inbox, statuses=statuses, before=before, limit=limit)
    cursor = rows[-1].received_at if len(rows) == limit else None
    return MessagePage(items=[message_out(m) for m in rows], next_cursor=cursor)


@router.get("/messages/{message_id}")
async def get_message(
    message_id: uuid.UUID,
    db: SessionDep,
    who: Reader,
    view: Annotated[Literal["plain", "spotlighted"], Query()] = "plain",
) -> MessageOut:
    """One message; ``view=spotlighted`` adds the body datamarked for the agent's prompt."""
    async with db.begin():
        repo = WorkspaceRepository(db, who.workspace_id)
        message = await repo.message(message_id)
        out = message_out(message, await repo.verdicts(message.mail_id))
    if view == "spotlighted" and out.text is not None:
        spotlighted = SpotlightOut(
            text=datamark(out.text), marker=MARKER, instructions=INSTRUCTIONS
        )
        out = out.model_copy(update={"spotlight": spotlighted})
    return out
