"""The caller's workspace: plan, credits and the outbound kill switch."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from mailmoat.gateway.deps import Caller, CallerDep, SessionDep, require
from mailmoat.gateway.repository import WorkspaceRepository

router = APIRouter(prefix="/api/v1/workspace", tags=["workspace"])


class WorkspaceOut(BaseModel):
    """A workspace as the API shows it."""

    id: uuid.UUID
    name: str
    plan: str
    outbound_enabled: bool
    credits_balance: int
    created_at: datetime


class WorkspacePatch(BaseModel):
    """Request body of ``PATCH /api/v1/workspace``; ``outbound_enabled: false`` is the kill
    switch, checked again by dispatch at the moment of sending."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    outbound_enabled: bool | None = None


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
        return WorkspaceOut.model_validate(found, from_attributes=True)
