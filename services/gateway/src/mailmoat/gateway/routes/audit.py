"""The workspace's append-only audit log, newest first, with cursor pagination."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from mailmoat.gateway.cursors import decode_cursor, encode_cursor
from mailmoat.gateway.deps import Caller, SessionDep, require
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


class AuditPage(BaseModel):
    """A page of audit rows; pass ``next_cursor`` as ``cursor`` for the next, older page."""

    items: list[AuditOut]
    next_cursor: str | None


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
