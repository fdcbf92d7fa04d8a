"""Inbound messages: list an inbox's mail, read one with its verdicts and consensus, read the
original or the full analysis (a person's, audited), release withheld mail (audited), and read
a thread. What an agent sees is ``mailmoat.common.mail.exposure``'s to say: withheld mail is
listed and read as a stub (``WithheldOut``) that carries none of its content."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Discriminator, EmailStr, Field, Tag

from mailmoat.common.audit import subject_hash
from mailmoat.common.db.tables import Message, RawMessage, ScanVerdictRecord
from mailmoat.common.events import InboxEventKind
from mailmoat.common.mail.exposure import agent_authentication, agent_findings, shown
from mailmoat.common.outbox import stage_inbox_event
from mailmoat.gateway.cursors import decode_cursor, page_of
from mailmoat.gateway.deps import Caller, ReviewerDep, SessionDep, require
from mailmoat.gateway.problems import Problem
from mailmoat.gateway.repository import WorkspaceRepository
from mailmoat.gateway.spotlight import INSTRUCTIONS, MARKER, datamark

router = APIRouter(prefix="/api/v1", tags=["messages"])

Status = Literal["delivered", "review", "withheld"]
LISTED_BY_DEFAULT = ("delivered", "review", "withheld")
Reader = Annotated[Caller, Depends(require("read:mail"))]


class FindingOut(BaseModel):
    """A finding as an agent may read it: what fired, and where; never the text it matched."""

    code: str
    part: str
    start: int
    end: int


class VerdictOut(BaseModel):
    """One detector's verdict, its findings as codes and spans."""

    detector: str
    detector_name: str
    detector_version: str
    score: int
    flagged: bool
    findings: list[FindingOut]
    findings_dropped: int = 0
    error: str | None = Field(description="The kind of failure when the detector failed.")
    latency_ms: float
    coverage: list[str]
    shadow: bool


class SpotlightOut(BaseModel):
    """The body datamarked, with the sentence to put in the agent's system prompt."""

    text: str
    marker: str
    instructions: str


class MessageOut(BaseModel):
    """A delivered or review message as an agent may read it (``mailmoat.common.mail.exposure``;
    withheld mail is a ``WithheldOut`` instead). The detail view adds the verdicts, ingest's
    findings and the authentication results."""

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
        description="Sender-graph signals in the risk (first contact, look-alike domain...); "
        "codes only while the message is withheld.",
    )
    withheld_reason: str | None = Field(
        description="Why it is withheld: codes such as detectors, malware.eicar, "
        "blocked_sender, analysis_failed, lookalike_domain."
    )
    received_at: datetime
    verdicts: list[VerdictOut] | None = None
    findings: list[FindingOut] | None = None
    authentication: dict[str, Any] | None = None
    spotlight: SpotlightOut | None = None


class WithheldOut(BaseModel):
    """A withheld message: that it exists, who sent it and why, so the agent can ask a person
    to release it. Never its subject, text, HTML or attachments, nor what the detectors found
    in it (a person reads those through ``/analysis`` and ``/raw``, audited)."""

    id: uuid.UUID
    inbox_id: uuid.UUID
    thread_id: uuid.UUID | None
    status: Literal["withheld"] = "withheld"
    from_address: str
    subject_sha256: str = Field(description="SHA-256 of the subject, hex: never the subject.")
    withheld_reason: str | None = Field(
        description="Why it is withheld: codes such as detectors, malware.eicar, "
        "blocked_sender, analysis_failed, lookalike_domain."
    )
    consensus: str
    risk_score: int
    risk_reasons: list[str] = Field(description="Sender-graph signals, as codes only.")
    received_at: datetime


def _kind(value: Any) -> str:
    status = value.get("status") if isinstance(value, dict) else getattr(value, "status", None)
    return "withheld" if status == "withheld" else "message"


MessageView = Annotated[
    Annotated[MessageOut, Tag("message")] | Annotated[WithheldOut, Tag("withheld")],
    Discriminator(_kind),
]
"""A message as ``read:mail`` reads it: whole (sanitised) or, while withheld, a stub."""


class AnalysisOut(BaseModel):
    """Everything the pipeline found, for a person: the detectors' reasons may quote the mail."""

    id: uuid.UUID
    status: str
    quarantine_reason: str | None
    defects: list[str]
    attachments: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    verdicts: list[dict[str, Any]]
    authentication: dict[str, Any] | None


class MessagePage(BaseModel):
    """A page of messages, newest first; pass ``next_cursor`` as ``cursor`` for the next."""

    items: list[MessageView]
    next_cursor: str | None


class ThreadOut(BaseModel):
    """A conversation's inbound messages, oldest first."""

    id: uuid.UUID
    messages: list[MessageView]


def withheld_out(message: Message) -> WithheldOut:
    view = shown(message)
    return WithheldOut(
        id=message.id,
        inbox_id=message.inbox_id,
        thread_id=message.thread_id,
        from_address=view.from_address,
        subject_sha256=subject_hash(message.subject),
        withheld_reason=view.withheld_reason,
        consensus=message.consensus,
        risk_score=message.risk_score,
        risk_reasons=view.risk_reasons,
        received_at=message.received_at,
    )


def message_view(
    message: Message,
    verdicts: list[ScanVerdictRecord] | None = None,
    raw: RawMessage | None = None,
) -> MessageOut | WithheldOut:
    """The stub while withheld, else the message as an agent may read it."""
    if shown(message).withheld:
        return withheld_out(message)
    return message_out(message, verdicts, raw)


def message_out(
    message: Message,
    verdicts: list[ScanVerdictRecord] | None = None,
    raw: RawMessage | None = None,
) -> MessageOut:
    view = shown(message)
    detailed = not view.withheld
    return MessageOut(
        id=message.id,
        inbox_id=message.inbox_id,
        thread_id=message.thread_id,
        status=message.status,
        from_address=view.from_address,
        subject=view.subject,
        subject_sha256=subject_hash(message.subject),
        text=view.text,
        consensus=message.consensus,
        risk_score=message.risk_score,
        risk_reasons=view.risk_reasons,
        withheld_reason=view.withheld_reason,
        received_at=message.received_at,
        verdicts=None if verdicts is None or not detailed else [_verdict(v) for v in verdicts],
        findings=None if raw is None or not detailed else _findings(raw.findings),
        authentication=None
        if raw is None or not detailed
        else agent_authentication(raw.authentication),
    )


def _verdict(record: ScanVerdictRecord) -> VerdictOut:
    return VerdictOut(
        detector=record.detector,
        detector_name=record.detector_name,
        detector_version=record.detector_version,
        score=record.score,
        flagged=record.flagged,
        findings=_findings(record.findings),
        findings_dropped=record.findings_dropped,
        error=None if record.error is None else record.error.split(":", 1)[0],
        latency_ms=record.latency_ms,
        coverage=list(record.coverage),
        shadow=record.shadow,
    )


def _findings(findings: list[dict[str, Any]]) -> list[FindingOut]:
    return [FindingOut.model_validate(f) for f in agent_findings(findings)]


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
    """Newest first, withheld mail included as stubs (``status: withheld``: who sent it, the
    subject's SHA-256 and why, never its content); ``status`` keeps to one status."""
    after = decode_cursor(cursor) if cursor else None
    async with db.begin():
        repo = WorkspaceRepository(db, who.workspace_id)
        inbox = await repo.inbox(slug)
        rows = await repo.messages(
            inbox,
            statuses=(status,) if status else LISTED_BY_DEFAULT,
            sender=sender,
            since=since,
            after=after,
            limit=limit + 1,
        )
    page, next_cursor = page_of(rows, limit, lambda m: (m.received_at, m.id))
    return MessagePage(items=[message_view(m) for m in page], next_cursor=next_cursor)


@router.get("/messages/{message_id}")
async def get_message(
    message_id: uuid.UUID,
    db: SessionDep,
    who: Reader,
    view: Annotated[Literal["plain", "spotlighted"], Query()] = "plain",
) -> MessageView:
    """One message; ``view=spotlighted`` adds the body datamarked for the agent's prompt. A
    withheld message answers its stub only, whoever asks."""
    async with db.begin():
        repo = WorkspaceRepository(db, who.workspace_id)
        message = await repo.message(message_id)
        if shown(message).withheld:
            return withheld_out(message)
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


@router.get("/messages/{message_id}/analysis")
async def get_message_analysis(
    message_id: uuid.UUID,
    db: SessionDep,
    who: Annotated[Caller, Depends(require("read:mail.raw"))],
) -> AnalysisOut:
    """What ingest and both detectors found, with their reasons, which may quote the mail
    (attachment names, matched text): a person's view, audited like the original."""
    async with db.begin():
        repo = WorkspaceRepository(db, who.workspace_id)
        message = await repo.message(message_id)
        raw = await repo.raw(message)
        verdicts = await repo.verdicts(message.mail_id)
        who.audit(
            db, action="message.analysis_read", ref=message.id, target=f"message:{message.id}"
        )
    structured = raw.structured or {}
    return AnalysisOut(
        id=message.id,
        status=message.status,
        quarantine_reason=raw.quarantine_reason,
        defects=list(structured.get("defects", ())),
        attachments=[_attachment(a) for a in structured.get("attachments", ())],
        findings=list(raw.findings),
        verdicts=[_full_verdict(v) for v in verdicts],
        authentication=raw.authentication,
    )


def _attachment(attachment: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attachment.items() if k != "text"}


def _full_verdict(record: ScanVerdictRecord) -> dict[str, Any]:
    return {
        "detector": record.detector,
        "detector_name": record.detector_name,
        "score": record.score,
        "flagged": record.flagged,
        "findings": list(record.findings),
        "findings_dropped": record.findings_dropped,
        "error": record.error,
        "coverage": list(record.coverage),
        "shadow": record.shadow,
    }


@router.post("/messages/{message_id}/release")
async def release_message(
    message_id: uuid.UUID,
    db: SessionDep,
    who: ReviewerDep,
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
    return ThreadOut(id=thread_id, messages=[message_view(m) for m in messages])
