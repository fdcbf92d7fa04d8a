"""Inbound messages: list an inbox's mail, read one with its verdicts and consensus, read the
original (audited), release withheld mail (audited), and read a thread."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, EmailStr, Field

from mailmoat.common.audit import subject_hash
from mailmoat.common.db.tables import Message, RawMessage, ScanVerdictRecord
from mailmoat.common.events import InboxEventKind
from mailmoat.common.outbox import stage_inbox_event
from mailmoat.gateway.cursors import decode_cursor, encode_cursor
from mailmoat.gateway.deps import Caller, SessionDep, require
from mailmoat.gateway.problems import Problem
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
    """A message; a withheld one shows who sent it and why, never its content. The detail view
    adds the verdicts, ingest's findings and the authentication results."""

    id: uuid.UUID
    inbox_id: uuid.UUID
    thread_id: uuid.UUID | None
    status: str
    from_address: str
    subject: str | None
    subject_sha256: str
    text: str | None
    consensus: str
    risk_score: int
    risk_reasons: list[str] = Field(
        default_factory=list,
        description="Sender-graph signals in the risk (first contact, look-alike domain...).",
    )
    withheld_reason: str | None
    received_at: datetime
    verdicts: list[VerdictOut] | None = None
    findings: list[dict[str, Any]] | None = None
    authentication: dict[str, Any] | None = None
    spotlight: SpotlightOut | None = None


class MessagePage(BaseModel):
    """A page of messages, newest first; pass ``next_cursor`` as ``cursor`` for the next."""

    items: list[MessageOut]
    next_cursor: str | None


class ThreadOut(BaseModel):
    """A conversation's inbound messages, oldest first."""

    id: uuid.UUID
    messages: list[MessageOut]


def message_out(
    message: Message,
    verdicts: list[ScanVerdictRecord] | None = None,
    raw: RawMessage | None = None,
) -> MessageOut:
    hidden = message.status == "withheld"
    return MessageOut(
        id=message.id,
        inbox_id=message.inbox_id,
        thread_id=message.thread_id,
        status=message.status,
        from_address=message.from_address,
        subject=None if hidden else message.subject,
        subject_sha256=subject_hash(message.subject),
        text=None if hidden else message.text,
        consensus=message.consensus,
        risk_score=message.risk_score,
        risk_reasons=list(message.risk_reasons or ()),
        withheld_reason=message.withheld_reason,
        received_at=message.received_at,
        verdicts=None
        if verdicts is None
        else [VerdictOut.model_validate(v, from_attributes=True) for v in verdicts],
        findings=None if raw is None else list(raw.findings),
        authentication=None if raw is None else raw.authentication,
    )


@router.get("/inboxes/{slug}/messages")
async def list_messages(
    slug: str,
    db: SessionDep,
    who: Reader,
    status: Annotated[Status | None, Query()] = None,
    since: datetime | None = None,
    sender: Annotated[EmailStr | None, Query(alias="from")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MessagePage:
    """Newest first; withheld mail is listed only when asked for with ``status=withheld``."""
    after = decode_cursor(cursor) if cursor else None
    async with db.begin():
        repo = WorkspaceRepository(db, who.workspace_id)
        inbox = await repo.inbox(slug)
        rows = await repo.messages(
            inbox,
            statuses=(status,) if status else VISIBLE_BY_DEFAULT,
            sender=sender,
            since=since,
            after=after,
            limit=limit + 1,
        )
    page = rows[:limit]
    last = page[-1] if len(rows) > limit else None
    return MessagePage(
        items=[message_out(m) for m in page],
        next_cursor=encode_cursor(last.received_at, last.id) if last else None,
    )


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
        out = message_out(message, await repo.verdicts(message.mail_id), await repo.raw(message))
    if view == "spotlighted" and out.text is not None:
        spotlighted = SpotlightOut(
            text=datamark(out.text), marker=MARKER, instructions=INSTRUCTIONS
        )
        out = out.model_copy(update={"spotlight": spotlighted})
    return out


@router.get(
    "/messages/{message_id}/raw",
    response_class=Response,
    responses={200: {"content": {"message/rfc822": {}}}},
)
async def get_raw_message(
    message_id: uuid.UUID,
    db: SessionDep,
    who: Annotated[Caller, Depends(require("read:mail.raw"))],
) -> Response:
    """The original MIME as received (with our Authentication-Results), attacks included:
    every read is audited before the bytes leave."""
    async with db.begin():
        repo = WorkspaceRepository(db, who.workspace_id)
        message = await repo.message(message_id)
        raw = await repo.raw(message)
        who.audit(db, action="message.raw_read", ref=message.id, target=f"message:{message.id}")
    return Response(raw.raw, media_type="message/rfc822")


@router.post("/messages/{message_id}/release")
async def release_message(
    message_id: uuid.UUID,
    db: SessionDep,
    who: Annotated[Caller, Depends(require("approve:mail"))],
) -> MessageOut:
    """A person releases withheld mail: the agent then gets its sanitised text, and the
    inbox's listeners hear ``message.released``."""
    async with db.begin():
        repo = WorkspaceRepository(db, who.workspace_id)
        message = await repo.message(message_id)
        if message.status != "withheld":
            raise Problem(409, "not_withheld", f"The message is {message.status}, not withheld")
        message.status = "delivered"
        who.audit(db, action="message.released", ref=message.id, target=f"message:{message.id}")
        stage_inbox_event(db, InboxEventKind.MESSAGE_RELEASED, message, producer="gateway")
        return message_out(message)


@router.get("/threads/{thread_id}")
async def get_thread(thread_id: uuid.UUID, db: SessionDep, who: Reader) -> ThreadOut:
    async with db.begin():
        messages = await WorkspaceRepository(db, who.workspace_id).thread(thread_id)
    if not messages:
        raise Problem(404, "not_found", "Thread not found")
    return ThreadOut(id=thread_id, messages=[message_out(m) for m in messages])
