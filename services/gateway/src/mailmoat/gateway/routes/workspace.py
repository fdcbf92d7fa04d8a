"""The caller's workspace: plan, credits and the outbound kill switch."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from mailmoat.common.credits import credit_standing
from mailmoat.common.events.base import utcnow
from mailmoat.common.observability.committed import on_commit
from mailmoat.common.observability.metrics import KILL_SWITCH_CHANGES
from mailmoat.gateway.cursors import decode_cursor, encode_cursor
from mailmoat.gateway.deps import Caller, CallerDep, SessionDep, require
from mailmoat.gateway.repository import WorkspaceRepository

router = APIRouter(prefix="/api/v1/workspace", tags=["workspace"])


class WorkspaceOut(BaseModel):
    """A workspace as the API shows it."""

    id: uuid.UUID
    name: str
    plan: str
    outbound_enabled: bool
    sending_status: str = "active"
    """Reputation's word on the workspace's sends together (see the inbox's)."""
    sending_status_until: datetime | None = None
    created_at: datetime


class WorkspacePatch(BaseModel):
    """Request body of ``PATCH /api/v1/workspace``; ``outbound_enabled: false`` is the kill
    switch, checked again by dispatch at the moment of sending."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    outbound_enabled: bool | None = None


class CreditOut(BaseModel):
    """One ledger entry: negative for a charge, with the message or send it paid for."""

    id: uuid.UUID
    amount: int
    reason: str
    ref_id: uuid.UUID | None
    """The message (``/messages/{id}``) or send (``/outbound/{id}``) charged for."""
    balance_after: int
    """What was left of the month's allowance after this entry (never below 0)."""
    overage_after: int
    """Credits the month had used beyond its allowance after this entry."""
    created_at: datetime


class CreditPage(BaseModel):
    """The month's credits and a page of the ledger, newest first; ``next_cursor`` goes on.

    The plan gives ``allowance`` credits per calendar month (UTC); charges draw ``balance``
    down from it. At 0 nothing is refused or left unscanned: usage beyond the allowance is
    ``overage`` and ``over_allowance`` is true until ``resets_at``."""

    plan: str
    period: str
    resets_at: datetime
    allowance: int
    used: int
    balance: int
    overage: int
    over_allowance: bool
    items: list[CreditOut]
    next_cursor: str | None


@router.get("")
async def get_workspace(db: SessionDep, who: CallerDep) -> WorkspaceOut:
    async with db.begin():
        found = await WorkspaceRepository(db, who.workspace_id).workspace()
        return WorkspaceOut.model_validate(found, from_attributes=True)


@router.patch("")
async def patch_workspace(
    body: WorkspacePatch,
    db: SessionDep,
    who: Annotated[Caller, Depends(require("admin:workspace"))],
) -> WorkspaceOut:
    async with db.begin():
        found = await WorkspaceRepository(db, who.workspace_id).workspace()
        target = f"workspace:{found.id}"
        if body.name is not None and body.name != found.name:
            found.name = body.name
            who.audit(db, action="workspace.renamed", ref=found.id, target=target)
        if body.outbound_enabled is not None and body.outbound_enabled != found.outbound_enabled:
            found.outbound_enabled = body.outbound_enabled
            action = "enabled" if body.outbound_enabled else "disabled"
            who.audit(db, action=f"workspace.outbound_{action}", ref=found.id, target=target)
            on_commit(db, KILL_SWITCH_CHANGES.labels("off" if body.outbound_enabled else "on").inc)
        return WorkspaceOut.model_validate(found, from_attributes=True)


@router.get("/credits")
async def get_credits(
    db: SessionDep,
    who: Annotated[Caller, Depends(require("read:audit"))],
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CreditPage:
    """Inbound mail 1, AI analysis (L2 and up) 2, a sent message 3, a review event 1."""
    after = decode_cursor(cursor) if cursor else None
    async with db.begin():
        repo = WorkspaceRepository(db, who.workspace_id)
        workspace = await repo.workspace()
        month = credit_standing(workspace, utcnow())
        rows = await repo.credit_entries(after=after, limit=limit + 1)
    page = rows[:limit]
    last = page[-1] if len(rows) > limit else None
    return CreditPage(
        plan=workspace.plan,
        period=month.period,
        resets_at=month.resets_at,
        allowance=month.allowance,
        used=month.used,
        balance=month.balance,
        overage=month.overage,
        over_allowance=month.overage > 0,
        items=[CreditOut.model_validate(r, from_attributes=True) for r in page],
        next_cursor=encode_cursor(last.created_at, last.id) if last else None,
    )
