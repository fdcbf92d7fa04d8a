"""The workspace's append-only audit log, newest first, with cursor pagination; and the check of
its hash chain (``/verify``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from mailmoat.common.audit_seal import trusted_keys, verify
from mailmoat.gateway.cursors import decode_cursor, encode_cursor
from mailmoat.gateway.deps import Caller, SessionDep, require
from mailmoat.gateway.problems import invalid
from mailmoat.gateway.repository import WorkspaceRepository

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class AuditOut(BaseModel):
    """One audit row: subjects appear only as their SHA-256."""

    id: uuid.UUID
    action: str
    actor: str
    source: str
    provider: str | None = None
    """The outside service an outbound call went to (``smtp:host:port`` for a send)."""
    target: str
    subject_sha256: str | None
    detail: dict[str, Any] | None = None
    """What an action changed, such as a reviewer's edit of a held send (as a diff)."""
    created_at: datetime
    seq: int | None = None
    """Its place in the workspace's hash chain (``GET /audit/verify``); none until sealed, about
    a second after it was written."""
    prev_sha256: str | None = None
    """The hash of the row before it in the chain."""
    row_sha256: str | None = None
    """Its own hash, over its fields, its place and that link."""


class AuditPage(BaseModel):
    """A page of audit rows; pass ``next_cursor`` as ``cursor`` for the next, older page."""

    items: list[AuditOut]
    next_cursor: str | None


class BrokenLink(BaseModel):
    """Where the chain first fails to hold."""

    seq: int
    """The place in the chain (the row there, or the first place missing)."""
    row_id: uuid.UUID | None
    reason: str


class ChainHead(BaseModel):
    seq: int
    sha256: str


class ChainCheck(BaseModel):
    """The workspace's audit chain, checked from its first row: every row's hash, every link,
    every place, and every checkpoint's signature and head."""

    workspace_id: uuid.UUID
    intact: bool
    rows_checked: int
    head: ChainHead
    checkpoints_verified: int
    unsealed_rows: int
    """Rows committed but not linked into the chain yet (the sealer runs every second or so)."""
    first_broken_link: BrokenLink | None


@router.get("/verify")
async def verify_audit(
    request: Request,
    db: SessionDep,
    who: Annotated[Caller, Depends(require("read:audit"))],
    expect_seq: Annotated[int | None, Query(ge=1)] = None,
    expect_sha256: Annotated[str | None, Query(pattern="^[0-9a-f]{64}$")] = None,
) -> ChainCheck:
    """Check the workspace's audit chain. ``expect_seq`` and ``expect_sha256``: a checkpoint
    kept outside (from the audit stream), which alone shows rows cut from the chain's end."""
    settings = request.app.state.runtime.settings
    if (expect_seq is None) != (expect_sha256 is None):
        missing = "expect_sha256" if expect_sha256 is None else "expect_seq"
        raise invalid(["query", missing], "expect_seq and expect_sha256 go together")
    expected = (expect_seq, expect_sha256) if expect_seq and expect_sha256 else None
    async with db.begin():
        verdict = await verify(db, who.workspace_id, trusted_keys(settings), expected)
    return ChainCheck.model_validate(verdict.as_json())


@router.get("")
async def list_audit(
    db: SessionDep,
    who: Annotated[Caller, Depends(require("read:audit"))],
    action: Annotated[str | None, Query(max_length=100)] = None,
    since: datetime | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditPage:
    after = decode_cursor(cursor) if cursor else None
    async with db.begin():
        rows = await WorkspaceRepository(db, who.workspace_id).audit(
            after=after, action=action, since=since, limit=limit + 1
        )
    page, more = rows[:limit], len(rows) > limit
    items = [AuditOut.model_validate(r, from_attributes=True) for r in page]
    last = page[-1] if page else None
    return AuditPage(
        items=items, next_cursor=encode_cursor(last.created_at, last.id) if more and last else None
    )
