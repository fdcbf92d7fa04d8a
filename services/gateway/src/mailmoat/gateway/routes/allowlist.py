"""Outbound recipient allowlist; a new address becomes sendable 60 s after it was added."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, EmailStr

from mailmoat.common.db.tables import AllowlistEntry
from mailmoat.common.events.base import utcnow
from mailmoat.gateway.cursors import CursorParam, LimitParam, decode_cursor, page_of
from mailmoat.gateway.deps import Caller, SessionDep, require
from mailmoat.gateway.idempotency import Claim, claim
from mailmoat.gateway.problems import Problem
from mailmoat.gateway.repository import WorkspaceRepository

router = APIRouter(prefix="/api/v1/allowlist", tags=["allowlist"])

COOLDOWN = timedelta(seconds=60)


class AllowlistCreate(BaseModel):
    """Request body of ``POST /api/v1/allowlist``."""

    model_config = ConfigDict(extra="forbid")

    address: EmailStr
    allow_html: bool = False


class AllowlistOut(BaseModel):
    """An allowlist row."""

    id: uuid.UUID
    address: str
    allow_html: bool
    added_at: datetime
    active_from: datetime


class AllowlistPage(BaseModel):
    """Allowlist rows, oldest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    items: list[AllowlistOut]
    next_cursor: str | None


@router.get("")
async def list_allowlist(
    db: SessionDep,
    who: Annotated[Caller, Depends(require("read:mail"))],
    cursor: CursorParam = None,
    limit: LimitParam = 50,
) -> AllowlistPage:
    after = decode_cursor(cursor) if cursor else None
    async with db.begin():
        repo = WorkspaceRepository(db, who.workspace_id)
        rows = await repo.allowlist(after=after, limit=limit + 1)
    page, next_cursor = page_of(rows, limit, lambda r: (r.added_at, r.id))
    items = [AllowlistOut.model_validate(r, from_attributes=True) for r in page]
    return AllowlistPage(items=items, next_cursor=next_cursor)


@router.post("", status_code=201, response_model=AllowlistOut)
async def add_to_allowlist(
    body: AllowlistCreate,
    request: Request,
    db: SessionDep,
    who: Annotated[Caller, Depends(require("write:allowlist"))],
) -> Any:
    address = body.address.lower()
    now = utcnow()
    async with db.begin():
        held = await claim(request, db, who.workspace_id)
        if not isinstance(held, Claim):
            return held
        repo = WorkspaceRepository(db, who.workspace_id)
        if await repo.allowlist_entry(address) is not None:
            raise Problem(409, "already_allowed", f"{address} is already on the allowlist")
        entry = AllowlistEntry(
            workspace_id=who.workspace_id,
            address=address,
            allow_html=body.allow_html,
            added_at=now,
            active_from=now + COOLDOWN,
        )
        db.add(entry)
        await db.flush()
        who.audit(db, action="allowlist.added", ref=entry.id, target=address)
        out = AllowlistOut.model_validate(entry, from_attributes=True)
        held.finish(201, out)
    return out


@router.delete("/{entry_id}", status_code=204)
async def remove_from_allowlist(
    entry_id: uuid.UUID,
    db: SessionDep,
    who: Annotated[Caller, Depends(require("write:allowlist"))],
) -> Response:
    """Remove a recipient; sends to it are refused from the next policy decision on."""
    async with db.begin():
        entry = await WorkspaceRepository(db, who.workspace_id).allowlist_row(entry_id)
        await db.delete(entry)
        who.audit(db, action="allowlist.removed", ref=entry.id, target=entry.address)
    return Response(status_code=204)
