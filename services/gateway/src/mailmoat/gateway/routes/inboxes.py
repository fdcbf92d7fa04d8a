"""Inboxes: create and read ``{slug}@{domain}`` addresses with a security level."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from mailmoat.common.db.tables import Inbox
from mailmoat.gateway.deps import Caller, SessionDep, require, runtime
from mailmoat.gateway.problems import Problem
from mailmoat.gateway.repository import WorkspaceRepository

router = APIRouter(prefix="/api/v1/inboxes", tags=["inboxes"])

Level = Literal["L1", "L2", "L3", "L4"]
LEVEL_PLANS = {"L3": ("developer", "startup", "enterprise"), "L4": ("startup", "enterprise")}
MINIMUM_PLAN = {"L3": "developer", "L4": "startup"}


class InboxCreate(BaseModel):
    """Request body of ``POST /api/v1/inboxes``."""

    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=r"^[a-z0-9](?:[a-z0-9.-]{0,62}[a-z0-9])?$")
    security_level: Level = "L2"
    webhook_url: HttpUrl | None = None


class InboxOut(BaseModel):
    """An inbox as the API shows it."""

    id: uuid.UUID
    slug: str
    address: str
    security_level: str
    webhook_url: str | None
    sending_status: str
    created_at: datetime


def inbox_out(inbox: Inbox) -> InboxOut:
    return InboxOut.model_validate(inbox, from_attributes=True)


def check_plan(plan: str, level: str) -> None:
    """L3 needs Developer or above, L4 Startup or above (403 naming the plan needed)."""
    if level in LEVEL_PLANS and plan not in LEVEL_PLANS[level]:
        needed = MINIMUM_PLAN[level]
        raise Problem(
            403, "plan_required", f"{level} needs the {needed} plan or above", required_plan=needed
        )


@router.post("", status_code=201)
async def create_inbox(
    body: InboxCreate,
    request: Request,
    db: SessionDep,
    who: Annotated[Caller, Depends(require("write:inbox"))],
) -> InboxOut:
    address = f"{body.slug}@{runtime(request).settings.mail_domain}"
    async with db.begin():
        repo = WorkspaceRepository(db, who.workspace_id)
        workspace = await repo.workspace()
        check_plan(workspace.plan, body.security_level)
        if await repo.address_taken(address):
            raise Problem(409, "inbox_exists", f"The address {address} is taken")
        inbox = Inbox(
            workspace_id=who.workspace_id,
            slug=body.slug,
            address=address,
            security_level=body.security_level,
            webhook_url=str(body.webhook_url) if body.webhook_url else None,
        )
        db.add(inbox)
        await db.flush()
        who.audit(db, action="inbox.created", ref=inbox.id, target=f"inbox:{inbox.id}")
    return inbox_out(inbox)


@router.get("/{slug}")
async def get_inbox(
    slug: str, db: SessionDep, who: Annotated[Caller, Depends(require("read:mail"))]
) -> InboxOut:
    async with db.begin():
        return inbox_out(await WorkspaceRepository(db, who.workspace_id).inbox(slug))
